"""How the app looks in Chromium: the theme a user picks, colours that read, figures never cut."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import RunningApp, browser_tab
from tests.e2e.test_browser import CHART, TRAINING_MS, keyed, settled, write_sales_csv

APP = '[data-testid="stApp"]'
DARK_BACKGROUND = "rgb(14, 17, 23)"  # .streamlit/config.toml, [theme.dark] backgroundColor
LIGHT_BACKGROUND = "rgb(255, 255, 255)"
CHOSEN_BACKGROUND = "rgb(220, 252, 231)"  # salesml.report.CHOSEN_STYLE


def choose_theme(page: Any, name: str) -> None:
    """Pick a theme in the app's menu, as a user does."""
    page.locator('[data-testid="stMainMenu"]').click()
    page.locator(f'[data-testid="stMainMenuItem-theme-{name}"]').click()
    page.keyboard.press("Escape")


def background(page: Any) -> str:
    return page.locator(APP).evaluate("e => getComputedStyle(e).backgroundColor")


def test_a_theme_chosen_on_one_page_holds_for_every_page_and_a_reload(
    demo_app: RunningApp, page: Any
) -> None:
    from playwright.sync_api import expect

    page.goto(f"{demo_app.url}/train")
    settled(page)
    assert background(page) == LIGHT_BACKGROUND
    choose_theme(page, "Dark")
    expect(page.locator(APP)).to_have_css("background-color", DARK_BACKGROUND)
    for path in ("explorer", "", "forecast"):
        page.goto(f"{demo_app.url}/{path}")
        settled(page)
        assert background(page) == DARK_BACKGROUND, path or "overview"
    page.reload()
    settled(page)
    assert background(page) == DARK_BACKGROUND
    choose_theme(page, "Light")
    page.goto(f"{demo_app.url}/train")
    settled(page)
    assert background(page) == LIGHT_BACKGROUND


WIDTHS = (1024, 1280, 1440, 390)
THEMES = ("Light", "Dark")
PAGES = {  # title -> address
    "Overview": "",
    "Data": "data",
    "Explorer": "explorer",
    "Train": "train",
    "Forecast": "forecast",
    "Predictions": "predictions",
    "Team": "team",
}
# Every tile, every label (of a widget, a button, a tab) and the dates a date input shows.
MEASURED = ", ".join(
    (
        '[data-testid="stMetric"]',
        '[data-testid="stWidgetLabel"]',
        "label",
        "button",
        '[data-testid="stTab"]',
        '[data-testid="stDateInput"] input',
    )
)
# Each element inside them, with text, seen, and wider inside than its box: its text is
# either cut (with or without "…") or spills over whatever is beside it.
CUT_SHORT = """(elements) => {
  const cut = new Map();
  for (const element of elements.flatMap((e) => [e, ...e.querySelectorAll("*")])) {
    const text = (element.tagName === "INPUT" ? element.value : element.innerText || "").trim();
    // A box of a pixel or less holds text for screen readers only, cut on purpose.
    const seen = element.getClientRects().length && element.clientWidth > 1;
    if (text && seen && element.scrollWidth > element.clientWidth) {
      cut.set(text, `${element.scrollWidth} in ${element.clientWidth} px`);
    }
  }
  return Object.fromEntries(cut);
}"""


def cut_short(page: Any) -> dict[str, str]:
    """The texts inside a tile or a label that do not fit their box, and by how much."""
    page.evaluate("document.fonts.ready")
    return page.locator(MEASURED).evaluate_all(CUT_SHORT)


def phone_height(width: int) -> int:
    return 844 if width < 500 else 900


def validate_a_file(page: Any, csv: Path) -> None:
    """Upload a file on the Data page and validate it: its counts show in tiles."""
    from playwright.sync_api import expect

    page.locator(f'{keyed("upload")} input[type="file"]').set_input_files(csv)
    settled(page)
    page.locator(keyed("validate")).get_by_role("button").click()
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="To load")).to_be_visible()
    settled(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_no_tile_or_label_is_cut_short_on_any_page_in_either_theme(
    demo_app: RunningApp, chromium: Any, tmp_path: Path, width: int
) -> None:
    """Tiles and labels wrap or show compact figures; the filters are there, also on a phone."""
    from playwright.sync_api import expect

    csv = write_sales_csv(tmp_path / "sales.csv")
    found = {}
    with browser_tab(chromium, width, phone_height(width)) as page:
        for theme in THEMES:
            page.goto(demo_app.url)
            settled(page)
            choose_theme(page, theme)
            for title, path in PAGES.items():
                page.goto(f"{demo_app.url}/{path}")
                settled(page)
                if title == "Explorer":
                    # The tiles arrive in more than one message; wait for the fourth.
                    expect(page.locator('[data-testid="stMetricValue"]').nth(3)).to_be_visible()
                    expect(page.locator(keyed("categories"))).to_be_visible()
                if title == "Data":
                    validate_a_file(page, csv)
                found[f"{title}, {theme}"] = cut_short(page)
    assert {where: cut for where, cut in found.items() if cut} == {}


def test_no_tile_or_label_of_a_comparison_is_cut_short_nor_in_the_presenter_view(
    demo_app: RunningApp, chromium: Any
) -> None:
    from playwright.sync_api import expect

    found, chosen, legends = {}, {}, {}
    with browser_tab(chromium, 1280, 900) as page:
        page.goto(f"{demo_app.url}/train")
        settled(page)
        page.locator(keyed("train")).get_by_role("button").click()
        expect(page.get_by_role("button", name="Save and forecast")).to_be_visible(
            timeout=TRAINING_MS
        )
        settled(page)
        presenter = page.locator(keyed("presenter")).get_by_text("Presenter view")
        # One session keeps the comparison: the screen changes size, the page is not reloaded.
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": phone_height(width)})
            for theme in THEMES:
                choose_theme(page, theme)
                for view in ("comparison", "presenter view"):
                    # The view drawn, not the one before the click: only the normal view trains.
                    train = page.locator(keyed("train"))
                    if view == "comparison":
                        expect(train).to_be_visible()
                    else:
                        expect(train).to_have_count(0)
                    settled(page)
                    found[f"{view} at {width} px, {theme}"] = cut_short(page)
                    if view == "presenter view":
                        chosen[theme] = chosen_row_colours(page)
                    # A link to the presenter view opens on a phone too.
                    if view == "presenter view":
                        chart = page.locator(f"{CHART} svg").first
                        legends[f"{width} px, {theme}"] = chart.evaluate(LEGEND_ENTRIES)
                    presenter.click()
    assert {where: cut for where, cut in found.items() if cut} == {}
    from tests.test_charts import contrast

    for theme, (text, backdrop) in chosen.items():
        assert contrast(_rgb(text), _rgb(backdrop)) >= 4.5, (theme, text, backdrop)
    # The presenter's legend names every model in full, inside the chart; "Actual" reads.
    backdrops = {"Light": LIGHT_BACKGROUND, "Dark": DARK_BACKGROUND}
    for where, entries in legends.items():
        assert all(inside and not label.endswith("…") for label, _, inside in entries), (
            where,
            entries,
        )
        (actual,) = [colour for label, colour, _ in entries if label == "Actual"]
        assert contrast(_rgb(actual), _rgb(backdrops[where.split(", ")[1]])) >= 4.5, where


def chosen_row_colours(page: Any) -> tuple[str, str]:
    """The text and background colours of the chosen model's row in the top-models table."""
    table = page.locator('[data-testid="stTable"]')
    table.locator("td").first.wait_for()
    cells = table.locator("td").evaluate_all(
        "cells => cells.map(c => getComputedStyle(c)).map(s => [s.color, s.backgroundColor])"
    )
    chosen = {(text, back) for text, back in cells if back == CHOSEN_BACKGROUND}
    assert len(chosen) == 1, cells
    return chosen.pop()


def test_the_html_reports_chart_spans_its_page(chromium: Any) -> None:
    """The comparison's chart is as wide as the report's text, not 300 px of it."""
    from salesml import report
    from tests.test_report import REQUEST, monthly, train

    page_html = report.comparison_html(train(monthly(["Total"])), REQUEST)
    with browser_tab(chromium, 1280, 900) as page:
        page.set_content(page_html)
        drawn = page.locator("#chart canvas, #chart svg").first
        drawn.wait_for()
        text_width = page.locator("h1").evaluate("e => e.clientWidth")
        assert drawn.bounding_box()["width"] >= 0.9 * text_width


# Each legend entry of a chart drawn in SVG: its label, its symbol's colour (a legend draws
# them in the same order), and whether the label lies within the chart: within the drawing
# and within the element that holds it (a drawing wider than its element is cut off).
LEGEND_ENTRIES = """(chart) => {
  const svg = chart.getBoundingClientRect();
  const frame = (chart.closest('[data-testid="stVegaLiteChart"]') || chart).getBoundingClientRect();
  const drawn = {left: Math.max(svg.left, frame.left), right: Math.min(svg.right, frame.right)};
  return [...chart.querySelectorAll(".role-legend")].flatMap((legend) => {
    const symbols = [...legend.querySelectorAll(".role-legend-symbol path")];
    return [...legend.querySelectorAll(".role-legend-label text")].map((label, i) => {
      const box = label.getBoundingClientRect();
      const inside = box.left >= drawn.left && box.right <= drawn.right;
      return [label.textContent, getComputedStyle(symbols[i]).stroke, inside];
    });
  });
}"""


def _rgb(css: str) -> str:
    """'rgb(74, 74, 74)' as '#4a4a4a'."""
    return "#" + "".join(f"{int(part):02x}" for part in re.findall(r"\d+", css)[:3])


def test_a_phone_shows_every_forecast_legend_entry_readable_in_either_theme(
    demo_app: RunningApp, chromium: Any
) -> None:
    from playwright.sync_api import expect

    from tests.test_charts import contrast

    with browser_tab(chromium, 390, 844) as page:
        for theme, backdrop in (("Light", LIGHT_BACKGROUND), ("Dark", DARK_BACKGROUND)):
            page.goto(f"{demo_app.url}/forecast")
            settled(page)
            choose_theme(page, theme)
            chart = page.locator(f"{CHART} svg").first
            expect(chart).to_be_visible(timeout=60_000)  # the first visit loads the model
            entries = {
                text: (colour, inside) for text, colour, inside in chart.evaluate(LEGEND_ENTRIES)
            }
            assert {"Actual", "Forecast", "95% range", "80% range"} <= set(entries)
            assert all(inside for _, inside in entries.values()), entries
            assert contrast(_rgb(entries["Actual"][0]), _rgb(backdrop)) >= 4.5, theme


def test_stacked_columns_on_a_phone_leave_no_wide_gap_under_the_sliders(
    demo_app: RunningApp, chromium: Any
) -> None:
    with browser_tab(chromium, 390, 844) as page:
        page.goto(f"{demo_app.url}/forecast")
        settled(page)
        gaps = {
            (above, below): page.evaluate(
                "([a, b]) => document.querySelector(`.st-key-${b}`).getBoundingClientRect().top"
                " - document.querySelector(`.st-key-${a}`).getBoundingClientRect().bottom",
                [above, below],
            )
            for above, below in (("horizon", "series"), ("growth", "uplift"))
        }
        # The page's own gap between one element and the next is 1rem.
        assert all(gap <= 16 for gap in gaps.values()), gaps
