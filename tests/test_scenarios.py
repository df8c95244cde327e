"""What-if adjustments of a forecast and the outlook over its periods."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from salesml import scenarios
from salesml.errors import SchemaError

PERIODS = ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]


def forecast(values=(100.0, 200.0, 300.0, 400.0), periods=PERIODS, series="Tools") -> pd.DataFrame:
    """A forecast table as predictions.forecast_table publishes it."""
    return pd.DataFrame(
        {
            "series": series,
            "target_period": periods,
            "predicted_sales": values,
            "lower_80": [v * 0.8 for v in values],
            "upper_80": [v * 1.2 for v in values],
            "lower_95": [v * 0.5 for v in values],
            "upper_95": [v * 1.5 for v in values],
            "model_used": "ets",
        }
    )


def history(start: str, values, series="Tools", freq="MS") -> pd.DataFrame:
    """Actual sales as load_series returns them."""
    ds = pd.date_range(start, periods=len(values), freq=freq)
    return pd.DataFrame({"unique_id": series, "ds": ds, "y": values, "category": series})


# --------------------------------------------------------------------------- adjust


def test_growth_scales_every_period_and_its_bounds() -> None:
    adjusted = scenarios.adjust(forecast(), growth_pct=10)
    assert adjusted["predicted_sales"].tolist() == [110.0, 220.0, 330.0, 440.0]
    assert adjusted["lower_80"].tolist() == [88.0, 176.0, 264.0, 352.0]
    assert adjusted["upper_95"].tolist() == [165.0, 330.0, 495.0, 660.0]


def test_uplift_applies_only_in_the_promotion_periods() -> None:
    adjusted = scenarios.adjust(forecast(), uplift_pct=50, periods=["2026-02-01"])
    assert adjusted["predicted_sales"].tolist() == [100.0, 300.0, 300.0, 400.0]
    assert adjusted["upper_80"].tolist() == [120.0, 360.0, 360.0, 480.0]


def test_uplift_compounds_with_growth() -> None:
    adjusted = scenarios.adjust(forecast(), growth_pct=10, uplift_pct=20, periods=["2026-01-01"])
    assert adjusted["predicted_sales"].tolist() == [132.0, 220.0, 330.0, 440.0]


def test_without_promotion_periods_the_uplift_changes_nothing() -> None:
    adjusted = scenarios.adjust(forecast(), uplift_pct=50)
    pd.testing.assert_frame_equal(adjusted, forecast())


def test_no_adjustment_keeps_the_forecast() -> None:
    pd.testing.assert_frame_equal(scenarios.adjust(forecast()), forecast())


@pytest.mark.parametrize(("growth", "uplift"), [(-150, 0), (0, -300), (-100, 0)])
def test_adjusted_sales_and_bounds_are_never_negative(growth: float, uplift: float) -> None:
    adjusted = scenarios.adjust(
        forecast(), growth_pct=growth, uplift_pct=uplift, periods=PERIODS[:1]
    )
    values = adjusted[list(scenarios.VALUES)]
    assert (values >= 0).all().all()
    assert adjusted.loc[0, "predicted_sales"] == 0.0


def test_promotion_periods_may_be_dates() -> None:
    adjusted = scenarios.adjust(forecast(), uplift_pct=100, periods=[dt.date(2026, 3, 1)])
    assert adjusted["predicted_sales"].tolist() == [100.0, 200.0, 600.0, 400.0]


def test_a_promotion_period_outside_the_forecast_is_explained() -> None:
    with pytest.raises(SchemaError, match="2027-01-01"):
        scenarios.adjust(forecast(), uplift_pct=10, periods=["2027-01-01"])


def test_a_percentage_that_is_not_a_number_is_explained() -> None:
    with pytest.raises(SchemaError, match="growth_pct"):
        scenarios.adjust(forecast(), growth_pct=float("nan"))


def test_adjust_leaves_the_base_forecast_unchanged() -> None:
    base = forecast()
    scenarios.adjust(base, growth_pct=25, uplift_pct=10, periods=PERIODS)
    pd.testing.assert_frame_equal(base, forecast())


# --------------------------------------------------------------------------- outlook


def test_outlook_sums_every_period_of_the_forecast_and_their_80_percent_bounds() -> None:
    result = scenarios.outlook(forecast(), history("2025-01-01", [1.0] * 12), freq="M")
    assert result.label == "next 4 months"
    assert result.periods == tuple(PERIODS)
    assert (result.total, result.lower_80, result.upper_80) == (1000.0, 800.0, 1200.0)


def test_outlook_follows_the_horizon_of_the_forecast_it_is_given() -> None:
    months = pd.date_range("2026-01-01", periods=12, freq="MS").strftime("%Y-%m-%d").tolist()
    past = history("2025-01-01", [50.0] * 12)
    short = scenarios.outlook(forecast([100.0] * 3, months[:3]), past, freq="M")
    year = scenarios.outlook(forecast([100.0] * 12, months), past, freq="M")
    assert (short.label, short.total, short.year_ago) == ("next 3 months", 300.0, 150.0)
    assert (year.label, year.total, year.year_ago) == ("next 12 months", 1200.0, 600.0)


def test_outlook_compares_with_the_same_months_a_year_earlier() -> None:
    # January to March 2025 sold 100 + 150 + 250 = 500; the forecast of 600 is 20% more.
    past = history("2025-01-01", [100.0, 150.0, 250.0, *[999.0] * 9])
    result = scenarios.outlook(forecast((100.0, 200.0, 300.0), PERIODS[:3]), past, freq="M")
    assert result.year_ago == 500.0
    assert result.change_pct == pytest.approx(20.0)


def test_outlook_has_no_comparison_when_the_history_is_shorter_than_a_year() -> None:
    result = scenarios.outlook(forecast(), history("2025-02-01", [100.0] * 11), freq="M")
    assert result.year_ago is None
    assert result.change_pct is None


def test_outlook_reaching_past_a_year_compares_the_periods_a_year_of_history_covers() -> None:
    # A year before months 13 and 14 lies inside the forecast, not in the sales history:
    # the first twelve months are compared with 2025, and the forecast of those twelve only.
    months = pd.date_range("2026-01-01", periods=14, freq="MS").strftime("%Y-%m-%d").tolist()
    result = scenarios.outlook(
        forecast([2.0] * 14, months), history("2024-01-01", [1.0] * 24), freq="M"
    )
    assert result.label == "next 14 months"
    assert (result.compared, result.year_ago, result.compared_total) == (12, 12.0, 24.0)
    assert result.change_pct == pytest.approx(100.0)


@pytest.mark.parametrize("horizon", [13, 24, 36])
def test_outlook_of_any_horizon_has_a_comparison_when_a_year_of_history_exists(
    horizon: int,
) -> None:
    months = pd.date_range("2026-01-01", periods=horizon, freq="MS").strftime("%Y-%m-%d")
    result = scenarios.outlook(
        forecast([1.0] * horizon, list(months)), history("2025-01-01", [1.0] * 12), freq="M"
    )
    assert (result.compared, result.year_ago) == (12, 12.0)


def test_outlook_within_a_year_compares_every_period() -> None:
    result = scenarios.outlook(forecast(), history("2025-01-01", [1.0] * 12), freq="M")
    assert (result.compared, result.compared_total) == (4, 1000.0)


def test_outlook_compares_only_the_forecast_series() -> None:
    past = pd.concat(
        [history("2025-01-01", [100.0] * 12), history("2025-01-01", [5.0] * 12, series="Toys")]
    )
    assert scenarios.outlook(forecast(), past, freq="M").year_ago == 400.0


def test_outlook_of_several_series_adds_them_up() -> None:
    both = pd.concat([forecast(), forecast(series="Toys")], ignore_index=True)
    result = scenarios.outlook(both, history("2025-01-01", []), freq="M")
    assert result.total == 2000.0
    assert result.year_ago is None


def test_outlook_of_a_quarterly_forecast_counts_quarters() -> None:
    quarters = ["2026-01-01", "2026-04-01", "2026-07-01"]
    past = history("2025-01-01", [80.0, 90.0, 95.0, 99.0], freq="QS")
    result = scenarios.outlook(forecast((100.0, 1.0, 1.0), quarters), past, freq="Q")
    assert (result.label, result.total, result.year_ago) == ("next 3 quarters", 102.0, 265.0)


def test_outlook_of_one_period_names_it_in_the_singular() -> None:
    one = forecast((100.0,), PERIODS[:1])
    result = scenarios.outlook(one, history("2025-01-01", [1.0] * 12), freq="M")
    assert (result.label, result.total) == ("next month", 100.0)


def test_weekly_outlook_compares_with_the_same_weeks_52_weeks_earlier() -> None:
    weeks = pd.date_range("2026-01-05", periods=13, freq="W-MON").strftime("%Y-%m-%d")
    past = history("2025-01-06", [10.0] * 13 + [0.0] * 39, freq="W-MON")
    result = scenarios.outlook(forecast([20.0] * 13, list(weeks)), past, freq="W")
    assert (result.label, result.year_ago, result.change_pct) == ("next 13 weeks", 130.0, 100.0)


def test_an_empty_forecast_is_explained() -> None:
    with pytest.raises(SchemaError, match="empty"):
        scenarios.outlook(forecast().iloc[:0], history("2025-01-01", []), freq="M")


@pytest.mark.parametrize(
    ("freq", "label"),
    [("M", "Jan 2026"), ("Q", "2026 Q1"), ("W", "week of 05 Jan 2026"), ("D", "Mon 05 Jan 2026")],
)
def test_periods_read_as_words(freq: str, label: str) -> None:
    period = "2026-01-01" if freq in "MQ" else "2026-01-05"
    assert scenarios.period_label(period, freq) == label
