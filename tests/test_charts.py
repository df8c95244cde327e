"""Chart specs and tile figures: time axes label whole periods with their year; values fit."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import tomllib
from pathlib import Path

import altair as alt
import pandas as pd
import pytest

from salesml import charts
from salesml.series import PANDAS_FREQ

ROOT = Path(__file__).resolve().parents[1]

# --------------------------------------------------------------------------- compact figures


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1_234_567, "1.23M"),
        (1_200_000, "1.2M"),
        (845_123, "845k"),
        (10_512, "10.5k"),
        (999_950, "1M"),  # rounds up into the next unit, not to "1,000k"
        (950, "950"),
        (12.4, "12"),
        (-0.4, "0"),
        (0, "0"),
        (-12_345, "-12.3k"),
        (2_500_000_000, "2.5B"),
    ],
)
def test_compact_number_keeps_three_significant_digits(value: float, text: str) -> None:
    assert charts.compact_number(value) == text


@pytest.mark.parametrize(
    ("value", "text"), [(45_641, "+45.6k"), (-45_641, "-45.6k"), (0, "+0"), (-0.4, "+0")]
)
def test_a_signed_compact_number_shows_the_direction(value: float, text: str) -> None:
    assert charts.compact_number(value, signed=True) == text


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        (8_125_130.5, "", "8,125,130.50"),
        (1234.5, "EUR", "1,234.50 EUR"),
        (1234.5, "$", "$1,234.50"),
        (-3, "€", "-€3.00"),
        (0.004, "", "0.00"),
    ],
)
def test_money_is_exact_to_the_cent_with_its_currency(
    value: float, currency: str, text: str
) -> None:
    assert charts.money(value, currency) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (8_125_130.55, "8.13M"),
        (999.994, "1k"),
        (105.29, "105"),  # "105.29" was cut in a tile at 1024 px
        (45.156, "45.2"),
        (-12.5, "-12.5"),
        (-0.001, "0"),
    ],
)
def test_a_tile_amount_has_three_significant_digits(value: float, text: str) -> None:
    assert charts.compact_amount(value) == text


@pytest.mark.parametrize("exponent", range(0, 15))
@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize("digits", [1, 4.4444, 9.99951])
def test_tile_figures_fit_in_eight_characters(exponent: int, sign: int, digits: float) -> None:
    value = sign * digits * 10**exponent
    assert len(charts.compact_amount(value)) <= 8
    assert len(charts.compact_number(value)) <= 8


# --------------------------------------------------------------------------- time axes


def periods(start: str, count: int, freq: str) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=count, freq=PANDAS_FREQ[freq])


def ticks(axis: dict) -> list[dt.date]:
    return [dt.date(v["year"], v["month"], v["date"]) for v in axis["values"]]


def x_axes(chart: alt.TopLevelMixin) -> list[dict]:
    """The x axis of every layer that draws on the time axis."""
    spec = chart.to_dict()
    layers = spec.get("layer", [spec])
    return [layer["encoding"]["x"]["axis"] for layer in layers if "x" in layer["encoding"]]


def time_tooltips(chart: alt.TopLevelMixin) -> list[dict]:
    """Every tooltip field on the time axis, in every layer."""
    spec = chart.to_dict()
    found = []
    for layer in spec.get("layer", [spec]):
        tips = layer["encoding"].get("tooltip", [])
        found += [tips] if isinstance(tips, dict) else tips
    return [tip for tip in found if tip.get("type") == "temporal"]


def test_a_short_monthly_span_gets_a_tick_per_month_with_its_year() -> None:
    axis = charts.time_axis(periods("2026-01-01", 6, "M"), "M").to_dict()
    assert axis["format"] == "%b %Y"
    assert ticks(axis) == [dt.date(2026, month, 1) for month in range(1, 7)]


def test_a_long_monthly_span_gets_fewer_ticks_aligned_on_january() -> None:
    axis = charts.time_axis(periods("2022-01-01", 54, "M"), "M").to_dict()
    assert axis["format"] == "%b %Y"
    assert ticks(axis) == list(pd.date_range("2022-01-01", "2026-01-01", freq="6MS").date)


def test_a_block_the_data_enters_late_gets_no_tick() -> None:
    # From February, two-month ticks start at March: a 'Jan–Feb' tick on February would mislead.
    axis = charts.time_axis(periods("2022-02-01", 14, "M"), "M").to_dict()
    assert ticks(axis)[0] == dt.date(2022, 3, 1)


def test_weekly_ticks_fall_on_the_weeks_own_first_days_and_name_the_day() -> None:
    weeks = periods("2025-12-29", 13, "W")
    axis = charts.time_axis(weeks, "W").to_dict()
    assert axis["format"] == "%d %b %Y"
    assert set(ticks(axis)) <= {week.date() for week in weeks}
    assert ticks(axis)[0] == dt.date(2025, 12, 29)


def test_years_of_weekly_data_are_labelled_by_month_at_each_months_first_week() -> None:
    weeks = periods("2021-12-27", 221, "W")
    axis = charts.time_axis(weeks, "W").to_dict()
    assert axis["format"] == "%b %Y"
    assert all(tick.day <= 7 and tick.weekday() == 0 for tick in ticks(axis))


def test_years_of_daily_data_are_labelled_at_month_starts() -> None:
    axis = charts.time_axis(periods("2022-01-01", 1500, "D"), "D").to_dict()
    assert axis["format"] == "%b %Y"
    assert all(tick.day == 1 for tick in ticks(axis))


def test_quarterly_data_is_labelled_by_year_and_quarter() -> None:
    axis = charts.time_axis(periods("2024-01-01", 6, "Q"), "Q").to_dict()
    assert axis["format"] == "%Y Q%q"
    assert ticks(axis) == list(periods("2024-01-01", 6, "Q").date)


@pytest.mark.parametrize("freq", ["D", "W", "M", "Q"])
@pytest.mark.parametrize("count", [1, 9, 40, 150, 800])
def test_a_time_axis_never_has_more_than_max_ticks(freq: str, count: int) -> None:
    axis = charts.time_axis(periods("2020-01-01", count, freq), freq).to_dict()
    assert 1 <= len(axis["values"]) <= charts.MAX_TICKS


# --------------------------------------------------------------------------- the charts


def forecast_table(start: str, count: int, freq: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "series": "Total",
            "target_period": periods(start, count, freq),
            "predicted_sales": 100.0,
            **{f"{side}_{level}": 90.0 for side in ("lower", "upper") for level in (80, 95)},
        }
    )


def monthly_charts() -> dict[str, alt.TopLevelMixin]:
    history = pd.DataFrame({"unique_id": "Total", "ds": periods("2023-01-01", 36, "M"), "y": 1.0})
    forecast = forecast_table("2026-01-01", 6, "M")
    joined = forecast.rename(columns={"target_period": "period_start"}).assign(actual=1.0)
    lines = pd.DataFrame(
        {"ds": history["ds"], "value": 1.0, "line": charts.BACKTEST_ACTUAL, "window": ""}
    )
    return {
        "forecast": charts.forecast_chart(history, forecast, freq="M"),
        "predicted vs actual": charts.predicted_vs_actual_chart(joined, series="Total", freq="M"),
        "backtest": charts.backtest_chart(lines, [pd.Timestamp("2025-06-01")], freq="M"),
        "presenter backtest": charts.backtest_chart(
            lines, [pd.Timestamp("2025-06-01")], freq="M", large=True
        ),
        "trend": charts.trend_chart(history.rename(columns={"y": "value"})),
    }


@pytest.mark.parametrize("name", list(monthly_charts()))
def test_monthly_charts_label_every_layer_with_month_and_year(name: str) -> None:
    axes = x_axes(monthly_charts()[name])
    assert axes and all(axis["format"] == "%b %Y" for axis in axes)
    assert all(axis == axes[0] for axis in axes)  # layers share one axis, no conflict


@pytest.mark.parametrize("name", list(monthly_charts()))
def test_chart_tooltips_name_the_period_with_its_year(name: str) -> None:
    tooltips = time_tooltips(monthly_charts()[name])
    assert tooltips and all("%Y" in tip["format"] for tip in tooltips)


def test_the_forecast_chart_axis_covers_history_and_forecast() -> None:
    history = pd.DataFrame({"unique_id": "Total", "ds": periods("2022-01-01", 48, "M"), "y": 1.0})
    chart = charts.forecast_chart(history, forecast_table("2026-01-01", 12, "M"), freq="M")
    dates = ticks(x_axes(chart)[0])
    assert (dates[0], dates[-1]) == (dt.date(2022, 1, 1), dt.date(2026, 7, 1))


# --------------------------------------------------------------------------- explorer charts

CATALOGUE = ["Garden", "Tools", "Toys"]
EXPLORER_CHARTS = (
    "over_time",
    "by_category",
    "top_products",
    "month_year",
    "year_over_year",
    "weekday",
)


def explorer_charts(categories: list[str]) -> dict[str, alt.TopLevelMixin]:
    """Every Explorer chart, drawn from frames holding only the given categories."""
    by_category = pd.DataFrame(
        {"category": categories, "revenue": 10.0, "quantity": 1.0, "lines": 1}
    )
    top = pd.DataFrame({"product_name": [f"{c} thing" for c in categories], "category": categories})
    monthly = pd.DataFrame({"year": [2024, 2024, 2025], "month": [1, 6, 12], "value": 1.0})
    weekly = pd.DataFrame(
        {"week": pd.to_datetime(["2024-01-01"] * 2), "weekday": ["Mon", "Tue"], "value": 1.0}
    )
    over_time = pd.DataFrame({"ds": periods("2024-01-01", 4, "W"), "value": 1.0, "rolling": 1.0})
    return {
        "over_time": charts.over_time_chart(over_time, measure="revenue", grain="W", rolling=2),
        "by_category": charts.category_chart(by_category, measure="revenue", categories=CATALOGUE),
        "top_products": charts.top_products_chart(
            top.assign(value=1.0), measure="revenue", categories=CATALOGUE
        ),
        "month_year": charts.month_year_heatmap(monthly, measure="revenue"),
        "year_over_year": charts.year_over_year_chart(monthly, measure="revenue"),
        "weekday": charts.weekday_heatmap(weekly, measure="quantity"),
    }


def encodings(chart: alt.TopLevelMixin) -> list[dict]:
    spec = chart.to_dict()
    return [layer["encoding"] for layer in spec.get("layer", [spec]) if "encoding" in layer]


@pytest.mark.parametrize("shown", [["Toys"], ["Tools", "Toys"], CATALOGUE])
@pytest.mark.parametrize("name", ["by_category", "top_products"])
def test_category_colours_are_keyed_on_the_whole_catalogue_whatever_is_shown(
    name: str, shown: list[str]
) -> None:
    (encoding,) = encodings(explorer_charts(shown)[name])
    assert encoding["color"]["scale"]["domain"] == CATALOGUE


def test_the_colour_domain_is_sorted_so_the_order_of_the_catalogue_does_not_matter() -> None:
    frame = pd.DataFrame({"category": ["Toys"], "revenue": 1.0, "quantity": 1.0, "lines": 1})
    chart = charts.category_chart(frame, measure="revenue", categories=["Toys", "Garden"])
    assert chart.to_dict()["encoding"]["color"]["scale"]["domain"] == ["Garden", "Toys"]


@pytest.mark.parametrize("name", EXPLORER_CHARTS)
def test_explorer_legends_sit_above_or_below_the_chart_never_beside_it(name: str) -> None:
    for encoding in encodings(explorer_charts(CATALOGUE)[name]):
        for channel in ("color", "fill"):
            if channel in encoding and encoding[channel].get("legend", {}) is not None:
                assert encoding[channel]["legend"]["orient"] in ("top", "bottom"), channel


@pytest.mark.parametrize("name", ["month_year", "year_over_year"])
def test_month_tooltips_name_the_month(name: str) -> None:
    chart = explorer_charts(CATALOGUE)[name]
    (encoding,) = encodings(chart)
    (month,) = [tip for tip in encoding["tooltip"] if tip["title"] == "Month"]
    assert chart.data[month["field"]].tolist() == ["Jan", "Jun", "Dec"]


@pytest.mark.parametrize(("measure", "number"), [("revenue", ",.2f"), ("quantity", ",.0f")])
@pytest.mark.parametrize("name", ["month_year", "year_over_year", "weekday"])
def test_value_tooltips_and_legends_use_thousands_separators(
    name: str, measure: str, number: str
) -> None:
    monthly = pd.DataFrame({"year": [2024], "month": [1], "value": 1234.5})
    weekly = pd.DataFrame({"week": pd.to_datetime(["2024-01-01"]), "weekday": "Mon", "value": 1.0})
    chart = {
        "month_year": lambda: charts.month_year_heatmap(monthly, measure=measure),
        "year_over_year": lambda: charts.year_over_year_chart(monthly, measure=measure),
        "weekday": lambda: charts.weekday_heatmap(weekly, measure=measure),
    }[name]()
    (encoding,) = encodings(chart)
    (value,) = [tip for tip in encoding["tooltip"] if tip["field"] == "value"]
    assert value["format"] == number
    if name != "year_over_year":
        assert encoding["color"]["legend"]["format"] == ",.0f"


def test_the_forecast_chart_keeps_its_time_axis_as_the_horizon_moves() -> None:
    """Ticks laid out for the furthest period: moving the horizon slider does not move them."""
    history = pd.DataFrame(
        {
            "unique_id": "Total",
            "ds": pd.date_range("2022-01-01", periods=48, freq="MS"),
            "y": 100.0,
        }
    )

    def axis(horizon: int) -> object:
        periods = pd.date_range("2026-01-01", periods=horizon, freq="MS")
        table = pd.DataFrame(
            {
                "series": "Total",
                "target_period": periods.strftime("%Y-%m-%d"),
                "predicted_sales": 100.0,
                **{bound: 100.0 for bound in ("lower_80", "upper_80", "lower_95", "upper_95")},
            }
        )
        chart = charts.forecast_chart(
            history, table, freq="M", axis_until=pd.Timestamp("2028-12-01")
        )
        x = chart.to_dict()["layer"][0]["encoding"]["x"]
        return x["axis"]["values"], x["scale"]["domain"]

    # The ticks and the axis's range both stay put: the chart does not rescale as it moves.
    assert axis(3) == axis(30)


# --------------------------------------------------------------------------- legends and colours

# What a chart is given on a 390-pixel phone, and what one legend entry takes at least.
PHONE_CHART_PX, ENTRY_PX = 340, 55


def sixteen_years() -> pd.DataFrame:
    years = range(2010, 2026)
    return pd.DataFrame([{"year": y, "month": m, "value": 1.0} for y in years for m in (1, 6)])


def test_the_year_over_year_legend_lists_every_year_in_rows_a_phone_can_show() -> None:
    (encoding,) = encodings(charts.year_over_year_chart(sixteen_years(), measure="revenue"))
    legend = encoding["color"]["legend"]
    assert encoding["color"]["scale"]["domain"] == list(range(2010, 2026))
    assert legend["columns"] * ENTRY_PX <= PHONE_CHART_PX
    assert legend.get("symbolLimit", 0) == 0  # no entry left out


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def test_each_year_has_a_colour_far_from_every_other_years() -> None:
    (encoding,) = encodings(charts.year_over_year_chart(sixteen_years(), measure="revenue"))
    colours = encoding["color"]["scale"]["range"]
    assert len(colours) == 16
    closest = min(
        math.dist(_rgb(a), _rgb(b)) for i, a in enumerate(colours) for b in colours[i + 1 :]
    )
    assert closest >= 30  # viridis, before: neighbouring years a shade apart


def band_layer(chart: alt.LayerChart) -> dict:
    (band,) = [layer for layer in chart.to_dict()["layer"] if "fill" in layer["encoding"]]
    return band


def test_hovering_the_forecast_band_shows_the_forecast_beside_its_bounds() -> None:
    history = pd.DataFrame({"unique_id": "Total", "ds": periods("2023-01-01", 36, "M"), "y": 1.0})
    table = forecast_table("2026-01-01", 6, "M").assign(predicted_sales=123.0)
    chart = charts.forecast_chart(history, table, freq="M")
    tips = {
        tip.get("title", tip["field"]): tip["field"]
        for tip in band_layer(chart)["encoding"]["tooltip"]
    }
    assert "forecast" in tips
    band_data = chart.data if chart.layer[0].data is alt.Undefined else chart.layer[0].data
    assert set(band_data[tips["forecast"]]) == {123.0}


def test_the_forecast_legends_share_no_row_so_a_phone_shows_every_entry() -> None:
    history = pd.DataFrame({"unique_id": "Total", "ds": periods("2023-01-01", 36, "M"), "y": 1.0})
    forecast = forecast_table("2026-01-01", 6, "M")
    chart = charts.forecast_chart(history, forecast, freq="M", adjusted=forecast)
    sides = [
        encoding[channel]["legend"]["orient"]
        for encoding in encodings(chart)
        for channel in ("color", "fill")
        if channel in encoding
    ]
    assert sorted(sides) == ["bottom", "top"]


@pytest.mark.parametrize("large", [False, True])
def test_backtest_legend_names_every_model_in_full(large: bool) -> None:
    name = "Median of Linear regression, ETS and Seasonal naive"
    lines = pd.DataFrame(
        {
            "ds": [*periods("2024-01-01", 3, "M")] * 2,
            "value": 1.0,
            "line": [charts.BACKTEST_ACTUAL] * 3 + [name] * 3,
            "window": "",
        }
    )
    chart = charts.backtest_chart(lines, [pd.Timestamp("2024-02-01")], freq="M", large=large)
    (legend,) = [e["color"]["legend"] for e in encodings(chart) if "color" in e]
    assert legend["labelLimit"] == 0  # no limit: a name is never cut to "Median of Linear reg…"
    # Two to a row where two fit, else one: the browser chooses, knowing the chart's width.
    assert legend["columns"]["expr"].endswith("? 1 : 2")
    # Where the name is wider than the chart, it is wrapped over lines that each fit.
    lines = json.loads(re.search(r": (\[[^]]*\])", legend["labelExpr"])[1])
    assert " ".join(lines) == name
    assert max(map(len, lines)) <= charts.WRAP_CHARS < len(name)


def _luminance(colour: str) -> float:
    def linear(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    """The WCAG contrast ratio of two colours (1 to 21)."""
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_line_reads_against_its_themes_background(theme: str) -> None:
    """Charts take their line colours from the theme: "Actual" first, then the models."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"][theme]
    colours = config["chartCategoricalColors"]
    assert contrast(colours[0], config["backgroundColor"]) >= 4.5  # "Actual", read as text
    assert all(contrast(c, config["backgroundColor"]) >= 3 for c in colours)  # lines


def test_the_app_draws_actual_in_its_themes_first_chart_colour() -> None:
    history = pd.DataFrame({"unique_id": "Total", "ds": periods("2023-01-01", 36, "M"), "y": 1.0})
    chart = charts.forecast_chart(history, forecast_table("2026-01-01", 6, "M"), freq="M")
    (colour,) = [e["color"] for e in encodings(chart) if "color" in e]
    assert colour["scale"]["domain"][0] == "Actual"
    assert "range" not in colour["scale"]  # the theme's categorical colours


def test_a_chart_outside_the_app_gets_the_light_themes_line_colours() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert list(charts.LIGHT_LINE_COLORS) == config["theme"]["light"]["chartCategoricalColors"]


@pytest.mark.parametrize(
    ("measure", "currency", "title"),
    [
        ("revenue", "GBP", "Revenue (GBP)"),
        ("revenue", "", "Revenue"),
        ("quantity", "GBP", "Quantity"),
    ],
)
def test_a_money_axis_says_its_currency(measure: str, currency: str, title: str) -> None:
    frame = pd.DataFrame({"month": [1, 2], "year": [2024, 2024], "value": [1.0, 2.0]})
    chart = charts.year_over_year_chart(frame, measure=measure, currency=currency)
    assert chart.to_dict()["encoding"]["y"]["title"] == title
