"""One real-browser walk through every page: load a file, explore, train, forecast, keep it."""

from __future__ import annotations

import datetime as dt
import math
import os
import random
import re
from pathlib import Path
from typing import Any

import pytest

# `make screenshots` points this at docs/ to refresh the README's pictures; a plain test run
# writes them to a temporary directory so it never changes committed files.
SCREENSHOT_DIR = os.environ.get("SALESML_SCREENSHOT_DIR")
EXCEPTION = '[data-testid="stException"]'
CHART = '[data-testid="stVegaLiteChart"]'
TABLE = '[data-testid="stDataFrame"]'
# Three years of daily sales: a monthly backtest needs more than two seasons (25 months).
FIRST_DAY, DAYS = dt.date(2022, 1, 1), 1096
PRODUCTS = (  # name, category, unit price, typical quantity a day
    ("Espresso Machine", "Kitchen", 249.0, 2),
    ("Desk Lamp", "Office", 35.5, 5),
)
LINES = DAYS * len(PRODUCTS)  # loadable lines; the file has one more, with an impossible date
TRAINING_MS = 180_000  # a few seconds alone, far more on a busy host
QUICK_MODELS = ("Linear regression", "Seasonal naive", "ETS")
FORECAST_MONTHS = [f"{month} 2025" for month in ("Jan", "Feb", "Mar", "Apr", "May", "Jun")]
TITLE = "Monthly revenue by category: model comparison"


def write_sales_csv(path: Path) -> Path:
    """Daily sales of two products in two categories, seasonal and growing, plus one bad date."""
    noise = random.Random(7)
    lines = ["Order Date,Product Name,Category,Quantity,Sales"]
    for offset in range(DAYS):
        day = FIRST_DAY + dt.timedelta(days=offset)
        season = 1 + 0.4 * math.sin(2 * math.pi * day.month / 12)
        growth = 1 + offset / DAYS / 2
        for name, category, price, typical in PRODUCTS:
            quantity = max(1, round(typical * season * growth + noise.uniform(-1.5, 1.5)))
            lines.append(f"{day:%Y-%m-%d},{name},{category},{quantity},{quantity * price:.2f}")
    lines.append("2024-02-30,Desk Lamp,Office,1,35.50")
    path.write_text("\n".join(lines) + "\n")
    return path


def keyed(key: str) -> str:
    """The CSS selector of the element Streamlit draws for a widget key."""
    return f".st-key-{key}"


def settled(page: Any) -> None:
    """Wait for the script run to finish, then check no traceback is on the page."""
    page.wait_for_load_state("networkidle")
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for()
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden")
    assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).first.inner_text()


def screenshot(page: Any, path: Path) -> None:
    """Save the whole page: Streamlit scrolls inside its main area, so grow the viewport first."""
    viewport = page.viewport_size
    height = page.evaluate(
        "() => Math.max(...Array.from(document.querySelectorAll("
        "'[data-testid=stMain], [data-testid=stAppViewContainer]'), e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": viewport["width"], "height": max(viewport["height"], height)})
    page.wait_for_timeout(500)  # let the layout follow the new size before the capture
    page.screenshot(path=path, full_page=True)
    page.set_viewport_size(viewport)


def tile(page: Any, label: str) -> Any:
    """The st.metric tile with this label."""
    return page.locator('[data-testid="stMetric"]').filter(has_text=label)


def go_to(page: Any, title: str) -> None:
    """Click a page in the sidebar navigation."""
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()


def heading(page: Any, text: str) -> Any:
    """The heading (title, header or subheader) with exactly this text."""
    return page.get_by_role("heading", name=text, exact=True)


def open_page(page: Any, title: str) -> None:
    """Go to a page and wait until its heading (its title) is drawn and its script has finished."""
    from playwright.sync_api import expect

    go_to(page, title)
    expect(heading(page, title)).to_be_visible()
    settled(page)


def close_dropdown(page: Any) -> None:
    """Close an open selectbox or multiselect list and wait until it has gone."""
    from playwright.sync_api import expect

    page.keyboard.press("Escape")
    expect(page.get_by_role("listbox")).to_have_count(0)
    settled(page)


def open_dropdown(page: Any, key: str) -> None:
    """Open a selectbox or multiselect; scroll to it first, as a scroll closes an open list."""
    from playwright.sync_api import expect

    combobox = page.locator(keyed(key)).get_by_role("combobox")
    combobox.scroll_into_view_if_needed()
    combobox.click()
    expect(combobox).to_have_attribute("aria-expanded", "true")


def choose(page: Any, key: str, option: str) -> None:
    """Pick an option of a selectbox or multiselect."""
    open_dropdown(page, key)
    page.get_by_role("option", name=option, exact=True).click()
    close_dropdown(page)  # a multiselect stays open for more picks


def offered(page: Any, key: str) -> Any:
    """Open a selectbox or multiselect and return its options (without 'Select all')."""
    open_dropdown(page, key)
    options = page.get_by_role("listbox").get_by_role("option")
    return options.filter(has_not_text=re.compile("^Select all$"))


def slide(page: Any, key: str, key_name: str, times: int) -> None:
    """Move a slider by keyboard, the way a user without a mouse would."""
    thumb = page.locator(keyed(key)).get_by_role("slider")
    thumb.focus()
    for _ in range(times):
        thumb.press(key_name)


def visit_empty_pages(page: Any, url: str) -> None:
    """Each page on the empty database shows its heading and the way forward."""
    from playwright.sync_api import expect

    page.goto(url)
    expect(heading(page, "Overview")).to_be_visible()
    expect(page.get_by_text("The database is empty")).to_be_visible()
    settled(page)
    for title in ("Explorer", "Train & compare"):
        open_page(page, title)
        expect(page.get_by_text("The database is empty")).to_be_visible()
    open_page(page, "Forecast")
    expect(page.get_by_text("There is no saved model yet.")).to_be_visible()
    open_page(page, "Predictions")
    expect(page.get_by_text("No forecast has been saved yet.")).to_be_visible()
    open_page(page, "Data")
    expect(page.get_by_text("No file has been loaded yet.")).to_be_visible()


def load_file(page: Any, csv: Path) -> None:
    """Upload, check the detected columns, state the currency, validate (one rejection),
    load."""
    from playwright.sync_api import expect

    page.locator(f'{keyed("upload")} input[type="file"]').set_input_files(csv)
    expect(page.locator(keyed("map_date")).get_by_role("combobox")).to_have_value("Order Date")
    expect(page.locator(keyed("map_revenue")).get_by_role("combobox")).to_have_value("Sales")
    settled(page)
    currency = page.locator(keyed("load_currency")).locator("input")
    currency.fill("EUR")
    currency.press("Enter")
    settled(page)

    page.locator(keyed("validate")).get_by_role("button").click()
    expect(page.get_by_text("Rejected rows (1)")).to_be_visible()
    expect(page.get_by_text("amounts in EUR")).to_be_visible()
    expect(tile(page, "Rejected")).to_contain_text("1")
    expect(tile(page, "To load")).to_contain_text(f"{LINES:,}")
    expect(page.locator(keyed("download_rejections"))).to_be_visible()
    settled(page)

    page.locator(keyed("load")).get_by_role("button").click()
    expect(page.get_by_text(f"Loaded {LINES:,} rows as batch 1")).to_be_visible()
    expect(page.locator(TABLE).last).to_be_visible()
    expect(page.locator(keyed("delete_batch")).get_by_role("combobox")).to_have_value(
        f"Batch 1: {csv.name}"
    )
    settled(page)


def see_overview(page: Any) -> None:
    """The overview's tiles count the loaded lines and file, money in its currency."""
    from playwright.sync_api import expect

    open_page(page, "Overview")
    expect(heading(page, "Latest full month: Dec 2024")).to_be_visible()
    expect(tile(page, "Revenue (EUR)")).to_be_visible()
    expect(tile(page, "Sales lines")).to_contain_text("2.19k")  # LINES, compact
    expect(tile(page, "Files loaded")).to_contain_text("1")
    expect(tile(page, "Categories")).to_contain_text("2")
    expect(page.locator(CHART)).to_be_visible()
    settled(page)


def explore(page: Any, shots: Path) -> None:
    """Switch the grain to months, then narrow to one category."""
    from playwright.sync_api import expect

    open_page(page, "Explorer")
    expect(heading(page, "Revenue per week")).to_be_visible()
    expect(tile(page, "Order lines")).to_contain_text("2.19k")  # LINES, compact
    expect(tile(page, "Revenue (EUR)").first).to_be_visible()  # and Returned revenue (EUR)
    page.locator(keyed("grain")).get_by_text("Month", exact=True).click()
    expect(heading(page, "Revenue per month")).to_be_visible()
    expect(page.get_by_text("Rolling average (months)")).to_be_visible()
    settled(page)
    screenshot(page, shots / "explorer.png")

    choose(page, "categories", "Kitchen")
    expect(tile(page, "Order lines")).to_contain_text("1.1k")  # DAYS, compact
    expect(offered(page, "products")).to_have_text(["Espresso Machine"])
    close_dropdown(page)


def train(page: Any, shots: Path) -> None:
    """Train three quick models per category, monthly, with one backtest window."""
    from playwright.sync_api import expect

    open_page(page, "Train & compare")
    choose(page, "train_level", "Per category")
    expect(page.locator(keyed("train_level")).get_by_role("combobox")).to_have_value("Per category")
    expect(page.locator(keyed("train_freq")).get_by_role("combobox")).to_have_value("Monthly")
    horizon = page.locator(keyed("train_horizon")).locator("input")
    horizon.fill("3")
    horizon.press("Enter")
    settled(page)
    # Auto would also fit the tree models, which take long on a busy host.
    page.get_by_role("button", name="Remove Auto (try all, keep the best)").click()
    settled(page)
    for model in QUICK_MODELS:
        choose(page, "train_models", model)
    slide(page, "train_windows", "Home", 1)
    expect(page.locator(keyed("train_windows")).get_by_role("slider")).to_have_value("1")
    settled(page)

    page.locator(keyed("train")).get_by_role("button").click()
    expect(heading(page, TITLE)).to_be_visible(timeout=TRAINING_MS)
    expect(page.get_by_text(re.compile(r"Trained in [\d.]+ s: .+ chosen"))).to_be_visible()
    settings = "Horizon: 3 months · Series: 2 · Data: 2022-01-01 to 2024-12-01 (36 months"
    expect(page.get_by_text(settings)).to_be_visible()
    expect(page.get_by_text("Backtest: 1 window of 3 months")).to_be_visible()
    expect(page.get_by_text("has the lowest MASE")).to_be_visible()
    expect(page.locator(TABLE).first).to_be_visible()
    expect(page.locator(CHART).first).to_be_visible()
    settled(page)
    screenshot(page, shots / "train.png")


def present_and_save(page: Any, shots: Path) -> None:
    """The presenter view shows the comparison alone; back in the normal view, save the model."""
    from playwright.sync_api import expect

    presenter = page.locator(keyed("presenter")).get_by_text("Presenter view")
    presenter.click()
    # Until the run ends, the normal view's copy of TITLE may still be shown beside the new.
    expect(heading(page, "Train & compare")).to_have_count(0)
    settled(page)
    expect(heading(page, TITLE)).to_be_visible()
    expect(tile(page, "Chosen model")).to_be_visible()
    expect(tile(page, "Series")).to_contain_text("2")
    expect(page.locator(keyed("train"))).to_have_count(0)
    settled(page)
    screenshot(page, shots / "presenter.png")

    presenter.click()
    expect(heading(page, "Train & compare")).to_be_visible()
    expect(heading(page, TITLE)).to_be_visible()
    settled(page)
    page.locator(keyed("save_model")).get_by_role("button").click()
    expect(page.get_by_text(re.compile(r"Saved as model 1 \("))).to_be_visible()
    settled(page)


def forecast(page: Any, shots: Path) -> str:
    """Forecast further ahead with the slider, then save; returns the saved run's id."""
    from playwright.sync_api import expect

    open_page(page, "Forecast")
    expect(page.locator(CHART)).to_be_visible()
    thumb = page.locator(keyed("horizon")).get_by_role("slider")
    expect(thumb).to_have_value("3")
    expect(page.get_by_text("2 series, 3 months ahead.")).to_be_visible()
    # The promotion picker offers the forecast's own periods: it shows how far the forecast runs.
    expect(offered(page, "promo_periods")).to_have_text(FORECAST_MONTHS[:3])
    close_dropdown(page)

    slide(page, "horizon", "ArrowRight", 3)
    expect(thumb).to_have_value("6")
    expect(page.get_by_text("2 series, 6 months ahead.")).to_be_visible()
    settled(page)
    expect(offered(page, "promo_periods")).to_have_text(FORECAST_MONTHS[:6])
    close_dropdown(page)
    expect(page.locator(CHART)).to_be_visible()

    page.locator(keyed("save_forecast")).get_by_role("button").click()
    saved = page.get_by_text("Saved the base forecast (12 rows) as run")
    expect(saved).to_be_visible()
    settled(page)
    screenshot(page, shots / "forecast.png")
    return saved.locator("code").inner_text()


def see_predictions(page: Any, run_id: str, shots: Path) -> None:
    """The saved run is listed and charted; its periods have no actuals yet."""
    from playwright.sync_api import expect

    open_page(page, "Predictions")
    expect(heading(page, "Saved forecasts")).to_be_visible()
    expect(page.locator(TABLE).first).to_be_visible()
    expect(page.get_by_text("No forecast period has complete actuals yet.")).to_be_visible()
    run = page.locator(keyed("run")).get_by_role("combobox")
    expect(run).to_have_value(re.compile(rf"^{run_id[:8]} · #1 "))
    expect(page.locator(CHART)).to_be_visible()
    settled(page)
    screenshot(page, shots / "predictions.png")


@pytest.mark.e2e
def test_a_sales_file_goes_from_upload_to_a_saved_forecast(
    page: Any, app_server: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)
    page.set_default_timeout(TRAINING_MS)  # settled() waits out the slowest script run
    csv = write_sales_csv(tmp_path / "shop-export.csv")
    shots = Path(SCREENSHOT_DIR) if SCREENSHOT_DIR else tmp_path

    visit_empty_pages(page, app_server.url)
    load_file(page, csv)
    screenshot(page, shots / "data.png")
    see_overview(page)
    screenshot(page, shots / "overview.png")
    explore(page, shots)
    train(page, shots)
    present_and_save(page, shots)
    run_id = forecast(page, shots)
    see_predictions(page, run_id, shots)
