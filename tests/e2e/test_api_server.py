"""The REST API answers on the app's own port, and what it does shows in the app."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from salesml.zoo import model_label
from tests.e2e.conftest import serve_app
from tests.e2e.test_browser import heading, keyed, open_page, settled, write_sales_csv

V1 = "/api/v1"


def call(url: str, method: str = "GET", body: object = None) -> tuple[int, dict]:
    """One JSON request to the running server; returns status and body (errors included)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def upload(url: str, path: Path) -> tuple[int, dict]:
    """POST a file as multipart/form-data, as `curl -F file=@...` does."""
    import requests

    with path.open("rb") as handle:
        response = requests.post(url, files={"file": (path.name, handle)}, timeout=120)
    return response.status_code, response.json()


@pytest.mark.e2e
def test_sales_in_forecast_out_over_http_show_in_the_app(page: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)
    csv = write_sales_csv(tmp_path / "shop-export.csv")
    with serve_app(f"sqlite:///{tmp_path / 'salesml.db'}", tmp_path / "app-data") as app:
        status, health = call(f"{app.url}{V1}/health")
        assert (status, health["status"], health["database"]) == (200, "ok", "sqlite")

        status, summary = upload(f"{app.url}{V1}/sales", csv)
        assert status == 201, summary
        assert (summary["rows_loaded"], summary["rows_rejected"]) == (2192, 1)

        status, accepted = call(
            f"{app.url}{V1}/models",
            "POST",
            {"level": "category", "horizon": 3, "models": ["lr", "snaive", "ets"]},
        )
        assert status == 202, accepted
        deadline = time.monotonic() + 300
        while (job := call(f"{app.url}{V1}/jobs/{accepted['job_id']}")[1])["status"] not in (
            "done",
            "failed",
        ):
            assert time.monotonic() < deadline, job
            time.sleep(0.5)
        assert job["status"] == "done", job["error"]

        status, forecast = call(
            f"{app.url}{V1}/models/{job['model_id']}/forecast",
            "POST",
            {"horizon": 6, "save": True},
        )
        assert status == 200, forecast
        assert len(forecast["points"]) == 12

        # The app on the same port shows the sales, the model and the stored run.
        page.goto(app.url)
        expect(heading(page, "Overview")).to_be_visible()
        expect(page.get_by_text("The database is empty")).to_have_count(0)
        settled(page)
        open_page(page, "Forecast")
        chosen = page.locator(keyed("forecast_model")).get_by_role("combobox")
        label = f"#{job['model_id']} {model_label(forecast['model'])} · category monthly revenue"
        expect(chosen).to_have_value(f"{label} · data Jan 2022–Dec 2024")
        open_page(page, "Predictions")
        run = page.locator(keyed("run")).get_by_role("combobox")
        expect(run).to_have_value(re.compile(rf"^{forecast['run_id'][:8]} · #{job['model_id']} "))
