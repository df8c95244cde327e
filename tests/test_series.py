"""Series building: aggregation in the database, zero-filled gaps, partial and aggregated data."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from salesml.errors import SchemaError
from salesml.ingest import ingest_file
from salesml.series import find_gap, load_series

HEADER = "Order Date,Product Name,Category,Quantity,Sales"


def load(engine, *lines: str) -> None:
    ingest_file(engine, ("\n".join([HEADER, *lines]) + "\n").encode(), name="s.csv")


def as_lists(series) -> dict[str, list]:
    frame = series.frame
    return {
        uid: list(zip(g["ds"].dt.strftime("%Y-%m-%d"), g["y"], strict=True))
        for uid, g in frame.groupby("unique_id")
    }


def test_sales_are_summed_per_period_in_each_series(engine):
    load(
        engine,
        "2024-01-03,Pen,Office,2,4.00",
        "2024-01-20,Pen,Office,1,2.00",
        "2024-02-10,Ink,Office,5,10.00",
        "2024-02-11,Mug,Kitchen,1,8.00",
        "2024-03-31,Mug,Kitchen,1,8.00",
    )
    total = load_series(engine, level="total", freq="M")
    assert as_lists(total) == {
        "Total": [("2024-01-01", 6.0), ("2024-02-01", 18.0), ("2024-03-01", 8.0)]
    }
    by_category = load_series(engine, level="category", freq="M", target="quantity")
    assert as_lists(by_category)["Office"] == [
        ("2024-01-01", 3.0),
        ("2024-02-01", 5.0),
        ("2024-03-01", 0.0),
    ]


def test_periods_without_sales_are_zeros_not_gaps(engine):
    load(engine, "2024-01-01,Pen,Office,1,1.00", "2024-01-04,Pen,Office,1,1.00")
    series = load_series(engine, level="product", freq="D")
    assert [y for _, y in as_lists(series)["Pen"]] == [1.0, 0.0, 0.0, 1.0]


def test_each_series_runs_from_its_first_sale_to_the_last_period_of_all(engine):
    load(
        engine,
        "2024-01-03,Pen,Office,1,1.00",
        "2024-01-17,Pen,Office,1,2.00",
        "2024-01-10,Mug,Kitchen,1,3.00",
        "2024-01-31,Mug,Kitchen,1,4.00",
    )
    series = load_series(engine, level="product", freq="W", keep_partial=True)
    assert as_lists(series) == {
        "Mug": [("2024-01-08", 3.0), ("2024-01-15", 0.0), ("2024-01-22", 0.0), ("2024-01-29", 4.0)],
        "Pen": [
            ("2024-01-01", 1.0),
            ("2024-01-08", 0.0),
            ("2024-01-15", 2.0),
            ("2024-01-22", 0.0),
            ("2024-01-29", 0.0),
        ],
    }


def test_a_product_sold_under_several_categories_takes_its_most_frequent_one(engine):
    load(
        engine,
        "2024-01-03,Pen,Stationery,1,1.00",
        "2024-02-03,Pen,Office,1,1.00",
        "2024-04-03,Pen,Office,1,1.00",
    )
    series = load_series(engine, level="product", freq="M", keep_partial=True)
    assert set(series.frame["category"]) == {"Office"}
    assert len(series.frame) == 4


def test_a_tie_between_categories_goes_to_the_first_by_name(engine):
    load(engine, "2024-01-03,Pen,Stationery,1,1.00", "2024-02-03,Pen,Office,1,1.00")
    series = load_series(engine, level="product", freq="M", keep_partial=True)
    assert set(series.frame["category"]) == {"Office"}


@pytest.mark.parametrize(
    ("freq", "expected"),
    [("W", "2024-05-13"), ("M", "2024-05-01"), ("Q", "2024-04-01"), ("D", "2024-05-15")],
)
def test_periods_are_labelled_by_their_first_day(engine, freq, expected):
    load(engine, "2024-05-15,Pen,Office,1,1.00", "2024-07-31,Pen,Office,1,1.00")
    series = load_series(engine, freq=freq, keep_partial=True)
    assert series.frame["ds"].iloc[0].strftime("%Y-%m-%d") == expected


def test_a_partly_covered_last_period_is_left_out_and_the_user_told(engine):
    load(
        engine,
        "2024-01-15,Pen,Office,1,1.00",
        "2024-02-28,Pen,Office,1,1.00",
        "2024-03-10,Pen,Office,1,1.00",
    )
    series = load_series(engine, freq="M")
    assert series.frame["ds"].max() == pd.Timestamp("2024-02-01")
    assert str(series.dropped_partial) == "2024-03-01"
    assert "left out" in series.notes[0]


def test_already_aggregated_monthly_data_keeps_its_last_period(engine):
    load(
        engine,
        "2024-01-01,Pen,Office,10,100",
        "2024-02-01,Pen,Office,11,110",
        "2024-03-01,Pen,Office,12,120",
        "2024-03-01,Ink,Office,1,5",
    )
    series = load_series(engine, level="product", freq="M")
    assert series.aggregated_input
    assert series.dropped_partial is None
    assert as_lists(series)["Pen"][-1] == ("2024-03-01", 120.0)


def test_weekly_totals_dated_on_a_fixed_weekday_keep_their_last_week(engine):
    load(
        engine,
        "2024-01-05,Pen,Office,1,10",
        "2024-01-12,Pen,Office,1,11",
        "2024-01-19,Pen,Office,1,12",
    )
    series = load_series(engine, freq="W")
    assert series.aggregated_input
    assert len(series.frame) == 3


def test_filters_apply_to_series_building(engine):
    load(
        engine,
        "2024-01-03,Pen,Office,2,4.00",
        "2024-01-05,Mug,Kitchen,1,8.00",
        "2024-02-05,Mug,Kitchen,1,8.00",
        "2024-03-05,Mug,Kitchen,1,8.00",
    )
    series = load_series(
        engine,
        level="product",
        freq="M",
        categories=["Kitchen"],
        end=pd.Timestamp("2024-02-29").date(),
    )
    assert as_lists(series) == {"Mug": [("2024-01-01", 8.0), ("2024-02-01", 8.0)]}


def test_nothing_matching_the_filters_gives_an_empty_set_with_a_note(engine):
    load(engine, "2024-01-03,Pen,Office,2,4.00")
    series = load_series(engine, categories=["Garden"])
    assert series.frame.empty
    assert series.notes == ["no sales match the filters"]


def test_unknown_choices_are_refused():
    with pytest.raises(SchemaError, match="freq must be one of"):
        load_series(None, freq="Y")


# --------------------------------------------------------------------------- gaps in the data


def two_loads(engine) -> None:
    """Sales in late 2017 and in 2022, loaded as two files: nothing from 2018 to 2021."""
    load(engine, "2017-10-05,Pen,Office,1,2.00", "2017-11-20,Pen,Office,1,2.00")
    load(engine, "2017-12-30,Pen,Office,1,2.00")
    ingest_file(
        engine,
        (HEADER + "\n2022-01-03,Ink,Office,1,3.00\n2022-02-07,Ink,Office,1,3.00\n").encode(),
        name="later.csv",
    )


def test_the_longest_stretch_without_sales_is_found_in_months(engine):
    two_loads(engine)
    gap = find_gap(engine, freq="M")
    assert (gap.first, gap.last, gap.periods) == (
        dt.date(2018, 1, 1),
        dt.date(2021, 12, 1),
        48,
    )
    assert (gap.before, gap.after) == (dt.date(2017, 12, 30), dt.date(2022, 1, 3))
    assert gap.describe() == (
        "No sales between Jan 2018 and Dec 2021 (48 months): training treats them as zero sales"
    )


def test_a_gap_is_counted_in_periods_of_the_frequency_asked(engine):
    two_loads(engine)
    gap = find_gap(engine, freq="Q")
    assert (gap.first, gap.last, gap.periods) == (dt.date(2018, 1, 1), dt.date(2021, 10, 1), 16)
    assert gap.describe().startswith("No sales between Q1 2018 and Q4 2021 (16 quarters)")


def test_a_few_quiet_weeks_are_not_a_gap(engine):
    load(engine, "2024-01-03,Pen,Office,1,2.00", "2024-03-15,Pen,Office,1,2.00")
    assert find_gap(engine, freq="M") is None  # only February is empty: 29 days
    assert find_gap(engine, freq="D") is None  # 71 days, under the 90 of a gap


def test_ninety_empty_days_are_a_gap_even_between_months_with_sales(engine):
    load(engine, "2024-01-03,Pen,Office,1,2.00", "2024-05-02,Pen,Office,1,2.00")
    gap = find_gap(engine, freq="D")
    assert (gap.first, gap.last, gap.periods) == (dt.date(2024, 1, 4), dt.date(2024, 5, 1), 119)


def test_no_gap_in_continuous_sales_or_an_empty_database(engine):
    assert find_gap(engine) is None
    load(engine, "2024-01-03,Pen,Office,1,2.00", "2024-02-03,Pen,Office,1,2.00")
    assert find_gap(engine) is None


def test_a_gap_after_the_chosen_end_does_not_count(engine):
    two_loads(engine)
    assert find_gap(engine, freq="M", end=dt.date(2017, 12, 31)) is None
    assert find_gap(engine, freq="M", start=dt.date(2022, 1, 1)) is None
