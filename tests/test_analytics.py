"""salesml.analytics: the explorer's and overview's figures, on SQLite and MySQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from salesml import analytics
from salesml.analytics import Filters
from salesml.errors import SchemaError
from salesml.ingest import IngestOptions, ingest_file

# Nine lines over two years: a return (Gadget, 20 Jan), a sale on 29 February, a tie
# between Kite and Yo-yo (45.00, 3 units each) and an empty stretch in Jan-Feb 2024.
SALES_CSV = (
    b"Order Date,Product Name,Category,Quantity,Sales\n"
    b"2023-01-10,Widget,Tools,1,10.00\n"
    b"2024-01-01,Widget,Tools,2,20.00\n"
    b"2024-01-02,Gadget,Toys,1,15.50\n"
    b"2024-01-15,Widget,Tools,1,10.00\n"
    b"2024-01-16,Hammer,Tools,4,60.00\n"
    b"2024-01-20,Gadget,Toys,-1,-15.50\n"
    b"2024-02-29,Kite,Toys,3,45.00\n"
    b"2024-03-04,Widget,Tools,5,50.00\n"
    b"2024-03-05,Yo-yo,Toys,3,45.00\n"
)
JANUARY_2024 = Filters(dt.date(2024, 1, 1), dt.date(2024, 1, 31))
# Ten Monday-based weeks, 1 Jan to 4 Mar 2024.
EARLY_2024 = Filters(dt.date(2024, 1, 1), dt.date(2024, 3, 10))


@pytest.fixture
def sales(engine: Engine) -> Engine:
    """The database with SALES_CSV loaded."""
    ingest_file(engine, SALES_CSV, name="sales.csv")
    return engine


def load(engine: Engine, *lines: str) -> Engine:
    """Load a few CSV lines (without the header) as one file."""
    header = "Order Date,Product Name,Category,Quantity,Sales\n"
    ingest_file(engine, (header + "\n".join(lines) + "\n").encode(), name="extra.csv")
    return engine


# --------------------------------------------------------------------------- what there is


def test_date_range_is_the_first_and_last_sale(sales: Engine) -> None:
    assert analytics.date_range(sales) == (dt.date(2023, 1, 10), dt.date(2024, 3, 5))


def test_date_range_of_an_empty_database_is_none(engine: Engine) -> None:
    assert analytics.date_range(engine) is None


def test_products_are_narrowed_by_category(sales: Engine) -> None:
    assert analytics.categories(sales) == ["Tools", "Toys"]
    assert analytics.catalogue(sales).products() == ["Gadget", "Hammer", "Kite", "Widget", "Yo-yo"]
    assert analytics.catalogue(sales).products(["Toys"]) == ["Gadget", "Kite", "Yo-yo"]


def test_a_product_sold_in_two_categories_is_offered_once(sales: Engine) -> None:
    load(sales, "2024-03-06,Kite,Garden,1,15.00")
    catalogue = analytics.catalogue(sales)
    assert catalogue.categories() == ["Garden", "Tools", "Toys"]
    assert catalogue.products(["Garden", "Toys"]) == ["Gadget", "Kite", "Yo-yo"]


# --------------------------------------------------------------------------- filters


def test_filters_given_lists_stay_hashable() -> None:
    filters = Filters(categories=["Toys"], products=["Kite"])
    assert filters == Filters(categories=("Toys",), products=("Kite",))
    assert hash(filters) == hash(Filters(categories=("Toys",), products=("Kite",)))


def test_shifting_by_a_year_moves_29_february_to_28_february() -> None:
    february = Filters(dt.date(2024, 2, 1), dt.date(2024, 2, 29), ["Toys"], ["Kite"])
    assert february.shifted(years=1) == Filters(
        dt.date(2023, 2, 1), dt.date(2023, 2, 28), ["Toys"], ["Kite"]
    )


def test_shifting_from_29_february_by_a_year_starts_on_28_february() -> None:
    leap_day = Filters(dt.date(2024, 2, 29), dt.date(2024, 3, 6))
    assert leap_day.shifted(years=1) == Filters(dt.date(2023, 2, 28), dt.date(2023, 3, 6))


def test_shifting_by_days_gives_the_period_just_before() -> None:
    february = Filters(dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert february.shifted(days=29) == Filters(dt.date(2024, 1, 3), dt.date(2024, 1, 31))


def test_shifting_an_open_range_is_refused() -> None:
    with pytest.raises(SchemaError, match="both ends"):
        Filters(start=dt.date(2024, 1, 1)).shifted(years=1)


def test_the_previous_period_has_the_same_length_and_ends_the_day_before() -> None:
    assert JANUARY_2024.previous() == Filters(dt.date(2023, 12, 1), dt.date(2023, 12, 31))
    five_days = Filters(dt.date(2024, 3, 1), dt.date(2024, 3, 5), ["Toys"], ["Kite"])
    assert five_days.previous() == Filters(
        dt.date(2024, 2, 25), dt.date(2024, 2, 29), ["Toys"], ["Kite"]
    )


def d(day: str) -> dt.date:
    return dt.date.fromisoformat(day)


@pytest.mark.parametrize(
    ("period", "compared"),
    [
        # Last 12 months and last year, whole calendar years: the year before, in a leap year
        # too (not 2 Jan - 31 Dec 2024, nor 31 Dec 2022 - 31 Dec 2023).
        (("2025-01-01", "2025-12-31"), ("2024-01-01", "2024-12-31")),
        (("2024-01-01", "2024-12-31"), ("2023-01-01", "2023-12-31")),
        # Year to date: the same days a year earlier, 29 February ending on the 28th.
        (("2025-01-01", "2025-03-05"), ("2024-01-01", "2024-03-05")),
        (("2024-01-01", "2024-02-29"), ("2023-01-01", "2023-02-28")),
        # Twelve months counted back from a day: the twelve months before.
        (("2023-03-06", "2024-03-05"), ("2022-03-06", "2023-03-05")),
        (("2023-03-01", "2024-02-29"), ("2022-03-01", "2023-02-28")),
        (("2024-02-29", "2025-02-28"), ("2023-03-01", "2024-02-28")),
        # Three months counted back, and whole calendar months: as many months before.
        (("2023-12-06", "2024-03-05"), ("2023-09-06", "2023-12-05")),
        (("2024-03-01", "2024-04-30"), ("2024-01-01", "2024-02-29")),
        (("2024-01-01", "2024-01-31"), ("2023-12-01", "2023-12-31")),
        # Any other range: as many days just before.
        (("2024-02-05", "2024-03-05"), ("2024-01-06", "2024-02-04")),
    ],
)
def test_a_calendar_period_is_compared_with_the_same_calendar_period_before(
    period: tuple[str, str], compared: tuple[str, str]
) -> None:
    assert Filters(*map(d, period)).previous() == Filters(*map(d, compared))


def test_the_previous_period_holds_the_sales_just_before(sales: Engine) -> None:
    early_march = Filters(dt.date(2024, 3, 1), dt.date(2024, 3, 5))
    assert analytics.kpis(sales, early_march.previous()) == analytics.Kpis(45.0, 3, 1)


# --------------------------------------------------------------------------- kpis, growth


def test_kpis_without_filters_count_every_line(sales: Engine) -> None:
    assert analytics.kpis(sales, Filters()) == analytics.Kpis(240.0, 19, 9)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(categories=["Tools"]), analytics.Kpis(150.0, 13, 5)),
        (Filters(products=["Gadget"]), analytics.Kpis(0.0, 0, 2)),
        (JANUARY_2024, analytics.Kpis(90.0, 7, 5)),
        (Filters(JANUARY_2024.start, JANUARY_2024.end, ["Tools"]), analytics.Kpis(90.0, 7, 3)),
        (Filters(dt.date(2024, 2, 29), dt.date(2024, 2, 29)), analytics.Kpis(45.0, 3, 1)),
        (Filters(categories=["Tools"], products=["Kite"]), analytics.Kpis(0.0, 0, 0)),
    ],
    ids=["category", "product", "date-range", "range-and-category", "one-day", "nothing"],
)
def test_kpis_respect_the_filters(
    sales: Engine, filters: Filters, expected: analytics.Kpis
) -> None:
    assert analytics.kpis(sales, filters) == expected


def test_average_line_value_is_revenue_per_line() -> None:
    assert analytics.Kpis(90.0, 7, 3).average_line_value == 30.0
    assert analytics.Kpis(0.0, 0, 0).average_line_value == 0.0


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [(120, 100, 0.2), (80, 100, -0.2), (100, 100, 0.0), (5, -10, 1.5), (5, 0, None)],
)
def test_growth_is_the_change_relative_to_the_previous_value(
    current: float, previous: float, expected: float | None
) -> None:
    assert analytics.growth(current, previous) == pytest.approx(expected)


# --------------------------------------------------------------------------- headline


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("2024-01-01", "2024-03-31", ("2024-03-01", "2024-03-31")),
        ("2023-01-10", "2024-03-05", ("2024-02-01", "2024-02-29")),
        ("2024-02-01", "2024-02-29", ("2024-02-01", "2024-02-29")),
        ("2024-01-01", "2024-01-03", ("2024-01-01", "2024-01-03")),
        ("2024-01-15", "2024-02-20", ("2024-01-15", "2024-02-20")),
    ],
    ids=["ends-on-month-end", "mid-month", "one-full-month", "a-few-days", "no-full-month"],
)
def test_headline_period_is_the_latest_full_month_or_the_whole_range(
    first: str, last: str, expected: tuple[str, str]
) -> None:
    period = analytics.headline_period(dt.date.fromisoformat(first), dt.date.fromisoformat(last))
    assert period == tuple(dt.date.fromisoformat(day) for day in expected)


def test_headline_compares_the_latest_month_with_the_month_before_and_last_year(
    sales: Engine,
) -> None:
    headline = analytics.headline(sales)
    assert headline is not None
    assert (headline.label, headline.kpis) == ("Feb 2024", analytics.Kpis(45.0, 3, 1))
    assert headline.full_month
    assert headline.previous.label == "Jan 2024"
    assert headline.previous.kpis == analytics.Kpis(90.0, 7, 5)
    assert headline.last_year.label == "Feb 2023"
    assert headline.last_year.filters == Filters(dt.date(2023, 2, 1), dt.date(2023, 2, 28))
    assert headline.last_year.kpis == analytics.Kpis(0.0, 0, 0)


def test_headline_of_a_short_history_compares_periods_of_the_same_length(
    engine: Engine,
) -> None:
    load(engine, "2024-01-01,Widget,Tools,2,20.00", "2024-01-03,Widget,Tools,1,10.00")
    headline = analytics.headline(engine)
    assert headline is not None
    assert headline.filters == Filters(dt.date(2024, 1, 1), dt.date(2024, 1, 3))
    assert headline.previous.filters == Filters(dt.date(2023, 12, 29), dt.date(2023, 12, 31))
    assert headline.kpis == analytics.Kpis(30.0, 3, 2)
    assert headline.label == "01 Jan 2024 – 03 Jan 2024"
    assert not headline.full_month


def test_headline_of_an_empty_database_is_none(engine: Engine) -> None:
    assert analytics.headline(engine) is None


# --------------------------------------------------------------------------- one summary


def test_a_summary_gives_every_figure_from_a_single_query(sales: Engine) -> None:
    statements: list[str] = []
    record = lambda *args: statements.append(args[2])  # noqa: E731
    sa.event.listen(sales, "before_cursor_execute", record)
    try:
        summary = analytics.summarise(sales, EARLY_2024)
        figures = [
            summary.kpis(),
            summary.by_category(),
            summary.returns_share(),
            *(
                summary.over_time(grain=g, measure=m)
                for g in "DWM"
                for m in ("revenue", "quantity")
            ),
            summary.monthly_by_year(measure="quantity"),
            summary.weekday_profile(),
        ]
    finally:
        sa.event.remove(sales, "before_cursor_execute", record)
    queries = [sql for sql in statements if not sql.startswith(("BEGIN", "COMMIT", "ROLLBACK"))]
    assert len(queries) == 1
    assert figures[0] == analytics.Kpis(revenue=230.0, quantity=18, lines=8)


def test_a_summary_totals_each_day_and_category_once(sales: Engine) -> None:
    load(sales, "2024-01-15,Hammer,Tools,1,15.00")
    daily = analytics.summarise(sales, JANUARY_2024).daily
    assert daily.sort_values(["ds", "category"]).to_dict("records")[2:4] == [
        {
            "ds": pd.Timestamp("2024-01-15"),
            "category": "Tools",
            "revenue": 25.0,
            "quantity": 2.0,
            "lines": 2.0,
            "returned_revenue": 0.0,
            "gross_revenue": 25.0,
            "return_lines": 0.0,
        },
        {
            "ds": pd.Timestamp("2024-01-16"),
            "category": "Tools",
            "revenue": 60.0,
            "quantity": 4.0,
            "lines": 1.0,
            "returned_revenue": 0.0,
            "gross_revenue": 60.0,
            "return_lines": 0.0,
        },
    ]


# --------------------------------------------------------------------------- over time


def test_over_time_fills_weeks_without_sales_with_zeros(sales: Engine) -> None:
    weekly = analytics.over_time(sales, EARLY_2024, grain="W")
    assert weekly["ds"].tolist() == list(pd.date_range("2024-01-01", "2024-03-04", freq="W-MON"))
    assert weekly["value"].tolist() == [35.5, 0, 54.5, 0, 0, 0, 0, 0, 45, 95]


def test_over_time_rolling_mean_averages_the_last_periods(sales: Engine) -> None:
    weekly = analytics.over_time(sales, EARLY_2024, grain="W", rolling=2)
    assert weekly["rolling"].tolist() == [35.5, 17.75, 27.25, 27.25, 0, 0, 0, 0, 22.5, 70]


def test_over_time_covers_the_whole_filtered_range(sales: Engine) -> None:
    filters = Filters(dt.date(2023, 12, 20), dt.date(2024, 1, 10))
    daily = analytics.over_time(sales, filters, grain="D")
    assert (daily["ds"].min(), daily["ds"].max()) == (
        pd.Timestamp("2023-12-20"),
        pd.Timestamp("2024-01-10"),
    )
    assert daily["value"].sum() == 35.5
    assert (daily["value"] > 0).sum() == 2


def test_over_time_monthly_quantity(sales: Engine) -> None:
    monthly = analytics.over_time(
        sales, Filters(start=dt.date(2024, 1, 1)), grain="M", measure="quantity", rolling=1
    )
    assert monthly["ds"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-01-01",
        "2024-02-01",
        "2024-03-01",
    ]
    assert monthly["value"].tolist() == [7, 3, 8]
    assert monthly["rolling"].tolist() == [7, 3, 8]


def test_over_time_of_no_sales_is_empty(sales: Engine) -> None:
    frame = analytics.over_time(sales, Filters(products=["No such thing"]))
    assert frame.empty
    assert list(frame.columns) == ["ds", "value", "rolling"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"grain": "Y"}, "grain must be one of D, W, M"),
        ({"measure": "profit"}, "measure must be one of revenue, quantity"),
        ({"rolling": 0}, "rolling window must be at least 1"),
    ],
)
def test_over_time_rejects_unknown_options(
    sqlite_engine: Engine, options: dict, message: str
) -> None:
    with pytest.raises(SchemaError, match=message):
        analytics.over_time(sqlite_engine, Filters(), **options)


# --------------------------------------------------------------------------- breakdowns


def test_by_category_totals_each_category_largest_revenue_first(sales: Engine) -> None:
    frame = analytics.summarise(sales, Filters()).by_category()
    assert frame.to_dict("records") == [
        {"category": "Tools", "revenue": 150.0, "quantity": 13.0, "lines": 5},
        {"category": "Toys", "revenue": 90.0, "quantity": 6.0, "lines": 4},
    ]


def test_by_category_respects_the_date_range(sales: Engine) -> None:
    frame = analytics.summarise(sales, Filters(start=dt.date(2024, 2, 1))).by_category()
    assert frame.set_index("category")["revenue"].to_dict() == {"Tools": 50.0, "Toys": 90.0}


def test_top_products_are_the_largest_first_and_limited_to_n(sales: Engine) -> None:
    top = analytics.top_products(sales, Filters(), n=2)
    assert top.to_dict("records") == [
        {"product_name": "Widget", "category": "Tools", "value": 90.0},
        {"product_name": "Hammer", "category": "Tools", "value": 60.0},
    ]


def test_top_products_break_ties_by_name(sales: Engine) -> None:
    top = analytics.top_products(sales, Filters(), n=10, measure="quantity")
    assert top["product_name"].tolist() == ["Widget", "Hammer", "Kite", "Yo-yo", "Gadget"]
    assert top["value"].tolist() == [9, 4, 3, 3, 0]


def test_top_products_refuses_a_non_positive_n(sqlite_engine: Engine) -> None:
    with pytest.raises(SchemaError, match="at least 1"):
        analytics.top_products(sqlite_engine, Filters(), n=0)


def test_monthly_by_year_totals_each_month_of_each_year(sales: Engine) -> None:
    frame = analytics.summarise(sales, Filters()).monthly_by_year()
    assert frame.to_dict("records") == [
        {"year": 2023, "month": 1, "value": 10.0},
        {"year": 2024, "month": 1, "value": 90.0},
        {"year": 2024, "month": 2, "value": 45.0},
        {"year": 2024, "month": 3, "value": 95.0},
    ]


def test_monthly_by_year_of_no_sales_is_empty(sales: Engine) -> None:
    frame = analytics.summarise(sales, Filters(categories=["Garden"])).monthly_by_year()
    assert frame.empty
    assert list(frame.columns) == ["year", "month", "value"]


def test_weekday_profile_gives_every_day_of_the_week(sales: Engine) -> None:
    first_week = Filters(dt.date(2024, 1, 1), dt.date(2024, 1, 7))
    frame = analytics.summarise(sales, first_week).weekday_profile()
    assert frame["weekday"].tolist() == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert frame["value"].tolist() == [20.0, 15.5, 0, 0, 0, 0, 0]
    assert set(frame["week"]) == {pd.Timestamp("2024-01-01")}


def test_weekday_profile_puts_days_in_their_monday_week(sales: Engine) -> None:
    frame = analytics.summarise(sales, Filters(products=["Kite", "Yo-yo"])).weekday_profile()
    sold = frame[frame["value"] > 0]
    assert sold[["week", "weekday"]].to_dict("records") == [
        {"week": pd.Timestamp("2024-02-26"), "weekday": "Thu"},
        {"week": pd.Timestamp("2024-03-04"), "weekday": "Tue"},
    ]


# --------------------------------------------------------------------------- returns


def test_returns_share_is_returned_revenue_over_gross_sales(sales: Engine) -> None:
    share = analytics.summarise(sales, Filters()).returns_share()
    assert share == {
        "returned_revenue": 15.5,
        "gross_revenue": 255.5,
        "revenue_share": pytest.approx(15.5 / 255.5),
        "return_lines": 1,
        "line_share": pytest.approx(1 / 9),
    }


def test_returns_share_respects_the_filters(sales: Engine) -> None:
    share = analytics.summarise(sales, Filters(categories=["Tools"])).returns_share()
    assert (share["returned_revenue"], share["return_lines"], share["revenue_share"]) == (0, 0, 0)


def test_a_return_booked_with_positive_revenue_still_counts_as_returned(engine: Engine) -> None:
    load(engine, "2024-01-01,Widget,Tools,4,40.00", "2024-01-02,Widget,Tools,-1,10.00")
    share = analytics.summarise(engine, Filters()).returns_share()
    assert (share["returned_revenue"], share["gross_revenue"]) == (10.0, 40.0)
    assert share["revenue_share"] == 0.25


def test_returns_share_of_no_sales_is_zero(engine: Engine) -> None:
    share = analytics.summarise(engine, Filters()).returns_share()
    assert (share["revenue_share"], share["line_share"], share["return_lines"]) == (0, 0, 0)


# --------------------------------------------------------------------------- rows, CSV


def test_sales_rows_are_the_filtered_lines_in_date_order(sales: Engine) -> None:
    rows = analytics.sales_rows(sales, Filters(start=dt.date(2024, 2, 1), categories=["Toys"]))
    columns = ["date", "product_name", "category", "quantity", "revenue", "currency"]
    assert list(rows.columns) == columns
    assert rows.drop(columns="currency").assign(date=rows["date"].astype(str)).to_dict(
        "records"
    ) == [
        {
            "date": "2024-02-29",
            "product_name": "Kite",
            "category": "Toys",
            "quantity": 3,
            "revenue": 45.0,
        },
        {
            "date": "2024-03-05",
            "product_name": "Yo-yo",
            "category": "Toys",
            "quantity": 3,
            "revenue": 45.0,
        },
    ]


def test_sales_rows_respect_the_product_filter_and_limit(sales: Engine) -> None:
    rows = analytics.sales_rows(sales, Filters(products=["Widget"]), limit=2)
    assert rows["date"].astype(str).tolist() == ["2023-01-10", "2024-01-01"]


def test_sales_csv_escapes_cells_a_spreadsheet_would_run(engine: Engine) -> None:
    load(engine, "2024-01-01,=HYPERLINK(1),@Tools,1,5.00", "2024-01-02,Widget,+Toys,-1,-5.00")
    lines = analytics.sales_csv(engine, Filters()).decode().splitlines()
    assert lines == [
        "date,product_name,category,quantity,revenue,currency",
        "2024-01-01,'=HYPERLINK(1),'@Tools,1,5.0,",
        "2024-01-02,Widget,'+Toys,-1,-5.0,",
    ]


# --------------------------------------------------------------------------- files (batches)

# A second file selling the same products on the same days as sales.csv, in another currency:
# the rollups hold both files' lines in the same (day, category) totals.
SECOND_FILE = (
    "2024-01-02,Gadget,Toys,2,31.00",
    "2024-01-16,Hammer,Tools,1,15.00",
    "2024-02-29,Kite,Toys,1,15.00",
)


@pytest.fixture
def two_files(sales: Engine) -> tuple[Engine, int, int]:
    """sales.csv (no currency stated) and a second file in EUR: the engine and their ids."""
    (first,) = (item.id for item in analytics.loaded_files(sales))
    header = "Order Date,Product Name,Category,Quantity,Sales\n"
    second = ingest_file(
        sales,
        (header + "\n".join(SECOND_FILE) + "\n").encode(),
        name="second.csv",
        options=IngestOptions(currency="EUR"),
    ).batch_id
    return sales, first, second


def test_the_loaded_files_are_offered_by_name_id_and_currency(
    two_files: tuple[Engine, int, int],
) -> None:
    engine, first, second = two_files
    files = analytics.loaded_files(engine)
    assert [(item.id, item.name, item.currency) for item in files] == [
        (first, "sales.csv", ""),
        (second, "second.csv", "EUR"),
    ]
    assert files[1].label() == f"second.csv (#{second}, EUR)"
    # A file loaded without a currency is in the default one, or says none.
    assert files[0].label(default="USD") == f"sales.csv (#{first}, USD)"
    assert files[0].label() == f"sales.csv (#{first})"


def test_a_file_filter_adds_up_only_that_files_lines(two_files: tuple[Engine, int, int]) -> None:
    engine, first, second = two_files
    everything = analytics.kpis(engine, Filters())
    assert (everything.revenue, everything.quantity, everything.lines) == (301.0, 23, 12)
    only_first = analytics.kpis(engine, Filters(batches=[first]))
    assert (only_first.revenue, only_first.quantity, only_first.lines) == (240.0, 19, 9)
    only_second = analytics.summarise(engine, Filters(batches=[second]))
    assert (only_second.kpis().revenue, only_second.kpis().lines) == (61.0, 3)
    assert only_second.by_category()[["category", "revenue"]].to_dict("records") == [
        {"category": "Toys", "revenue": 46.0},
        {"category": "Tools", "revenue": 15.0},
    ]
    both = analytics.kpis(engine, Filters(batches=[first, second]))
    assert both == everything


def test_a_file_filter_keeps_the_other_filters(two_files: tuple[Engine, int, int]) -> None:
    engine, _, second = two_files
    toys_in_january = Filters(dt.date(2024, 1, 1), dt.date(2024, 1, 31), ["Toys"])
    kpis = analytics.kpis(engine, replace(toys_in_january, batches=[second]))
    assert (kpis.revenue, kpis.lines) == (31.0, 1)


def test_the_top_products_of_whole_months_count_only_the_files_lines(
    two_files: tuple[Engine, int, int],
) -> None:
    engine, first, second = two_files
    # Whole months, which the monthly rollup would answer for every file at once.
    months = Filters(dt.date(2024, 1, 1), dt.date(2024, 2, 29))
    top = analytics.top_products(engine, replace(months, batches=[second]))
    assert top.to_dict("records") == [
        {"product_name": "Gadget", "category": "Toys", "value": 31.0},
        {"product_name": "Hammer", "category": "Tools", "value": 15.0},
        {"product_name": "Kite", "category": "Toys", "value": 15.0},
    ]
    first_only = analytics.top_products(engine, replace(months, batches=[first]), n=1)
    assert first_only.to_dict("records") == [
        {"product_name": "Hammer", "category": "Tools", "value": 60.0}
    ]


def test_the_downloaded_lines_are_those_of_the_chosen_file(
    two_files: tuple[Engine, int, int],
) -> None:
    engine, _, second = two_files
    lines = analytics.sales_csv(engine, Filters(batches=[second])).decode().splitlines()
    assert lines == [
        "date,product_name,category,quantity,revenue,currency",
        "2024-01-02,Gadget,Toys,2,31.0,EUR",
        "2024-01-16,Hammer,Tools,1,15.0,EUR",
        "2024-02-29,Kite,Toys,1,15.0,EUR",
    ]


def test_a_file_that_is_not_loaded_matches_no_sales(two_files: tuple[Engine, int, int]) -> None:
    engine, first, second = two_files
    assert analytics.kpis(engine, Filters(batches=[first + second + 1])).lines == 0


def test_the_rollups_are_never_asked_for_a_file(two_files: tuple[Engine, int, int]) -> None:
    _, first, _ = two_files
    filters = Filters(batches=[first])
    assert filters.needs_lines
    with pytest.raises(SchemaError, match="file"):
        filters.where(analytics._DAILY.date)
