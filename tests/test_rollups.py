"""The rollups hold the totals of the sales lines, to the cent, whatever was loaded or deleted."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from salesml import analytics, rollups, series
from salesml.deletion import delete_batch
from salesml.errors import NothingToLoadError
from salesml.ingest import ingest_file
from tests.test_ingest import csv_bytes

AGREED = {"sales_daily_category": 0, "sales_monthly_product": 0}


def sales_lines(seed: int, count: int, *, start: str = "2023-11-20", days: int = 130) -> bytes:
    """Sales lines over a few months, with returns, cents and several products per category."""
    rng = np.random.default_rng(seed)
    products = [f"Item {n:02d}" for n in range(12)]
    chosen = rng.integers(0, len(products), count)
    quantity = rng.integers(1, 6, count) * np.where(rng.random(count) < 0.1, -1, 1)
    frame = pd.DataFrame(
        {
            "Order Date": (
                pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, days, count), "D")
            ).strftime("%Y-%m-%d"),
            "Product Name": [products[i] for i in chosen],
            "Category": [f"Group {i % 3}" for i in chosen],
            "Quantity": quantity,
            "Sales": (quantity * rng.integers(100, 10_000, count) / 100).round(2),
        }
    )
    return frame.to_csv(index=False).encode()


def kept(engine, table: str) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(sa.text(f"SELECT * FROM {table}"), conn)


def lines(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        frame = pd.read_sql(sa.text("SELECT * FROM sales_data"), conn)
    frame["date"] = pd.to_datetime(frame["date"].astype(str))
    frame["revenue"] = frame["revenue"].astype(float)
    return frame


def test_a_load_adds_its_lines_to_both_rollups(engine):
    ingest_file(
        engine,
        csv_bytes(
            "2024-01-02,Desk Lamp,Office,2,40.10",
            "2024-01-02,Stapler,Office,1,9.55",
            "2024-01-02,Stapler,Office,-1,-9.55",
            "2024-01-31,Kettle,Kitchen,3,75.00",
            '2024-01-31,"Mug ""Big"", 1L",Kitchen,1,5.00',
        ),
    )
    daily = kept(engine, "sales_daily_category").set_index(["category"])
    office = daily.loc["Office"]
    assert str(office["date"])[:10] == "2024-01-02"
    assert float(office["revenue"]) == 40.10
    assert (office["quantity"], office["line_count"], office["return_lines"]) == (2, 3, 1)
    assert float(office["returned_revenue"]) == 9.55
    assert float(office["gross_revenue"]) == 49.65
    monthly = kept(engine, "sales_monthly_product").set_index("product_name")
    assert {str(day)[:10] for day in monthly["month"]} == {"2024-01-01"}
    assert float(monthly.loc["Stapler", "revenue"]) == 0.0
    assert monthly.loc["Stapler", "line_count"] == 2
    assert float(monthly.loc['Mug "Big", 1L', "revenue"]) == 5.0
    assert rollups.differences(engine) == AGREED


@pytest.mark.slow
def test_rollups_agree_with_the_lines_after_loads_overlaps_deletes_and_reloads(engine):
    first = ingest_file(engine, sales_lines(1, 3_000), name="first.csv")
    assert rollups.differences(engine) == AGREED
    # The same file again plus new lines: only the new lines are added.
    both = sales_lines(1, 3_000).decode() + sales_lines(2, 2_000).decode().split("\n", 1)[1]
    second = ingest_file(engine, both.encode(), name="second.csv")
    assert second.rows_already_present == 3_000
    assert rollups.differences(engine) == AGREED
    delete_batch(engine, first.batch_id)
    assert rollups.differences(engine) == AGREED
    ingest_file(engine, sales_lines(1, 3_000), name="first again.csv")
    assert rollups.differences(engine) == AGREED
    with pytest.raises(NothingToLoadError):
        ingest_file(engine, sales_lines(1, 3_000), name="first once more.csv")
    delete_batch(engine, second.batch_id)
    assert rollups.differences(engine) == AGREED
    expected = lines(engine).groupby("category")["revenue"].sum().round(2)
    daily = kept(engine, "sales_daily_category")
    assert daily.groupby("category")["revenue"].sum().astype(float).round(2).equals(expected)


def test_deleting_every_batch_leaves_the_rollups_empty(engine):
    batches = [ingest_file(engine, sales_lines(seed, 500)).batch_id for seed in (3, 4)]
    for batch_id in batches:
        delete_batch(engine, batch_id)
    assert kept(engine, "sales_daily_category").empty
    assert kept(engine, "sales_monthly_product").empty


def test_a_rollup_out_of_step_is_found_and_a_rebuild_puts_it_right(engine):
    ingest_file(engine, sales_lines(5, 1_000))
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE sales_monthly_product SET revenue = revenue + 0.01 "
            "WHERE product_name = 'Item 03'"
        )
        conn.exec_driver_sql("DELETE FROM sales_daily_category WHERE category = 'Group 1'")
    found = rollups.differences(engine)
    assert found["sales_monthly_product"] > 0 and found["sales_daily_category"] > 0
    counts = rollups.rebuild(engine)
    assert rollups.differences(engine) == AGREED
    assert counts == {
        "sales_daily_category": len(kept(engine, "sales_daily_category")),
        "sales_monthly_product": len(kept(engine, "sales_monthly_product")),
    }


# Date ranges cutting months in every way: open ends, first and last days, inside one month.
RANGES = [
    (None, None),
    (dt.date(2023, 12, 1), dt.date(2024, 2, 29)),
    (dt.date(2023, 12, 15), dt.date(2024, 2, 10)),
    (None, dt.date(2024, 1, 17)),
    (dt.date(2024, 1, 17), None),
    (dt.date(2024, 1, 5), dt.date(2024, 1, 25)),
    (dt.date(2024, 1, 1), dt.date(2024, 1, 31)),
    (dt.date(2023, 12, 31), dt.date(2024, 2, 1)),
]


@pytest.mark.parametrize(("start", "end"), RANGES)
@pytest.mark.parametrize("categories", [(), ("Group 2",)])
def test_explorer_figures_from_rollups_equal_the_sums_of_the_lines(
    sqlite_engine, start, end, categories
):
    ingest_file(sqlite_engine, sales_lines(6, 4_000))
    frame = lines(sqlite_engine)
    inside = frame[
        (frame["date"] >= pd.Timestamp(start or "1900-01-01"))
        & (frame["date"] <= pd.Timestamp(end or "2100-01-01"))
        & (frame["category"].isin(categories) if categories else True)
    ]
    filters = analytics.Filters(start, end, categories)
    summary = analytics.summarise(sqlite_engine, filters)
    assert summary.kpis() == analytics.Kpis(
        round(inside["revenue"].sum(), 2), int(inside["quantity"].sum()), len(inside)
    )
    top = analytics.top_products(sqlite_engine, filters, n=5)
    expected = (
        inside.groupby("product_name")["revenue"]
        .sum()
        .round(2)
        .reset_index()
        .sort_values(["revenue", "product_name"], ascending=[False, True])
        .head(5)
    )
    assert top["product_name"].tolist() == expected["product_name"].tolist()
    assert top["value"].tolist() == expected["revenue"].tolist()


@pytest.mark.parametrize(
    ("level", "freq", "start", "end"),
    [
        ("total", "D", None, None),
        ("category", "W", None, None),
        ("category", "M", dt.date(2023, 12, 10), None),
        ("category", "Q", None, None),
        ("product", "M", None, None),  # the monthly rollup
        ("product", "Q", dt.date(2023, 12, 1), dt.date(2024, 2, 29)),  # the monthly rollup
        ("product", "M", dt.date(2023, 12, 10), None),  # a month cut: the lines
        ("product", "W", None, None),  # the lines
    ],
)
def test_series_from_rollups_equal_the_sums_of_the_lines(engine, level, freq, start, end):
    ingest_file(engine, sales_lines(7, 2_000))
    built = series.load_series(
        engine, level=level, freq=freq, start=start, end=end, keep_partial=True
    ).frame
    frame = lines(engine)
    frame = frame[
        (frame["date"] >= pd.Timestamp(start or "1900-01-01"))
        & (frame["date"] <= pd.Timestamp(end or "2100-01-01"))
    ]
    alias = {"D": "D", "W": "W-SUN", "M": "M", "Q": "Q"}[freq]
    ids = {"total": pd.Series("Total", index=frame.index), "category": frame["category"]}
    ids["product"] = frame["product_name"]
    expected = frame.groupby([ids[level], frame["date"].dt.to_period(alias)])["revenue"].sum()
    got = built.set_index(["unique_id", built["ds"].dt.to_period(alias)])["y"]
    got = got[got != 0]  # periods without sales are filled with zeros
    assert got.round(2).to_dict() == expected[expected != 0].round(2).to_dict()


def test_a_batch_of_several_chunks_goes_in_by_date_and_product_and_keeps_every_line(
    engine, monkeypatch
):
    monkeypatch.setattr("salesml.ingest.load.CHUNK_ROWS", 250)
    summary = ingest_file(engine, sales_lines(8, 1_000))
    assert summary.rows_loaded == 1_000
    with engine.connect() as conn:
        stored = pd.read_sql(
            sa.text("SELECT product_name, date FROM sales_data ORDER BY transaction_id"), conn
        )
    stored["date"] = stored["date"].astype(str)
    in_order = stored.sort_values(["date", "product_name"], kind="stable", ignore_index=True)
    assert stored.equals(in_order)
    assert rollups.differences(engine) == AGREED


def test_top_products_tied_to_the_cent_are_ranked_by_name(sqlite_engine):
    # Q's 0.10 + 0.20 comes from two parts (a cut month and a whole one): as floats it is
    # 0.30000000000000004, which must not rank above P's 0.30.
    ingest_file(
        sqlite_engine,
        csv_bytes("2024-03-20,P,C,1,0.30", "2024-03-20,Q,C,1,0.10", "2024-04-05,Q,C,1,0.20"),
    )
    filters = analytics.Filters(dt.date(2024, 3, 15), dt.date(2024, 4, 30))
    top = analytics.top_products(sqlite_engine, filters, n=1)
    assert top["product_name"].tolist() == ["P"]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (None, dt.date.max),
        (dt.date(9999, 12, 15), None),
        (dt.date.min, dt.date(1, 1, 20)),
        (dt.date.min, dt.date.max),
    ],
)
def test_the_furthest_dates_there_are_ask_for_every_sale_between_them(sqlite_engine, start, end):
    ingest_file(sqlite_engine, sales_lines(9, 200))
    filters = analytics.Filters(start, end)
    every = end == dt.date.max
    top = analytics.top_products(sqlite_engine, filters, n=3)
    assert len(top) == (3 if every else 0)
    built = series.load_series(sqlite_engine, level="product", freq="M", start=start, end=end)
    assert built.frame.empty != every


def test_a_mariadb_url_gets_the_mysql_statements():
    assert rollups.dialect_name("mariadb") == "mysql"
    assert "ON DUPLICATE KEY UPDATE" in rollups.merge_sql(rollups.MONTHLY_PRODUCT, "mariadb")
    assert "DAYOFMONTH" in rollups.merge_sql(rollups.MONTHLY_PRODUCT, "mariadb")
