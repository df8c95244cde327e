"""What the app's users meet first, in Chromium, on the server `make run` leaves running."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tests.e2e.conftest import RunningApp
from tests.e2e.test_browser import CHART, keyed, settled, slide

PAGES = ("", "data", "explorer", "train", "forecast", "predictions", "team")


def test_a_manager_finds_a_forecast_and_moves_the_horizon_at_once(
    demo_app: RunningApp, page: Any
) -> None:
    from playwright.sync_api import expect

    page.goto(f"{demo_app.url}/forecast")
    settled(page)
    expect(page.get_by_text("no saved model", exact=False)).to_have_count(0)
    expect(page.locator(CHART).first).to_be_visible()
    thumb = page.locator(keyed("horizon")).get_by_role("slider")
    expect(thumb).to_have_value("12")
    slide(page, "horizon", "ArrowLeft", 3)
    expect(thumb).to_have_value("9")
    settled(page)
    expect(page.get_by_text("Forecast, next 9 months")).to_be_visible()


def test_no_page_asks_another_host_for_anything(demo_app: RunningApp, page: Any) -> None:
    """An intranet install draws every page: no icon, font or script comes from elsewhere."""
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    for path in PAGES:
        page.goto(f"{demo_app.url}/{path}")
        settled(page)
    ours = urlsplit(demo_app.url).netloc
    elsewhere = {
        url
        for url in asked
        if urlsplit(url).scheme in ("http", "https", "ws", "wss") and urlsplit(url).netloc != ours
    }
    assert len(asked) > len(PAGES)
    assert elsewhere == set()
