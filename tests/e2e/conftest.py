"""The running app and a real Chromium for the browser test."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIRE_BROWSER = os.environ.get("SALESML_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
STARTUP_SECONDS = 60


def _skip_or_fail(reason: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason} (SALESML_REQUIRE_BROWSER=1 forbids skipping the browser test)")
    pytest.skip(reason)


@dataclass(frozen=True)
class RunningApp:
    """A `python -m salesml serve` process (app and API) and where it keeps its data."""

    url: str
    database_url: str
    data_dir: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_healthy(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"streamlit exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    pytest.fail(f"streamlit did not answer within {STARTUP_SECONDS}s:\n{log.read_text()}")


@contextmanager
def serve_app(
    database_url: str, data_dir: Path, *, host: str = "127.0.0.1"
) -> Iterator[RunningApp]:
    """Run the app on a free port against this database until the block ends."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    # The environment outranks .streamlit/secrets.toml, so a developer's secrets cannot
    # point the test at a real database.
    env = {
        **os.environ,
        "SALESML_DATABASE_URL": database_url,
        "SALESML_DATA_DIR": str(data_dir),
        "SALESML_MODEL_DIR": str(data_dir / "models"),
    }
    # What `make run` runs: the app and the REST API on one port.
    command = [sys.executable, "-m", "salesml", "serve", "--host", host]
    command += ["--port", str(port)]
    log = data_dir / "streamlit.log"
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(process, url, log)
        yield RunningApp(url, database_url, data_dir)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """The app served by a real Streamlit server on a free port, on an empty SQLite file."""
    data_dir = tmp_path_factory.mktemp("app-data")
    with serve_app(f"sqlite:///{data_dir / 'salesml.db'}", data_dir) as app:
        yield app


@pytest.fixture(scope="session")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """The app as `make run` leaves it on a fresh clone: demo data, its ready model, served."""
    data_dir = tmp_path_factory.mktemp("demo-app")
    database_url = f"sqlite:///{data_dir / 'salesml.db'}"
    env = {
        **os.environ,
        "SALESML_DATABASE_URL": database_url,
        "SALESML_MODEL_DIR": str(data_dir / "models"),
    }
    for step in (["init-db"], ["demo", "--if-empty"]):
        subprocess.run(
            [sys.executable, "-m", "salesml", *step],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    with serve_app(database_url, data_dir) as app:
        yield app


@pytest.fixture
def app_on_each_backend(database_url: str, tmp_path: Path) -> Iterator[RunningApp]:
    """The app on an empty database, once on SQLite and once on MySQL (see database_url)."""
    with serve_app(database_url, tmp_path / "app-data") as app:
        yield app


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (which cannot download its own browsers here)."""
    executable = shutil.which("chromium")
    if executable is None:
        _skip_or_fail("the browser test needs Chromium: apt-get install chromium (or make browser)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("the browser test needs the playwright package (pip install playwright)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@contextmanager
def browser_tab(chromium: Any, width: int = 1400, height: int = 900) -> Iterator[Any]:
    """A tab in a browser context of its own (no shared cookies), this size, closed after."""
    context = chromium.new_context(viewport={"width": width, "height": height})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh browser tab the size of a laptop screen."""
    with browser_tab(chromium) as tab:
        yield tab
