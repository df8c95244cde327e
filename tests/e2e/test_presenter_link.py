"""A presenter's link and the report's link reopen the same comparison, after a restart too."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from salesml.db import create_engine_for, init_db
from salesml.demo import load_demo
from tests.e2e.conftest import browser_tab, serve_app
from tests.e2e.test_browser import TRAINING_MS, choose, heading, keyed, settled, slide

TITLE = "Monthly revenue by category: model comparison"
HEADLINE = re.compile(r"(was chosen|lowest MASE)")
REPORT_LINK = re.compile(r'<a href="([^"]+)">Open this comparison in salesml</a>')


def on_server(address: str, server_url: str) -> str:
    """The same page and query on another server (a restarted one listens on a new port)."""
    parts = urlsplit(address)
    return urlunsplit(urlsplit(server_url)._replace(path=parts.path, query=parts.query))


def train_quickly(page: Any) -> None:
    """Per category, three months ahead, seasonal naive and ETS on one window."""
    from playwright.sync_api import expect

    choose(page, "train_level", "Per category")
    horizon = page.locator(keyed("train_horizon")).locator("input")
    horizon.fill("3")
    horizon.press("Enter")
    settled(page)
    page.get_by_role("button", name="Remove Auto (try all, keep the best)").click()
    settled(page)
    for model in ("Seasonal naive", "ETS"):
        choose(page, "train_models", model)
    slide(page, "train_windows", "Home", 1)
    settled(page)
    page.locator(keyed("train")).get_by_role("button").click()
    expect(heading(page, TITLE)).to_be_visible(timeout=TRAINING_MS)
    settled(page)


@pytest.mark.e2e
def test_a_presenter_link_and_the_report_link_reopen_the_run_after_a_restart(
    chromium: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    database_url = f"sqlite:///{tmp_path / 'salesml.db'}"
    engine = create_engine_for(database_url)
    init_db(engine)
    load_demo(engine)
    engine.dispose()

    with serve_app(database_url, tmp_path / "first") as app, browser_tab(chromium) as page:
        page.set_default_timeout(TRAINING_MS)
        page.goto(f"{app.url}/train")
        settled(page)
        train_quickly(page)
        # The browser's address follows the run's query parameters a moment later.
        expect(page).to_have_url(re.compile(r"/train\?run=\d+$"))
        run = page.url.rsplit("=", 1)[1]
        with page.expect_download() as download:
            page.locator(keyed("download_report")).get_by_role("button").click()
        report = Path(download.value.path()).read_text()
        page.locator(keyed("presenter")).get_by_text("Presenter view").click()
        settled(page)
        expect(page).to_have_url(re.compile(rf"/train\?run={run}&view=present$"))
        presenter_link = page.url
        headline = page.get_by_text(HEADLINE).first.inner_text()

    (report_link,) = REPORT_LINK.findall(report)
    assert urlsplit(report_link).path == "/train" and urlsplit(report_link).query == f"run={run}"

    with serve_app(database_url, tmp_path / "second") as again:
        with browser_tab(chromium, 1280, 720) as page:
            page.goto(on_server(presenter_link, again.url))
            settled(page)
            expect(heading(page, TITLE)).to_be_visible()
            expect(page.get_by_text(headline, exact=True)).to_be_visible()
            expect(page.get_by_text("Nothing to present yet")).to_have_count(0)
            expect(page.locator('[data-testid="stTable"]')).to_be_visible()
        with browser_tab(chromium) as page:
            page.goto(on_server(report_link, again.url))
            settled(page)
            expect(heading(page, TITLE)).to_be_visible()
            expect(page.get_by_text(f"(run {run})", exact=False)).to_be_visible()
            expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible()
