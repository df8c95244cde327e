"""The demo data set: realistic, deterministic, and loaded through the normal ingest path."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest

from salesml import db, demo, predictions, registry
from salesml.errors import NothingToLoadError
from salesml.ingest import LoadProgress


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """The default demo, generated once; tests must not modify it."""
    return demo.generate_demo()


@pytest.fixture(scope="module")
def sales(frame: pd.DataFrame) -> pd.DataFrame:
    """The demo's valid-dated lines with a parsed date, for the shape-of-demand tests."""
    dates = pd.to_datetime(frame["Order Date"], format="%Y-%m-%d", errors="coerce")
    return frame.assign(date=dates).dropna(subset=["date"])


def _bad_dates(frame: pd.DataFrame) -> pd.Series:
    dates = pd.to_datetime(frame["Order Date"], format="%Y-%m-%d", errors="coerce")
    return frame.loc[dates.isna(), "Order Date"]


@pytest.mark.slow
def test_demo_is_deterministic_for_a_seed() -> None:
    pd.testing.assert_frame_equal(demo.generate_demo(seed=3), demo.generate_demo(seed=3))
    assert demo.demo_csv_bytes(seed=3) == demo.demo_csv_bytes(seed=3)


@pytest.mark.slow
def test_different_seeds_give_different_data() -> None:
    assert demo.demo_csv_bytes(seed=1) != demo.demo_csv_bytes(seed=2)


def test_demo_looks_like_a_shop_export(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == list(demo.COLUMNS)
    assert frame["Order Date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    lines_per_order = frame.groupby("Order ID").size()
    assert lines_per_order.max() > 1
    assert 1.2 < lines_per_order.mean() < 2.5
    assert not frame.duplicated(["Order ID", "Product Name"]).any()


def test_demo_has_several_categories_and_products_over_several_years(
    sales: pd.DataFrame,
) -> None:
    products = sales.groupby("Category")["Product Name"].nunique()
    assert len(products) == 4
    assert products.between(3, 6).all()
    assert sorted(sales["date"].dt.year.unique()) == [2022, 2023, 2024, 2025]
    assert 40_000 <= len(sales) <= 80_000
    assert sales.groupby("date").size().median() >= 20


def test_demo_prices_differ_by_category(sales: pd.DataFrame) -> None:
    sold = sales[sales["Quantity"] > 0]
    unit_price = (sold["Revenue"] / sold["Quantity"]).groupby(sold["Category"]).median()
    assert unit_price["Electronics"] > 3 * unit_price["Office Supplies"]


def test_demo_has_growing_and_declining_products(sales: pd.DataFrame) -> None:
    units = sales.groupby(["Product Name", sales["date"].dt.year])["Quantity"].sum().unstack()
    change = units[2025] / units[2022]
    assert (change > 1.5).sum() >= 2
    assert (change < 0.7).sum() >= 2


def test_demo_has_yearly_seasonality_and_holiday_peaks(sales: pd.DataFrame) -> None:
    monthly = sales.groupby(["Category", sales["date"].dt.year, sales["date"].dt.month])[
        "Revenue"
    ].sum()
    for year in range(2022, 2026):
        electronics = monthly.loc[("Electronics", year)]
        office = monthly.loc[("Office Supplies", year)]
        outdoor = monthly.loc[("Outdoor", year)]
        december_peak = electronics[12] / electronics.mean()
        assert december_peak > 1.5
        assert december_peak > office[12] / office.mean() + 0.3  # offices skip Christmas
        assert outdoor[[6, 7, 8]].mean() > 2 * outdoor[[1, 2, 12]].mean()


@pytest.mark.parametrize("black_friday", [date(2022, 11, 25), date(2024, 11, 29)])
def test_demo_peaks_on_black_friday(sales: pd.DataFrame, black_friday: date) -> None:
    daily = sales.groupby("date")["Revenue"].sum()
    november = daily[(daily.index.year == black_friday.year) & (daily.index.month == 11)]
    assert november.idxmax().date() == black_friday
    assert november.max() > 2 * november.median()


def test_demo_has_weekly_seasonality(sales: pd.DataFrame) -> None:
    weekend = sales["date"].dt.dayofweek >= 5
    days = sales.groupby(["Category", weekend])["date"].nunique()
    units = sales.groupby(["Category", weekend])["Quantity"].sum() / days
    assert units[("Outdoor", True)] > 1.3 * units[("Outdoor", False)]
    assert units[("Office Supplies", False)] > 2 * units[("Office Supplies", True)]


def test_demo_has_promotions_with_discounted_prices(sales: pd.DataFrame) -> None:
    sold = sales[sales["Quantity"] > 0]
    unit_price = sold["Revenue"] / sold["Quantity"]
    list_price = unit_price.groupby([sold["Product Name"], sold["date"].dt.year]).transform("max")
    discounted = (unit_price < 0.95 * list_price).mean()
    assert 0.01 < discounted < 0.25


def test_demo_has_a_few_deliberate_imperfections(frame: pd.DataFrame) -> None:
    assert 0.0005 < frame["Quantity"].isna().mean() < 0.002
    assert 0.0005 < frame["Revenue"].isna().mean() < 0.002
    returns = frame["Quantity"] < 0
    assert 0.005 < returns.mean() < 0.02
    assert (frame.loc[returns, "Revenue"].dropna() < 0).all()
    assert (frame.loc[frame["Quantity"] > 0, "Revenue"].dropna() > 0).all()
    assert len(_bad_dates(frame)) == demo.BAD_DATES


def test_demo_keeps_to_the_requested_range() -> None:
    small = demo.generate_demo(start=date(2024, 3, 1), end=date(2024, 5, 31))
    dates = pd.to_datetime(small["Order Date"], format="%Y-%m-%d", errors="coerce").dropna()
    assert dates.min() == pd.Timestamp(2024, 3, 1)
    assert dates.max() == pd.Timestamp(2024, 5, 31)
    assert len(_bad_dates(small)) == demo.BAD_DATES


@pytest.mark.slow
def test_demo_csv_bytes_hold_the_frame(frame: pd.DataFrame) -> None:
    data = demo.demo_csv_bytes()
    read = pd.read_csv(io.BytesIO(data), encoding="utf-8", dtype={"Quantity": "Int64"})
    pd.testing.assert_frame_equal(read, frame)


@pytest.mark.slow
def test_demo_loads_with_exact_accounting(engine, frame: pd.DataFrame) -> None:
    progress: list[LoadProgress] = []
    summary = demo.load_demo(engine, progress=progress.append)
    assert summary.file_name == "demo_sales.csv"
    assert summary.rows_read == len(frame)
    assert summary.rows_read == (
        summary.rows_loaded
        + summary.rows_rejected
        + summary.rows_duplicate
        + summary.rows_already_present
    )
    assert summary.rows_rejected == demo.BAD_DATES
    assert summary.rows_duplicate == 0
    assert summary.imputed_quantity == frame["Quantity"].isna().sum()
    assert summary.imputed_revenue == frame["Revenue"].isna().sum()
    assert summary.rows_imputed > 0
    assert summary.rows_returns == (frame["Quantity"] < 0).sum() > 0
    assert db.overview(engine).rows == summary.rows_loaded
    assert progress[-1].share == 1.0 and progress[-1].rows == summary.rows_loaded


@pytest.mark.slow
def test_demo_rejection_report_lists_the_bad_dates(sqlite_engine, frame: pd.DataFrame) -> None:
    summary = demo.load_demo(sqlite_engine)
    rejections = db.batch_rejections(sqlite_engine, summary.batch_id)
    assert [r.raw_value for r in rejections] == _bad_dates(frame).tolist()
    assert {r.column_name for r in rejections} == {"Order Date"}


@pytest.mark.slow
def test_loading_the_demo_twice_changes_nothing(engine) -> None:
    demo.load_demo(engine)
    before = db.overview(engine)
    with pytest.raises(NothingToLoadError, match="already in the database"):
        demo.load_demo(engine)
    assert db.overview(engine) == before


@pytest.mark.slow
def test_the_demo_comes_with_a_ready_model(engine, tmp_path) -> None:
    """A manager's first visit finds a forecast: the demo trains and saves a model."""
    demo.load_demo(engine)
    stages: list[str] = []
    record = demo.train_demo_model(engine, model_dir=tmp_path, progress=stages.append)
    assert [m.id for m in registry.list_models(engine)] == [record.id]
    assert (record.level, record.freq, record.target) == ("category", "M", "revenue")
    model, _ = registry.load_model(engine, record.id, model_dir=tmp_path)
    table = predictions.forecast_frame(model, record.horizon)
    categories = {product.category for product in demo.CATALOGUE}
    assert set(table["series"]) == categories
    assert len(table) == len(categories) * record.horizon
    assert stages
