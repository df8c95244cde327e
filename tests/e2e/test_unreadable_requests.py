"""A request the server cannot even parse still gets a problem, as every API answer does."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import RunningApp


@pytest.mark.e2e
def test_a_query_string_too_long_to_read_is_a_400_problem(app_server: RunningApp) -> None:
    address = urlsplit(app_server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        connection.request("GET", "/api/v1/sales/summary?product=" + "x" * 70_000)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status == 400
    assert response.getheader("content-type") == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == 400 and "64 KB" in problem["detail"]
