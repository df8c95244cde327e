"""What the app's users meet first, in Chromium, on the server `make run` leaves running."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from salesml.demo import DEMO_FILE_NAME
from tests.e2e.conftest import RunningApp, browser_tab
from tests.e2e.test_browser import CHART, TRAINING_MS, choose, keyed, settled, slide

# The sidebar as it takes room: absent, or folded away behind its "»" button.
OPEN_SIDEBAR = '[data-testid="stSidebar"]:not([data-collapsed="true"])'
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


def test_the_api_docs_draw_offline_from_this_server_alone(demo_app: RunningApp, page: Any) -> None:
    from playwright.sync_api import expect

    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(f"{demo_app.url}/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("salesml")
    expect(page.locator(".opblock").first).to_be_visible()
    ours = urlsplit(demo_app.url).netloc
    assert {url for url in asked if urlsplit(url).netloc != ours} == set()


def test_a_presenter_shows_the_comparison_on_a_1280x720_projector_without_scrolling(
    demo_app: RunningApp, chromium: Any
) -> None:
    from playwright.sync_api import expect

    with browser_tab(chromium, 1280, 720) as page:
        page.goto(f"{demo_app.url}/train")
        settled(page)
        page.locator(keyed("train")).get_by_role("button").click()
        expect(page.get_by_role("button", name="Save and forecast")).to_be_visible(
            timeout=TRAINING_MS
        )
        settled(page)
        # The defaults train the demo data without a warning to explain.
        expect(page.locator('[data-testid="stAlertContentWarning"]')).to_have_count(0)
        toggle = page.locator(keyed("presenter")).get_by_text("Presenter view")
        fully_visible(page, toggle)
        toggle.click()
        settled(page)
        fully_visible(page, toggle)
        # The browser's address follows the run's query parameters a moment later.
        expect(page).to_have_url(re.compile(r"/train\?run=\d+&view=present$"))
        expect(page.locator(OPEN_SIDEBAR)).to_have_count(0)
        # The normal view's charts are gone once the presenter's one chart is drawn.
        drawn = page.locator(f"{CHART}.vega-embed")
        expect(drawn).to_have_count(1)
        chart = drawn.first
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= 720, box
        # Nothing scrolled to get there: the chart is where the page opened.
        assert page.evaluate("document.querySelector('[data-testid=stMain]').scrollTop") == 0
        page.reload()
        settled(page)
        expect(page.locator(OPEN_SIDEBAR)).to_have_count(0)


def fully_visible(page: Any, element: Any) -> None:
    """The element lies inside the viewport, below the app's header bar and not under it."""
    from playwright.sync_api import expect

    expect(element).to_be_visible()
    box = element.bounding_box()
    header = page.locator('[data-testid="stHeader"]').bounding_box()
    viewport = page.viewport_size
    below = header["y"] + header["height"] if header else 0
    assert box["y"] >= below and box["y"] + box["height"] <= viewport["height"], (box, header)
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], box
    # Nothing drawn over its middle: a click there reaches it.
    middle = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert element.evaluate(
        "(e, [x, y]) => e.contains(document.elementFromPoint(x, y)) || "
        "document.elementFromPoint(x, y).contains(e)",
        list(middle),
    ), "something covers it"


def test_an_analyst_shares_an_explorer_view_by_its_address(
    demo_app: RunningApp, chromium: Any
) -> None:
    from playwright.sync_api import expect

    with browser_tab(chromium) as page:
        page.goto(f"{demo_app.url}/explorer?category=Outdoor&grain=M&start=2024-01-01")
        settled(page)
        categories = page.locator(keyed("categories"))
        expect(categories).to_contain_text("Outdoor")
        expect(page.locator(keyed("grain")).get_by_role("radio", name="Month")).to_be_checked()
        choose(page, "categories", "Electronics")
        choose(page, "files", f"{DEMO_FILE_NAME} (#1)")  # the demo's one file
        settled(page)
        # The browser's address follows the run's query parameters a moment later.
        expect(page).to_have_url(re.compile(r"category=Electronics.*file=1"))
        shared = page.url
        assert parse_qs(urlsplit(shared).query) == {
            "category": ["Outdoor", "Electronics"],
            "file": ["1"],
            "grain": ["M"],
            "start": ["2024-01-01"],
        }
        shown = page.locator('[data-testid="stMetricValue"]').first.inner_text()

        # A colleague opens the shared address in a browser of their own.
        with browser_tab(chromium) as other:
            other.goto(shared)
            settled(other)
            expect(other.locator(keyed("categories"))).to_contain_text("Electronics")
            expect(other.locator(keyed("categories"))).to_contain_text("Outdoor")
            expect(other.locator(keyed("files"))).to_contain_text(f"{DEMO_FILE_NAME} (#1)")
            expect(other.locator('[data-testid="stMetricValue"]').first).to_have_text(shown)
