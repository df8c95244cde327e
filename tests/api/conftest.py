"""The API on an empty database of each backend, driven in-process by the ASGI test client."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from starlette.testclient import TestClient

from salesml import api
from salesml.config import Settings

V1 = api.PREFIX


def make_settings(database_url: str, tmp_path: Path, **overrides) -> Settings:
    """Settings on this database with a model directory of the test's own."""
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        model_dir=tmp_path / "models",
        **overrides,
    )


@pytest.fixture
def services(database_url: str, tmp_path: Path) -> Iterator[api.Services]:
    """The API's services on an empty database, once per backend."""
    found = api.standalone(make_settings(database_url, tmp_path))
    yield found
    found.jobs.shutdown()
    found.engine().dispose()


@pytest.fixture
def client(services: api.Services) -> Iterator[TestClient]:
    """A client of the API as the server mounts it (paths start with /api/v1)."""
    # Addressed to localhost: without users the API answers requests for this machine only.
    with TestClient(api.asgi(services), base_url="http://localhost") as test_client:
        yield test_client


def monthly_sales_csv(months: int = 36) -> bytes:
    """Three years of monthly sales of four products in two categories, with a season."""
    rng = np.random.default_rng(3)
    lines = ["date,product,category,quantity,revenue"]
    products = [("Kettle", "Kitchen"), ("Toaster", "Kitchen"), ("Lamp", "Home"), ("Rug", "Home")]
    for month in range(months):
        year, moy = 2022 + month // 12, month % 12 + 1
        for index, (product, category) in enumerate(products):
            quantity = int(20 + 5 * index + 8 * np.sin(moy / 12 * 2 * np.pi) + rng.integers(0, 4))
            lines.append(
                f"{year}-{moy:02d}-01,{product},{category},{quantity},{quantity * (10 + index):.2f}"
            )
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def loaded(client: TestClient) -> dict:
    """The three years of monthly sales loaded through the API; returns the ingest summary."""
    response = client.post(f"{V1}/sales", files={"file": ("monthly.csv", monthly_sales_csv())})
    assert response.status_code == 201, response.text
    return response.json()


def wait_for_job(
    client: TestClient, job_id: str, timeout: float = 120, headers: dict | None = None
) -> dict:
    """Poll a training job until it is done or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"{V1}/jobs/{job_id}", headers=headers)
        assert response.status_code == 200, response.text
        job = response.json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish within {timeout}s: {job}")


@pytest.fixture
def trained(client: TestClient, loaded: dict) -> int:
    """A category-level monthly model trained through the API; returns its id."""
    response = client.post(
        f"{V1}/models",
        json={"level": "category", "freq": "M", "horizon": 3, "models": ["snaive", "lr"]},
    )
    assert response.status_code == 202, response.text
    job = wait_for_job(client, response.json()["job_id"])
    assert job["status"] == "done", job
    return job["model_id"]


def assert_problem(response, status: int, *fragments: str) -> dict:
    """The response is an RFC 9457 problem with this status naming each fragment."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    for fragment in fragments:
        assert fragment in body["detail"], body
    assert "Traceback" not in response.text
    return body


Request = Callable[..., object]
