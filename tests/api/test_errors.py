"""Every failure is one problem response: no traceback, no secret, the right status."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from salesml import analytics, api, db
from salesml.config import Settings
from salesml.errors import DatabasePermissionError
from tests.api.conftest import V1, assert_problem, make_settings, monthly_sales_csv


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


def test_the_interactive_docs_load_every_asset_from_this_server(client):
    page = client.get(f"{V1}/docs").text
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page)
    assert assets
    for asset in assets:
        assert asset.startswith(f"{V1}/"), asset  # no CDN: blank offline, a third party's code
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert response.content


def test_the_schema_declares_errors_as_problems(client):
    schema = client.get(f"{V1}/openapi.json").json()
    responses = schema["paths"]["/models/{model_id}/forecast"]["post"]["responses"]
    assert set(responses["404"]["content"]) == {"application/problem+json"}
    assert set(responses["422"]["content"]) == {"application/problem+json"}


@pytest.fixture
def reader_url(mysql_server_url: str) -> Iterator[str]:
    """A migrated MariaDB/MySQL database and the URL of a user who may only read it."""
    from tests.conftest import _empty_mysql

    admin = _empty_mysql(mysql_server_url)
    db.init_db(admin)
    url = make_url(mysql_server_url)
    name, password = f"reader_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE USER '{name}'@'%%' IDENTIFIED BY '{password}'")
        conn.exec_driver_sql(f"GRANT SELECT ON `{url.database}`.* TO '{name}'@'%%'")
    try:
        yield url.set(username=name, password=password).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP USER '{name}'@'%%'")
        admin.dispose()


@pytest.mark.mysql
def test_a_database_user_without_a_right_gets_a_lasting_problem_naming_it(reader_url, tmp_path):
    found = api.standalone(make_settings(reader_url, tmp_path))
    with TestClient(api.asgi(found), base_url="http://localhost") as client:
        assert client.get(f"{V1}/batches").status_code == 200
        response = client.post(f"{V1}/sales", files={"file": ("m.csv", monthly_sales_csv())})
    found.engine().dispose()
    body = assert_problem(
        response, 500, "the database user lacks INSERT on ingest_batches: an administrator"
    )
    assert "retry-after" not in response.headers  # waiting will not give it the right
    # The account, its host and the server are for the server's log, not for every client.
    user, host = make_url(reader_url).username, make_url(reader_url).host
    assert user not in response.text and f"@{host}" not in response.text
    assert "127.0.0.1" not in body["detail"] and "mysql" not in body["detail"].lower()


@pytest.mark.parametrize(
    ("code", "message", "fragment"),
    [
        (
            1142,
            "INSERT command denied to user 'r'@'h' for table `s`.`sales_data`",
            "INSERT on sales_data",
        ),
        (
            1142,
            "DELETE command denied to user 'r'@'h' for table 'ingest_batches'",
            "DELETE on ingest_batches",
        ),
        (1044, "Access denied for user 'r'@'h' to database 'sales'", "lacks a right"),
        (1045, "Access denied for user 'r'@'h' (using password: YES)", "refused the sign-in"),
        (1227, "Access denied; you need (at least one of) the SUPER privilege", "lacks a right"),
    ],
)
def test_a_permission_error_is_not_called_busy_or_unreachable(code, message, fragment):
    error = db.database_error(sa.exc.OperationalError("INSERT ...", {}, Exception(code, message)))
    assert isinstance(error, DatabasePermissionError)
    assert fragment in str(error)
    assert "try again" not in str(error)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (1142, "INSERT command denied to user 'r'@'h' for table `s`.`sales_data`"),
        (1044, "Access denied for user 'r'@'h' to database 'sales'"),
        (1045, "Access denied for user 'r'@'h' (using password: YES)"),
    ],
)
def test_a_permission_error_names_no_account_or_database_but_logs_them(code, message, caplog):
    engine = sa.create_engine("mysql+pymysql://r:secret@db.internal:3306/sales")
    with caplog.at_level(logging.WARNING, logger="salesml.db"):
        error = db.database_error(
            sa.exc.OperationalError("INSERT ...", {}, Exception(code, message)), engine
        )
    for private in ("'r'@'h'", "db.internal", "sales'", "secret"):
        assert private not in str(error)
    assert "'r'@'h'" in caplog.text and "db.internal" in caplog.text
    assert "secret" not in caplog.text


def test_an_upload_the_client_abandons_is_one_log_line(services, caplog):
    """A client that goes away mid-upload is no fault of the server: one line, no traceback."""
    body = b"--b\r\nContent-Disposition: form-data; name=file; filename=a.csv\r\n\r\ndate,"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": f"{V1}/sales",
        "raw_path": f"{V1}/sales".encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"localhost"),
            (b"content-type", b"multipart/form-data; boundary=b"),
            (b"content-length", b"100000"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 80),
    }
    messages = [
        {"type": "http.request", "body": body, "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        pass

    caplog.set_level(logging.INFO)
    asyncio.run(api.asgi(services)(scope, receive, send))
    [record] = [r for r in caplog.records if r.name.startswith("salesml")]
    assert record.exc_info is None and "\n" not in record.getMessage()
    assert "POST" in record.getMessage() and "went away" in record.getMessage()


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("OPTIONS", "/batches/1", "DELETE, GET"),
        ("PUT", "/models/1", "DELETE, GET"),
        ("PATCH", "/sales", "POST"),
        ("DELETE", "/sales/summary", "GET"),
        ("GET", "/session", "POST"),  # a route the schema does not publish
    ],
)
def test_a_method_not_allowed_lists_every_method_the_path_takes(client, method, path, allowed):
    response = client.request(method, f"{V1}{path}")
    assert_problem(response, 405)
    assert response.headers["allow"] == allowed


def test_an_unexpected_failure_ends_with_its_problem_and_goes_no_further(client, monkeypatch):
    """The handler logs it once; raised on to the server, it was logged a second time and
    the keep-alive connection dropped (the test client raises what reaches the server)."""

    def fail(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(analytics, "summarise", fail)
    assert_problem(client.get(f"{V1}/sales/summary"), 500, "unexpected RuntimeError")
    assert client.get(f"{V1}/health").status_code == 200
