"""The two real files load through the Data page, on SQLite and on MySQL, with exact accounting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from salesml import charts, db
from tests.e2e.test_browser import go_to, keyed, settled, tile

pytestmark = [pytest.mark.e2e, pytest.mark.realdata]

# Validating and loading Online Retail's 541,909 lines takes 10-25 s; leave room for a busy host.
SLOW_STEP_MS = 180_000
SUPERSTORE_ROWS = 9_994
RETAIL_READ, RETAIL_REJECTED, RETAIL_DUPLICATES = 541_909, 1_454, 5_268
RETAIL_LOADED = RETAIL_READ - RETAIL_REJECTED - RETAIL_DUPLICATES


def metric(page: Any, label: str) -> Any:
    """The value shown in the st.metric tile with this label."""
    return tile(page, label).locator('[data-testid="stMetricValue"]')


def mapped(page: Any, field: str) -> Any:
    """The column-mapping selectbox of one field."""
    return page.locator(keyed(f"map_{field}")).get_by_role("combobox")


def upload(page: Any, path: Path, expected_mapping: dict[str, str]) -> None:
    """Choose a file in the uploader and check the columns the page detected."""
    from playwright.sync_api import expect

    page.locator(f'{keyed("upload")} input[type="file"]').set_input_files(path)
    for field, column in expected_mapping.items():
        expect(mapped(page, field)).to_have_value(column, timeout=SLOW_STEP_MS)
    settled(page)


def validate(page: Any, *, read: int, rejected: int, duplicates: int) -> None:
    """Press Validate and check the counts the page shows."""
    from playwright.sync_api import expect

    page.locator(keyed("validate")).get_by_role("button").click()
    expect(metric(page, "Rows read")).to_have_text(f"{read:,}", timeout=SLOW_STEP_MS)
    expect(metric(page, "Rejected")).to_have_text(f"{rejected:,}")
    expect(metric(page, "Duplicates")).to_have_text(f"{duplicates:,}")
    expect(metric(page, "To load")).to_have_text(f"{read - rejected - duplicates:,}")
    settled(page)


def load(page: Any, message: str) -> None:
    """Press Load and wait for the success message."""
    from playwright.sync_api import expect

    page.locator(keyed("load")).get_by_role("button").click()
    success = page.locator('[data-testid="stAlertContentSuccess"]').filter(has_text="Loaded")
    expect(success).to_have_text(message, timeout=SLOW_STEP_MS)
    settled(page)


def test_real_files_load_through_the_data_page(
    page: Any, app_on_each_backend: Any, shared_data: Path
) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)
    page.set_default_timeout(SLOW_STEP_MS)  # settled() waits out the script run of a slow step
    page.goto(app_on_each_backend.url)
    expect(page.get_by_text("The database is empty")).to_be_visible()
    settled(page)
    go_to(page, "Data")
    expect(page.get_by_text("No file has been loaded yet.")).to_be_visible()
    settled(page)

    upload(page, shared_data / "superstore_raw.csv", {"date": "Order Date", "revenue": "Sales"})
    validate(page, read=SUPERSTORE_ROWS, rejected=0, duplicates=0)
    expect(page.get_by_text("Every row passed validation.")).to_be_visible()
    expect(page.get_by_text("text in Mac Roman (detected)")).to_be_visible()
    expect(
        page.get_by_text("Read as: dates day-month-year, numbers with a decimal point.")
    ).to_be_visible()
    load(
        page,
        f"Loaded {SUPERSTORE_ROWS:,} rows as batch 1; 0 already present, 0 rejected, "
        "0 duplicate lines skipped.",
    )

    retail_mapping = {"date": "InvoiceDate", "revenue": "(none)", "unit_price": "UnitPrice"}
    upload(page, shared_data / "online_retail.parquet", retail_mapping)
    validate(page, read=RETAIL_READ, rejected=RETAIL_REJECTED, duplicates=RETAIL_DUPLICATES)
    expect(page.get_by_text(f"Rejected rows ({RETAIL_REJECTED:,})")).to_be_visible()
    load(
        page,
        f"Loaded {RETAIL_LOADED:,} rows as batch 2; 0 already present, "
        f"{RETAIL_REJECTED:,} rejected, {RETAIL_DUPLICATES:,} duplicate lines skipped.",
    )

    go_to(page, "Overview")
    # The tile is compact (545k); the exact count is checked in the database below.
    expect(metric(page, "Sales lines")).to_have_text(
        charts.compact_number(SUPERSTORE_ROWS + RETAIL_LOADED)
    )
    expect(metric(page, "Files loaded")).to_have_text("2")
    settled(page)

    engine = db.create_engine_for(app_on_each_backend.database_url)
    try:
        assert db.overview(engine).rows == SUPERSTORE_ROWS + RETAIL_LOADED
        batches = [(b.file_name, b.rows_read, b.rows_loaded) for b in db.list_batches(engine)]
    finally:
        engine.dispose()
    assert batches == [
        ("online_retail.parquet", RETAIL_READ, RETAIL_LOADED),
        ("superstore_raw.csv", SUPERSTORE_ROWS, SUPERSTORE_ROWS),
    ]
