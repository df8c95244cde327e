"""The Explorer page and the Overview's tiles, driven by AppTest (SQLite, MySQL where marked)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from streamlit import dataframe_util
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.testing.v1 import AppTest

from salesml import analytics, charts, views
from salesml.analytics import Filters
from salesml.db import create_engine_for, init_db
from salesml.ingest import IngestOptions, ingest_file
from tests.app import driver
from tests.app.driver import click, metric_tile, rerun, shown, texts
from tests.conftest import _empty_mysql

PAGE = "pages/explorer.py"
UNREACHABLE_MYSQL = "mysql+pymysql://nobody@127.0.0.1:1/none"
NO_MATCH = "No sales match these filters"
# The Explorer's charts, in the order the page draws them.
CHARTS = ("over_time", "by_category", "top_products", "month_year", "year_over_year", "weekday")
# Two sales a week apart, so a date range between them selects nothing.
GAP_CSV = (
    b"Order Date,Product Name,Category,Quantity,Sales\n"
    b"2024-01-01,Widget,Tools,2,20.00\n"
    b"2024-01-10,Gadget,Toys,1,15.50\n"
)


def open_page(page: str = PAGE) -> AppTest:
    """Run the app and switch to a page (the Explorer unless told otherwise)."""
    return driver.open_page(page)


def open_address(params: dict[str, str | list[str]]) -> AppTest:
    """Open the Explorer from an address with these query parameters (a shared link)."""
    at = AppTest.from_file(driver.APP, default_timeout=60)
    at.secrets = {"SALESML_TEST": "isolated"}
    at.query_params.update(params)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def database_path(app_dir: Path) -> Path:
    """The app's (empty) test database file."""
    return app_dir / "app.db"


@pytest.fixture
def demo(database_path: Path, demo_database: Path) -> Iterator[Engine]:
    """This test's own copy of the demo database."""
    shutil.copy(demo_database, database_path)
    engine = create_engine_for(f"sqlite:///{database_path}")
    yield engine
    engine.dispose()


@pytest.fixture
def gap(database_path: Path) -> Iterator[Engine]:
    """The database with GAP_CSV loaded."""
    engine = create_engine_for(f"sqlite:///{database_path}")
    init_db(engine)
    ingest_file(engine, GAP_CSV, name="gap.csv")
    yield engine
    engine.dispose()


def app_database(
    request: pytest.FixtureRequest, database_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Engine:
    """The app's database, migrated and empty: SQLite, or MySQL for the "mysql" parameter."""
    url = f"sqlite:///{database_path}"
    if request.param == "mysql":
        url = request.getfixturevalue("mysql_server_url")
        _empty_mysql(url).dispose()
        monkeypatch.setenv("SALESML_DATABASE_URL", url)
    engine = create_engine_for(url)
    init_db(engine)
    return engine


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def gap_anywhere(
    request: pytest.FixtureRequest, database_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    """GAP_CSV loaded into the app's database, once on SQLite and once on MySQL."""
    engine = app_database(request, database_path, monkeypatch)
    ingest_file(engine, GAP_CSV, name="gap.csv")
    yield engine
    engine.dispose()


def drawn_charts(at: AppTest) -> dict[str, Any]:
    """The page's Altair charts by name (see CHARTS)."""
    drawn = at.get("vega_lite_chart")
    assert len(drawn) == len(CHARTS)
    return dict(zip(CHARTS, drawn, strict=True))


def chart_data(at: AppTest, name: str) -> pd.DataFrame:
    """The data a chart was drawn from."""
    proto = drawn_charts(at)[name].proto
    return dataframe_util.convert_arrow_bytes_to_pandas_df(proto.datasets[0].data.data)


def chart_spec(at: AppTest, name: str) -> dict[str, Any]:
    """A chart's Vega-Lite specification."""
    return json.loads(drawn_charts(at)[name].proto.spec)


# --------------------------------------------------------------------------- empty, errors


def test_explorer_on_an_empty_database_says_how_to_load_data() -> None:
    at = open_page()
    assert "database is empty" in texts(at.info)
    assert not at.error
    assert not at.metric
    assert not at.get("vega_lite_chart")


def test_explorer_with_an_unreachable_database_shows_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SALESML_DATABASE_URL", UNREACHABLE_MYSQL)
    at = open_page()
    assert "cannot reach the database" in texts(at.error)


# --------------------------------------------------------------------------- the demo data


@pytest.mark.slow
def test_explorer_shows_the_figures_and_every_chart_of_the_whole_history(demo: Engine) -> None:
    at = open_page()
    assert not at.error and not at.warning
    totals = analytics.kpis(demo, Filters())
    assert metric_tile(at, "Revenue").value == charts.compact_amount(totals.revenue)
    assert metric_tile(at, "Order lines").value == charts.compact_number(totals.lines)
    assert at.date_input(key="dates").value == (dt.date(2022, 1, 1), dt.date(2025, 12, 31))
    assert set(drawn_charts(at)) == set(CHARTS)
    assert chart_data(at, "year_over_year")["year"].unique().tolist() == [2022, 2023, 2024, 2025]
    assert len(chart_data(at, "weekday")) == 1461


def test_choosing_a_category_changes_the_figures_and_charts(demo: Engine) -> None:
    at = open_page()
    everything = metric_tile(at, "Revenue").value
    at.multiselect(key="categories").set_value(["Outdoor"])
    rerun(at)
    outdoor = Filters(categories=["Outdoor"])
    revenue = analytics.kpis(demo, outdoor).revenue
    assert metric_tile(at, "Revenue").value == charts.compact_amount(revenue)
    assert metric_tile(at, "Revenue").value != everything
    returns = analytics.summarise(demo, outdoor).returns_share()
    assert metric_tile(at, "Return lines").value == charts.compact_number(returns["return_lines"])
    assert chart_data(at, "by_category")["category"].tolist() == ["Outdoor"]
    assert set(chart_data(at, "top_products")["category"]) == {"Outdoor"}


def test_products_on_offer_are_those_of_the_chosen_categories(demo: Engine) -> None:
    at = open_page()
    at.multiselect(key="categories").set_value(["Outdoor"])
    rerun(at)
    assert at.multiselect(key="products").options == analytics.catalogue(demo).products(["Outdoor"])


@pytest.mark.slow
def test_a_chosen_product_outside_new_categories_is_let_go(demo: Engine) -> None:
    at = open_page()
    at.multiselect(key="products").set_value(["Air Fryer"])
    rerun(at)
    assert chart_data(at, "top_products")["product_name"].tolist() == ["Air Fryer"]
    at.multiselect(key="categories").set_value(["Outdoor"])
    rerun(at)
    assert at.multiselect(key="products").value == []
    assert set(chart_data(at, "top_products")["category"]) == {"Outdoor"}


@pytest.mark.slow
def test_grain_changes_the_periods_of_the_time_chart(demo: Engine) -> None:
    at = open_page()
    assert len(chart_data(at, "over_time")) == 210  # Monday weeks from 27 Dec 2021
    at.radio(key="grain").set_value("M")
    rerun(at)
    monthly = chart_data(at, "over_time")
    assert len(monthly) == 48
    assert monthly["ds"].min() == pd.Timestamp("2022-01-01")
    assert "Revenue per month" in texts(at.subheader)


def test_rolling_window_of_one_period_follows_the_values(demo: Engine) -> None:
    at = open_page()
    weekly = chart_data(at, "over_time")
    assert not weekly["rolling"].equals(weekly["value"])
    at.slider(key="rolling").set_value(1)
    rerun(at)
    weekly = chart_data(at, "over_time")
    assert weekly["rolling"].equals(weekly["value"])


@pytest.mark.slow
def test_measure_quantity_switches_the_charts_to_units(demo: Engine) -> None:
    at = open_page()
    at.radio(key="measure").set_value("quantity")
    rerun(at)
    assert "Quantity per week" in texts(at.subheader)
    weekly = chart_data(at, "over_time")
    assert weekly["value"].sum() == analytics.kpis(demo, Filters()).quantity
    assert chart_spec(at, "by_category")["encoding"]["x"]["field"] == "quantity"


def test_top_products_slider_sets_how_many_are_shown(demo: Engine) -> None:
    at = open_page()
    assert len(chart_data(at, "top_products")) == 10
    at.slider(key="top_n").set_value(5)
    rerun(at)
    top = chart_data(at, "top_products")
    assert top["product_name"].tolist() == (
        analytics.top_products(demo, Filters(), n=5)["product_name"].tolist()
    )


@pytest.mark.slow
def test_download_builds_the_csv_of_the_filtered_lines_on_click(
    demo: Engine, deferred_downloads: dict[str, Callable[[], Any]]
) -> None:
    at = open_page()
    at.multiselect(key="products").set_value(["Stapler"])
    rerun(at)
    button = at.download_button(key="download_sales")
    lines = analytics.kpis(demo, Filters(products=["Stapler"])).lines
    assert f"Download the {lines:,} sales lines" in button.proto.label
    assert button.proto.deferred_file_id and not button.proto.url  # built on the click
    rows = deferred_downloads["sales-20220101-20251231.csv"]().decode().splitlines()
    assert rows[0] == "date,product_name,category,quantity,revenue,currency"
    assert len(rows) == lines + 1
    assert all(",Stapler,Office Supplies," in row for row in rows[1:])


# --------------------------------------------------------------------------- nothing matches


def test_a_date_range_without_sales_says_so_instead_of_drawing(gap: Engine) -> None:
    at = open_page()
    assert len(at.get("vega_lite_chart")) == len(CHARTS)
    at.date_input(key="dates").set_value((dt.date(2024, 1, 3), dt.date(2024, 1, 5)))
    rerun(at)
    assert NO_MATCH in texts(at.warning)
    assert "widen the date range or clear the category/product filters" in texts(at.warning)
    assert not at.get("vega_lite_chart")
    assert not at.error


def test_picking_the_start_of_a_range_runs_to_the_last_sale(gap: Engine) -> None:
    at = open_page()
    at.date_input(key="dates").set_value((dt.date(2024, 1, 5),))
    rerun(at)
    assert metric_tile(at, "Revenue").value == "15.5"


# --------------------------------------------------------------------------- overview tiles


def test_overview_shows_the_latest_month_against_the_month_before_and_last_year(
    demo: Engine,
) -> None:
    at = open_page("pages/overview.py")
    headline = analytics.headline(demo)
    assert headline is not None
    assert "Latest full month: Dec 2025" in texts(at.subheader)
    for label, now, before, year_ago in [
        ("Revenue", *(k.revenue for k in _periods(headline))),
        ("Quantity", *(k.quantity for k in _periods(headline))),
        ("Order lines", *(k.lines for k in _periods(headline))),
        ("Average line value", *(k.average_line_value for k in _periods(headline))),
    ]:
        tile = metric_tile(at, label)
        money = not isinstance(now, int)
        assert tile.value == (charts.compact_amount(now) if money else charts.compact_number(now))
        assert shown(tile.proto.help) == (charts.money(now) if money else f"{now:,}")
        assert tile.delta == f"{analytics.growth(now, before):+.1%}"
        assert f"{analytics.growth(now, year_ago):+.1%}] vs Dec 2024" in texts(at.markdown)
    assert len(at.get("vega_lite_chart")) == 1


def _periods(headline: analytics.Headline) -> list[analytics.Kpis]:
    return [headline.kpis, headline.previous.kpis, headline.last_year.kpis]


def test_overview_of_a_short_history_says_there_is_nothing_to_compare(gap: Engine) -> None:
    at = open_page("pages/overview.py")
    assert "Whole history: 01 Jan 2024 – 10 Jan 2024" in texts(at.subheader)
    assert metric_tile(at, "Revenue").value == "35.5"
    assert metric_tile(at, "Revenue").delta == ""
    assert "No sales in 22 Dec 2023 – 31 Dec 2023 to compare with" in texts(at.markdown)
    assert "No sales in 01 Jan 2023 – 10 Jan 2023 to compare with" in texts(at.markdown)


# --------------------------------------------------------------------------- stable colours


def category_colour_domains(at: AppTest) -> list[list[str]]:
    """The colour scale domain of every chart coloured by category."""
    return [
        chart_spec(at, name)["encoding"]["color"]["scale"]["domain"]
        for name in ("by_category", "top_products")
    ]


@pytest.mark.slow
def test_each_category_keeps_its_colour_whatever_the_category_filter(demo: Engine) -> None:
    every = analytics.categories(demo)
    at = open_page()
    assert category_colour_domains(at) == [every, every]
    at.multiselect(key="categories").set_value(["Outdoor"])
    rerun(at)
    assert category_colour_domains(at) == [every, every]
    at.multiselect(key="categories").set_value([]).run()
    at.multiselect(key="products").set_value(["Air Fryer"])
    rerun(at)
    assert category_colour_domains(at) == [every, every]


# --------------------------------------------------------------------------- figures on the tiles


def test_tiles_show_compact_figures_with_the_exact_one_on_hover(demo: Engine) -> None:
    at = open_page()
    totals = analytics.kpis(demo, Filters())
    revenue = metric_tile(at, "Revenue")
    assert revenue.value == charts.compact_amount(totals.revenue)
    assert revenue.value.endswith("M") and len(revenue.value) <= 8
    assert charts.money(totals.revenue) in shown(revenue.proto.help)
    lines = metric_tile(at, "Order lines")
    assert f"{totals.lines:,}" in shown(lines.proto.help)
    assert all(len(tile.value) <= 8 for tile in at.metric)


def test_the_currency_setting_is_shown_on_revenue_figures(
    demo: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESML_CURRENCY", "EUR")
    at = open_page()
    totals = analytics.kpis(demo, Filters())
    revenue = metric_tile(at, "Revenue (EUR)")
    assert charts.money(totals.revenue, "EUR") in shown(revenue.proto.help)
    assert metric_tile(at, "Average line value (EUR)")
    assert metric_tile(at, "Returned revenue (EUR)")
    assert metric_tile(at, "Quantity")  # not money


def test_without_a_currency_setting_no_currency_is_shown(demo: Engine) -> None:
    at = open_page()
    assert [tile.label for tile in at.metric][:4] == [
        "Revenue",
        "Quantity",
        "Order lines",
        "Average line value",
    ]


def test_tiles_compare_with_the_period_of_equal_length_just_before(gap_anywhere: Engine) -> None:
    at = open_page()
    at.date_input(key="dates").set_value((dt.date(2024, 1, 6), dt.date(2024, 1, 10)))
    rerun(at)
    # 6-10 Jan sold 15.50 in one line; 1-5 Jan sold 20.00 in one line.
    revenue = metric_tile(at, "Revenue")
    assert (revenue.value, revenue.delta) == ("15.5", "-22.5%")
    assert metric_tile(at, "Order lines").delta == "+0.0%"
    assert "01 Jan 2024 – 05 Jan 2024" in revenue.proto.delta_description


def test_tiles_show_no_change_when_the_period_before_had_no_sales(gap_anywhere: Engine) -> None:
    at = open_page()
    assert all(tile.delta == "" for tile in at.metric)


# --------------------------------------------------------------------------- page address


def test_a_shared_address_opens_the_view_it_names(gap_anywhere: Engine) -> None:
    at = open_address(
        {"start": "2024-01-06", "category": "Toys", "measure": "quantity", "grain": "M"}
    )
    assert not at.warning
    assert at.date_input(key="dates").value == (dt.date(2024, 1, 6), dt.date(2024, 1, 10))
    assert at.multiselect(key="categories").value == ["Toys"]
    assert at.radio(key="measure").value == "quantity"
    assert at.radio(key="grain").value == "M"
    assert metric_tile(at, "Revenue").value == "15.5"


@pytest.mark.slow
def test_changing_a_filter_writes_it_into_the_address(gap_anywhere: Engine) -> None:
    at = open_page()
    assert not any(name in at.query_params for name in views.PARAM_FIELDS)
    at.multiselect(key="categories").set_value(["Tools", "Toys"])
    at.slider(key="rolling").set_value(2)
    rerun(at)
    assert at.query_params["category"] == ["Tools", "Toys"]
    assert at.query_params["rolling"] == "2"
    at.date_input(key="dates").set_value((dt.date(2024, 1, 2), dt.date(2024, 1, 10)))
    rerun(at)
    assert at.query_params["start"] == "2024-01-02"
    assert "end" not in at.query_params  # the last sale is the default end


@pytest.mark.slow
def test_an_address_survives_a_reload(gap: Engine) -> None:
    at = open_page()
    at.multiselect(key="products").set_value(["Gadget"])
    at.radio(key="grain").set_value("D")
    rerun(at)
    reloaded = open_address(dict(at.query_params))
    assert reloaded.multiselect(key="products").value == ["Gadget"]
    assert reloaded.radio(key="grain").value == "D"


def test_what_an_address_holds_that_is_not_understood_is_left_out_with_one_line(
    gap: Engine,
) -> None:
    hostile = "**Toys** [x](javascript:alert(1)) <img src=x onerror=alert(1)> " + "x" * 5000
    at = open_address(
        {"category": ["Toys", hostile, "Garden"], "start": "2024-02-30", "rolling": "99"}
    )
    assert not at.exception and not at.error
    (warning,) = at.warning
    assert "left out: Dates, Categories, Rolling average." in shown(warning.value)
    assert at.multiselect(key="categories").value == ["Toys"]
    assert at.date_input(key="dates").value == (dt.date(2024, 1, 1), dt.date(2024, 1, 10))
    everything = "\n".join(str(e.value) for e in [*at.markdown, *at.caption, *at.warning])
    assert "javascript" not in everything and "onerror" not in everything
    assert at.query_params["category"] == "Toys"  # the address is cleaned up
    assert "rolling" not in at.query_params


# --------------------------------------------------------------------------- presets, reset


@pytest.mark.slow
def test_a_date_preset_sets_the_range_from_the_last_sale(demo: Engine) -> None:
    at = open_page()
    click(at, "preset_last_12_months")
    assert at.date_input(key="dates").value == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    click(at, "preset_last_year")
    assert at.date_input(key="dates").value == (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert at.query_params["start"] == "2024-01-01"
    click(at, "preset_all")
    assert at.date_input(key="dates").value == (dt.date(2022, 1, 1), dt.date(2025, 12, 31))


def highlighted(at: AppTest) -> list[str]:
    """The keys of the date presets drawn as chosen."""
    return [b.key for b in at.button if b.key.startswith("preset_") and b.proto.type == "primary"]


def test_of_two_presets_with_the_same_range_only_the_one_clicked_is_highlighted(
    demo: Engine,
) -> None:
    """The demo ends on 31 Dec 2025: the last 12 months are the year to date."""
    at = open_page()
    click(at, "preset_year_to_date")
    assert highlighted(at) == ["preset_year_to_date"]
    click(at, "preset_last_12_months")
    assert highlighted(at) == ["preset_last_12_months"]


def test_a_range_two_presets_give_highlights_one_of_them(demo: Engine) -> None:
    at = open_page()
    at.date_input(key="dates").set_value((dt.date(2025, 1, 1), dt.date(2025, 12, 31)))
    rerun(at)
    assert highlighted(at) == ["preset_last_12_months"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("preset", "compared"),
    [
        ("preset_last_12_months", "vs 01 Jan 2024 – 31 Dec 2024"),
        ("preset_last_year", "vs 01 Jan 2023 – 31 Dec 2023"),
        ("preset_last_3_months", "vs 01 Jul 2025 – 30 Sep 2025"),
    ],
)
def test_a_calendar_preset_is_compared_with_the_calendar_period_before(
    demo: Engine, preset: str, compared: str
) -> None:
    at = open_page()
    click(at, preset)
    assert metric_tile(at, "Revenue").proto.delta_description == compared


@pytest.mark.slow
def test_reset_clears_every_filter_and_the_address(demo: Engine) -> None:
    at = open_page()
    whole = at.date_input(key="dates").value
    at.multiselect(key="categories").set_value(["Outdoor"])
    at.radio(key="measure").set_value("quantity")
    at.slider(key="rolling").set_value(8)
    rerun(at)
    click(at, "preset_year_to_date")
    click(at, "reset_filters")
    assert at.date_input(key="dates").value == whole
    assert at.multiselect(key="categories").value == []
    assert at.multiselect(key="products").value == []
    assert (at.radio(key="measure").value, at.radio(key="grain").value) == ("revenue", "W")
    assert at.slider(key="rolling").value == 4
    assert not any(name in at.query_params for name in views.PARAM_FIELDS)


# --------------------------------------------------------------------------- clicking a bar


def click_bar(at: AppTest, chart: str, selection: str, point: dict[str, str]) -> AppTest:
    """Click a bar of a chart: the browser sends the chart's point selection as its state."""
    states = WidgetStates()
    states.CopyFrom(at._tree.get_widget_states())
    state = states.widgets.add()
    state.id = drawn_charts(at)[chart].proto.id
    state.string_value = json.dumps({"selection": {selection: [point]}})
    at._run(states)
    assert not at.exception, at.exception
    return at


def test_clicking_a_category_bar_filters_on_that_category(demo: Engine) -> None:
    at = open_page()
    click_bar(at, "by_category", charts.CATEGORY_PICK, {"category": "Outdoor"})
    assert at.multiselect(key="categories").value == ["Outdoor"]
    assert chart_data(at, "by_category")["category"].tolist() == ["Outdoor"]
    assert at.query_params["category"] == "Outdoor"


@pytest.mark.slow
def test_clicking_a_product_bar_filters_on_that_product(demo: Engine) -> None:
    at = open_page()
    top = chart_data(at, "top_products")["product_name"][0]
    click_bar(at, "top_products", charts.PRODUCT_PICK, {"product_name": top})
    assert at.multiselect(key="products").value == [top]
    assert chart_data(at, "top_products")["product_name"].tolist() == [top]


@pytest.mark.slow
def test_a_bar_clicked_again_after_a_reset_filters_again(demo: Engine) -> None:
    at = open_page()
    click_bar(at, "by_category", charts.CATEGORY_PICK, {"category": "Outdoor"})
    click(at, "reset_filters")
    assert at.multiselect(key="categories").value == []
    click_bar(at, "by_category", charts.CATEGORY_PICK, {"category": "Outdoor"})
    assert at.multiselect(key="categories").value == ["Outdoor"]


def test_a_click_on_a_category_that_does_not_exist_changes_nothing(demo: Engine) -> None:
    at = open_page()
    click_bar(at, "by_category", charts.CATEGORY_PICK, {"category": "<b>Nope</b>"})
    assert at.multiselect(key="categories").value == []


# --------------------------------------------------------------------------- on a phone


def test_the_filters_are_on_the_page_not_only_in_the_sidebar(demo: Engine) -> None:
    at = open_page()
    assert not at.sidebar.date_input and not at.sidebar.multiselect and not at.sidebar.radio
    assert "Filters" in [expander.label for expander in at.expander]


# --------------------------------------------------------------------------- currencies

DOLLARS = GAP_CSV  # 35.50 in two lines
POUNDS = b"Order Date,Product Name,Category,Quantity,Sales\n2024-01-03,Tea,Food,1,7.25\n"


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def two_currencies(
    request: pytest.FixtureRequest, database_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    """A dollar file and a pound file in the app's database, on SQLite and on MySQL."""
    engine = app_database(request, database_path, monkeypatch)
    ingest_file(engine, DOLLARS, name="us.csv", options=IngestOptions(currency="USD"))
    ingest_file(engine, POUNDS, name="uk.csv", options=IngestOptions(currency="GBP"))
    yield engine
    engine.dispose()


@pytest.mark.parametrize("page", [PAGE, "pages/overview.py"])
def test_a_database_of_two_currencies_says_so_and_never_adds_them_up(
    two_currencies: Engine, page: str
) -> None:
    at = open_page(page)
    assert "in 2 currencies (USD, GBP)" in texts(at.warning)
    assert at.selectbox(key="currency").value == "USD"  # the currency of most lines
    assert metric_tile(at, "Revenue (USD)").value in ("35.50", charts.compact_amount(35.5))
    at.selectbox(key="currency").set_value("GBP")
    rerun(at)
    tile = metric_tile(at, "Revenue (GBP)")
    assert tile.value in ("7.25", charts.compact_amount(7.25))
    assert not [m for m in at.metric if m.label.startswith("Revenue (USD")]


def test_a_shared_address_opens_the_currency_it_names(two_currencies: Engine) -> None:
    at = open_address({"currency": "GBP"})
    assert at.selectbox(key="currency").value == "GBP"
    assert metric_tile(at, "Revenue (GBP)").value in ("7.25", charts.compact_amount(7.25))
    assert "left out" not in texts(at.warning)


@pytest.mark.slow
def test_choosing_a_currency_writes_it_into_the_address(two_currencies: Engine) -> None:
    at = open_page()
    at.selectbox(key="currency").set_value("GBP")
    rerun(at)
    assert at.query_params["currency"] == "GBP"
    reloaded = open_address(dict(at.query_params))
    assert reloaded.selectbox(key="currency").value == "GBP"


def test_a_currency_the_sales_are_not_in_is_left_out_with_one_line(two_currencies: Engine) -> None:
    at = open_address({"currency": "JPY"})
    assert "left out: Currency." in texts(at.warning)
    assert at.selectbox(key="currency").value == "USD"  # the currency of the most lines
    assert at.query_params["currency"] == "USD"  # the address says what is shown


def test_the_charts_of_one_currency_say_it_on_their_axes(two_currencies: Engine) -> None:
    at = open_page()
    at.selectbox(key="currency").set_value("GBP")
    rerun(at)
    assert chart_spec(at, "by_category")["encoding"]["x"]["title"] == "Revenue (GBP)"
    assert chart_data(at, "by_category")["revenue"].sum() == 7.25


def test_a_database_of_one_currency_shows_it_without_a_word_of_warning(
    gap: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_file(gap, POUNDS, name="uk.csv", options=IngestOptions(currency="EUR"))
    monkeypatch.setenv("SALESML_CURRENCY", "EUR")  # gap.csv said none: the default's
    at = open_page()
    assert not at.warning
    assert "currency" not in [box.key for box in at.selectbox]
    assert charts.money(42.75, "EUR") in shown(metric_tile(at, "Revenue (EUR)").proto.help)


@pytest.mark.slow
def test_the_downloaded_lines_say_their_currency(
    two_currencies: Engine, deferred_downloads: dict[str, Callable[[], Any]]
) -> None:
    at = open_page()
    at.selectbox(key="currency").set_value("GBP")
    rerun(at)
    body = next(iter(deferred_downloads.values()))()
    assert body.decode().splitlines() == [
        "date,product_name,category,quantity,revenue,currency",
        "2024-01-03,Tea,Food,1,7.25,GBP",
    ]


# --------------------------------------------------------------------------- files

MORE_DOLLARS = b"Order Date,Product Name,Category,Quantity,Sales\n2024-01-05,Widget,Tools,3,30.00\n"


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def three_files(
    request: pytest.FixtureRequest, database_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, int]]:
    """Two dollar files and a pound file in the app's database: their batch ids by name."""
    engine = app_database(request, database_path, monkeypatch)
    ids = {}
    for name, body, unit in (
        ("us.csv", DOLLARS, "USD"),  # 35.50 in two lines
        ("uk.csv", POUNDS, "GBP"),  # 7.25 in one line
        ("us-more.csv", MORE_DOLLARS, "USD"),  # 30.00 in one line
    ):
        summary = ingest_file(engine, body, name=name, options=IngestOptions(currency=unit))
        ids[name] = summary.batch_id
    yield ids
    engine.dispose()


def test_the_currency_warning_offers_the_files_of_the_currency_shown(
    three_files: dict[str, int],
) -> None:
    at = open_page()
    (warning,) = at.warning
    assert "Files" in shown(warning.value)
    us, more = three_files["us.csv"], three_files["us-more.csv"]
    files = at.multiselect(key="files")
    assert files.options == [f"us.csv (#{us}, USD)", f"us-more.csv (#{more}, USD)"]
    assert files.value == []  # every file of the currency
    assert metric_tile(at, "Revenue (USD)").value == charts.compact_amount(65.5)


@pytest.mark.slow
def test_choosing_a_file_shows_only_its_figures_charts_and_lines(
    three_files: dict[str, int], deferred_downloads: dict[str, Callable[[], Any]]
) -> None:
    at = open_page()
    at.multiselect(key="files").set_value([three_files["us-more.csv"]])
    rerun(at)
    assert metric_tile(at, "Revenue (USD)").value == charts.compact_amount(30.0)
    assert metric_tile(at, "Order lines").value == "1"
    assert chart_data(at, "by_category")[["category", "revenue"]].to_dict("records") == [
        {"category": "Tools", "revenue": 30.0}
    ]
    assert chart_data(at, "top_products")["product_name"].tolist() == ["Widget"]
    body = next(iter(deferred_downloads.values()))()
    assert body.decode().splitlines()[1:] == ["2024-01-05,Widget,Tools,3,30.0,USD"]


@pytest.mark.slow
def test_another_currency_offers_its_own_files_and_lets_the_others_go(
    three_files: dict[str, int],
) -> None:
    at = open_page()
    at.multiselect(key="files").set_value([three_files["us.csv"]])
    rerun(at)
    at.selectbox(key="currency").set_value("GBP")
    rerun(at)
    uk = three_files["uk.csv"]
    assert at.multiselect(key="files").options == [f"uk.csv (#{uk}, GBP)"]
    assert at.multiselect(key="files").value == []
    assert metric_tile(at, "Revenue (GBP)").value == charts.compact_amount(7.25)
    assert "file" not in at.query_params


@pytest.mark.slow
def test_the_chosen_files_are_kept_in_the_address(three_files: dict[str, int]) -> None:
    at = open_page()
    more = three_files["us-more.csv"]
    at.multiselect(key="files").set_value([more])
    rerun(at)
    assert at.query_params["file"] == str(more)
    reloaded = open_address(dict(at.query_params))
    assert reloaded.multiselect(key="files").value == [more]
    assert metric_tile(reloaded, "Revenue (USD)").value == charts.compact_amount(30.0)
    assert not reloaded.warning[1:]  # the currency warning alone


def test_a_file_the_address_names_that_is_not_loaded_is_left_out_with_one_line(
    three_files: dict[str, int],
) -> None:
    us = three_files["us.csv"]
    at = open_address({"file": [str(us), str(max(three_files.values()) + 1)]})
    assert not at.exception and not at.error
    assert "left out: Files." in texts(at.warning)
    assert at.multiselect(key="files").value == [us]
    assert metric_tile(at, "Revenue (USD)").value == charts.compact_amount(35.5)
    assert at.query_params["file"] == str(us)


@pytest.mark.slow
def test_a_database_of_one_currency_offers_its_files_in_the_filters(gap: Engine) -> None:
    second = ingest_file(gap, MORE_DOLLARS, name="more.csv").batch_id
    at = open_page()
    assert not at.warning
    files = at.multiselect(key="files")
    assert files.options == ["gap.csv (#1)", f"more.csv (#{second})"]
    files.set_value([1])
    rerun(at)
    assert metric_tile(at, "Revenue").value == charts.compact_amount(35.5)
    at.button(key="reset_filters").click()
    rerun(at)
    assert at.multiselect(key="files").value == []
    assert metric_tile(at, "Revenue").value == charts.compact_amount(65.5)
