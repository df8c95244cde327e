"""Sign-in on the real server: single-user mode stays on this machine; with users, the
browser asks who you are and the API for a token."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from salesml import sessions
from tests.e2e.conftest import ROOT, browser_tab, serve_app
from tests.e2e.test_browser import heading, keyed, settled

V1 = "/api/v1"
PASSWORD = "correct horse battery"


def salesml(*args: str, data_dir: Path, stdin: str = "") -> str:
    """Run `python -m salesml ...` as a user would; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "salesml", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={
            "PATH": "/usr/bin:/bin",
            "OMP_NUM_THREADS": "1",
            "HOME": str(data_dir),
            "SALESML_DATA_DIR": str(data_dir),
        },
    )
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    return done.stdout


def request(url: str, method: str = "GET", body: object = None, token: str | None = None):
    """One request; returns (status, headers, JSON body)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, response.headers, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a listening TCP socket on this port (from /proc/net)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if int(hex_port, 16) == port and state == "0A":  # LISTEN
                found.add(address)
    return found


def sign_in(page: Any, name: str) -> None:
    page.locator(keyed("sign_in_name")).locator("input").fill(name)
    page.locator(keyed("sign_in_password")).locator("input").fill(PASSWORD)
    page.locator(keyed("sign_in")).locator("button").click()


@pytest.mark.e2e
def test_with_no_user_the_server_listens_on_this_machine_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'salesml.db'}"
    with serve_app(url, tmp_path / "data", host="0.0.0.0") as app:
        port = int(app.url.rsplit(":", 1)[1])
        assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing else
        log = (tmp_path / "data" / "streamlit.log").read_text()
        assert "sign-in is off (there are no users)" in log
        status, headers, _ = request(f"{app.url}{V1}/models")
        assert status == 200
        assert headers["x-frame-options"] == "SAMEORIGIN"


@contextmanager
def another_local_server(root: Path) -> Iterator[str]:
    """Another web server on this machine (another port: another site), serving one page."""
    (root / "index.html").write_text("<p>another site</p>")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
        finally:
            server.shutdown()


OPEN_STREAM = """url => new Promise(resolve => {
    const ws = new WebSocket(url, ["streamlit"]);
    ws.onopen = () => { ws.close(); resolve("open"); };
    ws.onerror = () => resolve("refused");
})"""


@pytest.mark.e2e
def test_without_users_a_page_of_another_local_server_cannot_open_the_apps_websocket(
    page: Any, tmp_path: Path
) -> None:
    with (
        serve_app(f"sqlite:///{tmp_path / 'salesml.db'}", tmp_path / "data") as app,
        another_local_server(tmp_path) as other,
    ):
        port = int(app.url.rsplit(":", 1)[1])
        stream = f"ws://localhost:{port}/_stcore/stream"
        page.goto(other)
        assert page.evaluate(OPEN_STREAM, stream) == "refused"
        page.goto(f"http://localhost:{port}/")
        assert page.evaluate(OPEN_STREAM, stream) == "open"  # the app's own page


@pytest.mark.e2e
def test_with_users_the_browser_signs_in_and_a_viewer_finds_no_upload_or_delete(
    page: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)
    data = tmp_path / "data"
    url = f"sqlite:///{data / 'salesml.db'}"  # where SALESML_DATA_DIR puts it
    salesml("demo", data_dir=data)
    salesml("train", "--level", "category", "--horizon", "3", "--models", "snaive", data_dir=data)
    salesml("users", "add", "ana", "--role", "analyst", data_dir=data, stdin=PASSWORD)
    salesml("users", "add", "vic", "--role", "viewer", data_dir=data, stdin=PASSWORD)
    viewer_token = salesml("tokens", "create", "vic", data_dir=data).strip()
    with serve_app(url, data, host="0.0.0.0") as app:
        port = int(app.url.rsplit(":", 1)[1])
        assert listening_addresses(port) - {"0100007F"}  # sign-in is on: beyond this machine

        status, headers, body = request(f"{app.url}{V1}/models")
        assert status == 401 and headers["www-authenticate"].startswith("Bearer"), body
        status, _, body = request(f"{app.url}{V1}/sales", "POST", {"rows": []}, viewer_token)
        assert status == 403, body
        status, _, body = request(
            f"{app.url}{V1}/models/1/forecast", "POST", {"horizon": 3}, viewer_token
        )
        assert status == 200 and len(body["points"]) == 4 * 3, body  # 4 categories

        response = page.goto(app.url)
        assert response.headers["x-frame-options"] == "SAMEORIGIN"
        expect(heading(page, "Sign in to salesml")).to_be_visible()
        settled(page)
        assert page.locator('[data-testid="stMetric"]').count() == 0
        sign_in(page, "vic")
        expect(heading(page, "Overview")).to_be_visible()
        settled(page)
        sidebar = page.locator('[data-testid="stSidebar"]')
        expect(sidebar).to_contain_text("Signed in as vic · viewer")
        nav = page.locator('[data-testid="stSidebarNav"]')
        for title in ("Overview", "Explorer", "Forecast", "Predictions"):
            expect(nav.get_by_text(title, exact=True)).to_be_visible()
        for title in ("Data", "Train & compare", "Team"):
            assert nav.get_by_text(title, exact=True).count() == 0

        nav.get_by_text("Forecast", exact=True).click()
        expect(heading(page, "Forecast")).to_be_visible()
        settled(page)
        assert page.locator(keyed("save_forecast")).count() == 0
        kept_cookie(page)
        refused = {"data": "Data", "team": "Team", "train": "Train & compare"}
        for path, title in refused.items():  # typed into the address bar: still signed in
            page.goto(f"{app.url}/{path}")
            expect(heading(page, "Overview")).to_be_visible()
            expect(page.get_by_text(f"{title} needs the")).to_contain_text("your role is viewer")
            expect(sidebar).to_contain_text("Signed in as vic · viewer")
            settled(page)
            assert page.locator('[data-testid="stFileUploader"]').count() == 0
            assert page.locator(keyed("delete")).count() == 0
            assert page.locator(keyed("train")).count() == 0

        page.goto(f"{app.url}/forecast")  # a shared link: the page itself, still signed in
        expect(heading(page, "Forecast")).to_be_visible()
        settled(page)
        page.locator(keyed("sign_out")).locator("button").click()
        expect(heading(page, "Sign in to salesml")).to_be_visible()
    assert PASSWORD not in (data / "streamlit.log").read_text()


@pytest.mark.e2e
def test_signing_in_on_a_presenter_link_opens_no_sidebar(chromium: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)
    data = tmp_path / "data"
    salesml("users", "add", "ana", "--role", "analyst", data_dir=data, stdin=PASSWORD)
    with serve_app(f"sqlite:///{data / 'salesml.db'}", data) as app, browser_tab(chromium) as page:
        page.goto(f"{app.url}/?view=present")
        sign_in(page, "ana")
        expect(heading(page, "Overview")).to_be_visible()
        kept_cookie(page)  # the handoff's script ran
        settled(page)
        expect(page.locator('[data-testid="stSidebar"]')).to_have_count(0)
        handoff = page.locator(
            '[data-testid="stElementContainer"]:has([data-testid="stHtml"] > script)'
        )
        assert handoff.evaluate_all("all => all.map(e => getComputedStyle(e).display)") == ["none"]


def kept_cookie(page: Any) -> dict:
    """The session cookie the signed-in page had the browser fetch (waiting for it)."""
    for _ in range(100):
        found = [c for c in page.context.cookies() if c["name"] == sessions.COOKIE]
        if found:
            return found[0]
        page.wait_for_timeout(100)
    raise AssertionError(f"no {sessions.COOKIE} cookie after signing in")


@pytest.mark.e2e
def test_a_sign_in_survives_a_reload_and_a_new_tab_until_sign_out(
    chromium: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)
    data = tmp_path / "data"
    salesml("users", "add", "ana", "--role", "analyst", data_dir=data, stdin=PASSWORD)
    with serve_app(f"sqlite:///{data / 'salesml.db'}", data) as app, browser_tab(chromium) as page:
        page.goto(f"{app.url}/forecast")
        sign_in(page, "ana")
        expect(heading(page, "Forecast")).to_be_visible()
        cookie = kept_cookie(page)
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie
        assert not cookie["secure"]  # served over plain http here

        page.reload()
        expect(heading(page, "Forecast")).to_be_visible()
        sidebar = page.locator('[data-testid="stSidebar"]')
        expect(sidebar).to_contain_text("Signed in as ana · analyst")
        other = page.context.new_page()
        other.goto(app.url)
        expect(heading(other, "Overview")).to_be_visible()
        settled(other)

        page.locator(keyed("sign_out")).locator("button").click()
        expect(heading(page, "Sign in to salesml")).to_be_visible()
        for tab in (page, other):
            tab.reload()
            expect(heading(tab, "Sign in to salesml")).to_be_visible()
