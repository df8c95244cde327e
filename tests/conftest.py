"""Shared fixtures: one database engine per backend, SQLite always, MySQL when configured."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from salesml.db import create_engine_for, init_db

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MYSQL_URL = os.environ.get("SALESML_TEST_MYSQL_URL", "")
REQUIRE_MYSQL = os.environ.get("SALESML_REQUIRE_MYSQL") == "1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by what it needs, so `make test-fast` can leave those out: the browser
    tests (tests/e2e) `e2e`, a test on MySQL `mysql`, a test of the real files `realdata`."""
    e2e = Path(__file__).parent / "e2e"
    for item in items:
        if e2e in item.path.parents:
            item.add_marker(pytest.mark.e2e)
        if "mysql_server_url" in item.fixturenames:
            item.add_marker(pytest.mark.mysql)
        if "shared_data" in item.fixturenames:
            item.add_marker(pytest.mark.realdata)


def _skip_or_fail(reason: str, required: bool) -> None:
    if required:
        pytest.fail(f"{reason} (required here: the run sets the flag that forbids skipping)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def mysql_server_url() -> Iterator[str]:
    """A fresh, empty MySQL database for this test session, dropped afterwards."""
    if not MYSQL_URL:
        _skip_or_fail("MySQL tests need SALESML_TEST_MYSQL_URL", REQUIRE_MYSQL)
    url = make_url(MYSQL_URL)
    name = f"salesml_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine_for(MYSQL_URL)
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    except sa.exc.OperationalError as exc:
        _skip_or_fail(f"MySQL at {url.host}:{url.port} is not reachable: {exc.orig}", REQUIRE_MYSQL)
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()


def _empty_mysql(url: str) -> Engine:
    engine = create_engine_for(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
        for (table,) in conn.exec_driver_sql("SHOW TABLES").all():
            conn.exec_driver_sql(f"DROP TABLE `{table}`")
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")
    return engine


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database, once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'salesml.db'}"
    url = request.getfixturevalue("mysql_server_url")
    _empty_mysql(url).dispose()
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on an empty, migrated database, once per backend."""
    engine = create_engine_for(database_url)
    init_db(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite database, for tests that are not about persistence."""
    engine = create_engine_for(f"sqlite:///{tmp_path / 'salesml.db'}")
    init_db(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def shared_data() -> Path:
    """The real sales files beside the project; tests that use them skip without them."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the real data files are not at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def cli(database_url, capsys):
    """Run a command against the test database; return (exit status, stdout, stderr)."""
    from salesml.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        status = main(["--database-url", database_url, *args])
        out, err = capsys.readouterr()
        return status, out, err

    return run
