"""One real-browser walk through the app: overview, upload, validate, load, back to overview."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

# `make screenshots` points this at docs/ to refresh the README's pictures; a plain test run
# writes them to a temporary directory so it never changes committed files.
SCREENSHOT_DIR = os.environ.get("SALESML_SCREENSHOT_DIR")
EXCEPTION = '[data-testid="stException"]'
ROWS = 20  # in the file, one of them with a date that does not exist


def write_sales_csv(path: Path) -> Path:
    """A small sales file of ROWS lines, one with an impossible date."""
    lines = ["Order Date,Product Name,Category,Quantity,Sales"]
    products = [("Espresso Machine", "Kitchen", 249.0), ("Desk Lamp", "Office", 35.5)]
    for day in range(1, ROWS):
        name, category, price = products[day % 2]
        quantity = 1 + day % 3
        lines.append(f"2024-03-{day:02d},{name},{category},{quantity},{quantity * price:.2f}")
    lines.append("2024-02-30,Desk Lamp,Office,1,35.50")
    path.write_text("\n".join(lines) + "\n")
    return path


def keyed(key: str) -> str:
    """The CSS selector of the element Streamlit draws for a widget key."""
    return f".st-key-{key}"


def settled(page: Any) -> None:
    """Wait for the script run to finish, then check no traceback is on the page."""
    page.wait_for_load_state("networkidle")
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


@pytest.mark.e2e
def test_upload_validate_load_and_see_the_data(page: Any, app_server: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)
    csv = write_sales_csv(tmp_path / "shop-export.csv")
    shots = Path(SCREENSHOT_DIR) if SCREENSHOT_DIR else tmp_path

    page.goto(app_server.url)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_text("The database is empty")).to_be_visible()
    settled(page)

    go_to(page, "Data")
    expect(page.get_by_role("heading", name="Load a file")).to_be_visible()
    expect(page.get_by_text("No file has been loaded yet.")).to_be_visible()
    settled(page)

    page.locator(f'{keyed("upload")} input[type="file"]').set_input_files(csv)
    expect(page.locator(keyed("map_date")).get_by_role("combobox")).to_have_value("Order Date")
    expect(page.locator(keyed("map_revenue")).get_by_role("combobox")).to_have_value("Sales")
    settled(page)

    page.locator(keyed("validate")).get_by_role("button").click()
    expect(page.get_by_text("Rejected rows (1)")).to_be_visible()
    expect(tile(page, "Rejected")).to_contain_text("1")
    expect(page.locator(keyed("download_rejections"))).to_be_visible()
    settled(page)

    page.locator(keyed("load")).get_by_role("button").click()
    expect(page.get_by_text(f"Loaded {ROWS - 1} rows as batch 1")).to_be_visible()
    history = page.locator('[data-testid="stDataFrame"]').last
    expect(history).to_be_visible()
    expect(page.locator(keyed("delete_batch")).get_by_role("combobox")).to_have_value(
        "Batch 1: shop-export.csv"
    )
    settled(page)
    screenshot(page, shots / "data.png")

    go_to(page, "Overview")
    expect(tile(page, "Sales lines")).to_contain_text(str(ROWS - 1))
    expect(tile(page, "Files loaded")).to_contain_text("1")
    settled(page)
    screenshot(page, shots / "overview.png")
