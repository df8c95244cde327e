"""Sign-in on the real server: single-user mode stays on this machine; with users, the
browser asks who you are and the API for a token."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, serve_app
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
        for path in ("data", "team", "train"):  # typed into the address bar: a new session
            page.goto(f"{app.url}/{path}")
            expect(heading(page, "Sign in to salesml")).to_be_visible()
            sign_in(page, "vic")
            expect(sidebar).to_contain_text("Signed in as vic · viewer")
            settled(page)
            assert page.locator('[data-testid="stFileUploader"]').count() == 0
            assert page.locator(keyed("delete")).count() == 0
            assert page.locator(keyed("train")).count() == 0

        page.goto(f"{app.url}/forecast")  # a shared link: the page itself once signed in
        sign_in(page, "vic")
        expect(heading(page, "Forecast")).to_be_visible()
        settled(page)
        page.locator(keyed("sign_out")).locator("button").click()
        expect(heading(page, "Sign in to salesml")).to_be_visible()
    assert PASSWORD not in (data / "streamlit.log").read_text()
