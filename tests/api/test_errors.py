"""Every failure is one problem response: no traceback, no secret, the right status."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from salesml import analytics, api
from salesml.config import Settings
from tests.api.conftest import V1, assert_problem


def test_an_unknown_path_or_method_is_a_problem(client):
    assert_problem(client.get(f"{V1}/nothing-here"), 404)
    assert_problem(client.get(f"{V1}/jobs/a%0Ab"), 404, "training job")
    assert_problem(client.put(f"{V1}/batches"), 405)


def test_an_unexpected_failure_is_a_500_problem_without_traceback_or_password(
    services, monkeypatch
):
    def fail(*args, **kwargs):
        raise RuntimeError("lost mysql+pymysql://sales:hunter2@db.internal/sales\nline two")

    monkeypatch.setattr(analytics, "summarise", fail)
    with TestClient(
        api.asgi(services), raise_server_exceptions=False, base_url="http://localhost"
    ) as client:
        response = client.get(f"{V1}/sales/summary")
    body = assert_problem(response, 500, "unexpected RuntimeError")
    assert "hunter2" not in response.text
    assert "line two" not in body["detail"]


def test_a_database_failure_is_one_line_without_the_password(services, monkeypatch):
    def fail(*args, **kwargs):
        raise sa.exc.OperationalError(
            "SELECT ...", {}, Exception("lost mysql+pymysql://sales:hunter2@db/sales\nline two")
        )

    monkeypatch.setattr(analytics, "summarise", fail)
    with TestClient(api.asgi(services), base_url="http://localhost") as client:
        response = client.get(f"{V1}/sales/summary")
    body = assert_problem(response, response.status_code)
    assert response.status_code in (409, 503)
    assert "hunter2" not in response.text and "line two" not in body["detail"]


def test_an_unreachable_database_is_503_with_retry_after(tmp_path):
    url = "mysql+pymysql://salesml:secret-pw@127.0.0.1:1/salesml"
    found = api.standalone(Settings(url, tmp_path, tmp_path / "models"))
    with TestClient(api.asgi(found), base_url="http://localhost") as client:
        response = client.get(f"{V1}/health")
    assert_problem(response, 503, "cannot reach the database")
    assert response.headers["retry-after"]
    assert "secret-pw" not in response.text


@pytest.mark.parametrize("path", ["/openapi.json", "/docs"])
def test_the_schema_and_the_interactive_docs_are_served(client, path):
    response = client.get(V1 + path)
    assert response.status_code == 200
    if path == "/docs":
        assert f"{V1}/openapi.json" in response.text


def test_the_schema_declares_errors_as_problems(client):
    schema = client.get(f"{V1}/openapi.json").json()
    responses = schema["paths"]["/models/{model_id}/forecast"]["post"]["responses"]
    assert set(responses["404"]["content"]) == {"application/problem+json"}
    assert set(responses["422"]["content"]) == {"application/problem+json"}
