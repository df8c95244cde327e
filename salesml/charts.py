"""Altair charts of sales series and forecasts (no Streamlit here; pages draw them)."""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Iterable, Sequence

import altair as alt
import pandas as pd

from salesml.frequencies import FREQUENCIES

# Line colours come from the app's theme (chartCategoricalColors in .streamlit/config.toml):
# "Actual" first, then the forecast, the what-if or each model, every one readable on its
# theme's background. A chart shown outside the app (the HTML report) is given the light
# theme's, LIGHT_LINE_COLORS.
LIGHT_LINE_COLORS = (
    "#4a4a4a",
    "#1f6feb",
    "#d9480f",
    "#2b8a3e",
    "#ae3ec9",
    "#b35c00",
    "#0b7285",
    "#c2255c",
    "#5c7cfa",
    "#8d6e00",
    "#6741d9",
)
RANGE_COLORS = {"95% range": "#c6dbef", "80% range": "#9ecae1"}
LINE_DASHES = {"Actual": [1, 0], "Forecast": [1, 0], "What-if": [6, 4]}


def _line_scale(domain: Sequence[str], colors: Sequence[str] | None) -> alt.Scale:
    """Colours by position in `domain`: the theme's, or these (cycled)."""
    if colors is None:
        return alt.Scale(domain=list(domain))
    return alt.Scale(
        domain=list(domain), range=[colors[i % len(colors)] for i in range(len(domain))]
    )


# --------------------------------------------------------------------------- figures and time axes

_SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def compact_number(value: float, *, signed: bool = False) -> str:
    """A figure to three significant digits for a tile: 845k, 1.23M, 10.5k; under 1,000 whole."""
    sign = "+" if signed and value >= 0 else ""
    if not math.isfinite(value):
        return f"{sign}{value}"
    rounded = float(f"{value:.3g}")  # first, so 999,950 becomes 1M rather than 1,000k
    for size, suffix in _SUFFIXES:
        if abs(rounded) >= size:
            scaled = rounded / size
            number = f"{scaled:.3g}" if abs(scaled) < 1000 else f"{scaled:,.0f}"
            return f"{sign}{number}{suffix}"
    whole = round(value)  # an int, so -0.4 shows as 0, not -0
    return f"{'+' if signed and whole >= 0 else ''}{whole:,}"


def compact_amount(value: float) -> str:
    """Money for a tile to three significant digits, like every tile figure (8.13M, 105,
    45.2, 0.5): four tiles abreast on a 1024-pixel screen hold five characters each."""
    if not math.isfinite(value):
        return compact_number(value)
    rounded = float(f"{round(value, 2):.3g}") + 0.0  # + 0.0: no "-0"
    return f"{rounded:g}" if abs(rounded) < 1000 else compact_number(value)


def money(value: float, currency: str = "") -> str:
    """An exact amount to the cent with its currency: '1,234.50 EUR', '$1,234.50'."""
    figure = f"{abs(value):,.2f}"
    sign = "-" if value < 0 and figure.strip("0.,") else ""
    if not currency:
        return f"{sign}{figure}"
    # A symbol ($, €, US$) goes before the figure, a code (EUR, CHF) after it.
    if currency[-1].isalpha():
        return f"{sign}{figure} {currency}"
    return f"{sign}{currency}{figure}"


# At most this many labels on a time axis: with their year they stay apart on a narrow chart.
MAX_TICKS = 10
# Ticks every few periods (Frequency.tick_steps) are tried first, labelled with the day;
# then ticks at the start of every few months, aligned on January (labelled with the month).
_MONTH_BLOCKS = (1, 2, 3, 6, 12, 24, 60, 120, 240, 600, 1200)
_DAY_FORMAT, _MONTH_FORMAT, _QUARTER_FORMAT = "%d %b %Y", "%b %Y", "%Y Q%q"


def time_axis(dates: Iterable[object], freq: str, *, most: int = MAX_TICKS) -> alt.Axis:
    """An x axis over periods of `freq` ('D', 'W', 'M', 'Q'): ticks on period starts, with years."""
    frequency = FREQUENCIES[freq]
    stamps = pd.to_datetime(pd.Series(list(dates), dtype=object)).dropna()
    periods = (
        pd.date_range(stamps.min(), stamps.max(), freq=frequency.pandas_alias)
        if len(stamps)
        else pd.DatetimeIndex([])
    )
    for step in frequency.tick_steps:
        if len(periods[::step]) <= most:
            return _axis(periods[::step], _DAY_FORMAT)
    for months in (m for m in _MONTH_BLOCKS if m >= frequency.smallest_tick_block):
        ticks = _block_starts(periods, months, freq)
        if len(ticks) <= most:
            break
    return _axis(ticks, _QUARTER_FORMAT if freq == "Q" else _MONTH_FORMAT)


def _block_starts(periods: pd.DatetimeIndex, months: int, freq: str) -> pd.DatetimeIndex:
    """The first period of each block of `months` months (weeks: the first week starting in it)."""
    block = (periods.year * 12 + periods.month - 1) // months
    first = pd.Series(periods).groupby(block).min()
    block_start = pd.to_datetime(
        {"year": first.index * months // 12, "month": first.index * months % 12 + 1, "day": 1}
    )
    # A block whose start the data misses (the first, part-covered one) gets no tick.
    late = first.to_numpy() - block_start.to_numpy() >= pd.Timedelta(days=7 if freq == "W" else 1)
    return pd.DatetimeIndex(first[~late].to_numpy())


def _axis(ticks: pd.DatetimeIndex, label: str) -> alt.Axis:
    values = [alt.DateTime(year=t.year, month=t.month, date=t.day) for t in ticks]
    return alt.Axis(values=values, format=label, labelAngle=0)


def _period_tooltip(field: str, freq: str, title: str = "period") -> alt.Tooltip:
    # Tooltips name a period in full, always with its year.
    return alt.Tooltip(f"{field}:T", title=title, format=FREQUENCIES[freq].date_format)


def forecast_chart(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    *,
    freq: str,
    adjusted: pd.DataFrame | None = None,
    y_title: str = "Sales",
    axis_until: object = None,
) -> alt.LayerChart:
    """One series' history and forecast (periods of `freq`), its ranges, and a dashed what-if.

    axis_until, the furthest period the forecast may reach, fixes the time axis (its range
    and ticks) whatever the horizon: the axis stays put as the horizon moves.
    """
    series = set(forecast["series"].astype(str))
    past = history[history["unique_id"].astype(str).isin(series)]
    past = pd.DataFrame({"ds": pd.to_datetime(past["ds"]), "value": past["y"].astype(float)})
    first = pd.to_datetime(forecast["target_period"]).min()
    # The forecast line starts at the last actual, so the two read as one continuous line.
    anchor = past[past["ds"] < first].tail(1)
    lines = [past.assign(line="Actual")]
    for name, table in (("Forecast", forecast), ("What-if", adjusted)):
        if table is not None:
            lines.append(pd.concat([anchor, _values(table)]).assign(line=name))
    return _layers(
        _ranges(forecast),
        pd.concat(lines, ignore_index=True),
        y_title,
        freq=freq,
        axis_until=axis_until,
    )


def _datetime(stamp: pd.Timestamp) -> alt.DateTime:
    return alt.DateTime(year=stamp.year, month=stamp.month, date=stamp.day)


def predicted_vs_actual_chart(
    joined: pd.DataFrame, *, series: str, freq: str, y_title: str = "Sales"
) -> alt.LayerChart:
    """A stored forecast of one series (periods of `freq`) with its ranges, beside the actuals."""
    rows = joined[joined["series"].astype(str) == str(series)].sort_values("period_start")
    table = pd.DataFrame(
        {
            "target_period": rows["period_start"],
            "predicted_sales": rows["predicted_sales"],
            **{b: rows[b] for b in ("lower_80", "upper_80", "lower_95", "upper_95")},
        }
    )
    actual = rows[rows["actual"].notna()]
    lines = pd.concat(
        [
            _values(table).assign(line="Forecast"),
            pd.DataFrame(
                {
                    "ds": pd.to_datetime(actual["period_start"]),
                    "value": actual["actual"].astype(float),
                    "line": "Actual",
                }
            ),
        ],
        ignore_index=True,
    )
    return _layers(_ranges(table), lines, y_title, freq=freq, points=True)


def _values(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ds": pd.to_datetime(table["target_period"]),
            "value": table["predicted_sales"].astype(float),
        }
    )


def _ranges(table: pd.DataFrame) -> pd.DataFrame:
    """The forecast's ranges in long form, widest first so the narrow one is drawn on top."""
    ds = pd.to_datetime(table["target_period"])
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "ds": ds,
                    "low": table[f"lower_{level}"].astype(float),
                    "high": table[f"upper_{level}"].astype(float),
                    "range": f"{level}% range",
                    # Hovering the band shows the forecast it surrounds, not only its bounds.
                    "forecast": table["predicted_sales"].astype(float),
                }
            )
            for level in (95, 80)
        ],
        ignore_index=True,
    )


def _layers(
    ranges: pd.DataFrame,
    lines: pd.DataFrame,
    y_title: str,
    *,
    freq: str,
    points: bool = False,
    axis_until: object = None,
) -> alt.LayerChart:
    dates = [*ranges["ds"], *lines["ds"]]
    scale = alt.Undefined
    if axis_until is not None:
        dates.append(pd.Timestamp(axis_until))
        first, last = pd.Timestamp(min(dates)), pd.Timestamp(max(dates))
        scale = alt.Scale(domain=[_datetime(first), _datetime(last)])
    x = alt.X("ds:T", title=None, axis=time_axis(dates, freq), scale=scale)
    bands = (
        alt.Chart(ranges)
        .mark_area(opacity=0.7)
        .encode(
            x=x,
            y=alt.Y("low:Q", title=y_title),
            y2="high:Q",
            fill=alt.Fill(
                "range:N",
                scale=alt.Scale(domain=list(RANGE_COLORS), range=list(RANGE_COLORS.values())),
                # Below the chart: beside the lines' legend, a phone lost an entry of either.
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            tooltip=[
                _period_tooltip("ds", freq),
                alt.Tooltip("forecast:Q", format=",.0f"),
                alt.Tooltip("range:N", title="range"),
                alt.Tooltip("low:Q", format=",.0f"),
                alt.Tooltip("high:Q", format=",.0f"),
            ],
        )
    )
    # Every line keeps its colour whichever are drawn; the legend names those that are.
    names = list(LINE_DASHES)
    drawn = [name for name in names if name in set(lines["line"])]
    path = (
        alt.Chart(lines)
        .mark_line(point=points)
        .encode(
            x=x,
            y=alt.Y("value:Q", title=y_title),
            color=alt.Color(
                "line:N",
                scale=_line_scale(names, None),
                legend=alt.Legend(title=None, orient="top", values=drawn),
            ),
            strokeDash=alt.StrokeDash(
                "line:N",
                scale=alt.Scale(domain=names, range=list(LINE_DASHES.values())),
                legend=None,
            ),
            tooltip=[
                _period_tooltip("ds", freq),
                alt.Tooltip("line:N", title="line"),
                alt.Tooltip("value:Q", format=",.0f"),
            ],
        )
    )
    return alt.layer(bands, path)


# --------------------------------------------------------------------------- model comparison

# The line label of the actual values in backtest_chart's frame.
BACKTEST_ACTUAL = "Actual"
CUTOFF_COLOR = "#8a94a6"
# Legend label sizes: the theme's (Streamlit's "sm"), and the presenter's.
LEGEND_PX, LARGE_LEGEND_PX = 14, 17
# Characters to a line of a model's name wrapped in a legend on a narrow chart: at the
# presenter's size, a line and its symbol fit a phone's 350-pixel chart.
WRAP_CHARS = 28
# The chart's width in the browser, as a Vega expression. The width signal (the plot's, at
# most the container's) is named so the legend is laid out again when the window resizes.
_CHART_PX = "max(width, containerSize()[0])"


def _entry_px(chars: int, font_px: int) -> float:
    # An upper bound on a legend entry's width: the label's characters (0.6 em each at
    # most in the theme's font), the symbol, its padding and the gap to the next column.
    return chars * 0.6 * font_px + 48


def _models_legend(names: Sequence[str], *, font_px: int) -> alt.Legend:
    """A legend naming every model in full, never past the chart's edge: two to a row where
    two fit, else one to a row, and where even one name does not fit, wrapped over lines.

    A combination's name is long ("Median of Linear regression + Seasonal naive"); the
    chart's width is known only in the browser (containerSize), so the layout is chosen there.
    """
    longest = max((len(name) for name in names), default=0)
    one_line = _entry_px(longest, font_px)
    wrapped = {name: textwrap.wrap(name, WRAP_CHARS) for name in names if len(name) > WRAP_CHARS}
    label = "datum.label"
    if wrapped:
        lines = json.dumps(wrapped)
        label = f"({_CHART_PX} < {one_line:.0f} && {lines}[datum.label]) || datum.label"
    return alt.Legend(
        title=None,
        orient="top",
        labelLimit=0,  # a name is never cut to "Median of Linear reg…"
        columns=alt.ExprRef(f"{_CHART_PX} < {2 * one_line:.0f} ? 1 : 2"),
        labelExpr=label,
    )


def backtest_chart(
    lines: pd.DataFrame,
    cutoffs: list[pd.Timestamp],
    *,
    freq: str,
    y_title: str = "Sales",
    height: int = 380,
    large: bool = False,
    colors: Sequence[str] | None = None,
) -> alt.LayerChart:
    """Backtest forecasts (ds, value, line, window) against bold actuals; cutoffs dashed.

    `colors`, "Actual"'s then the models', default to the theme's (see LIGHT_LINE_COLORS).
    """
    models = [name for name in pd.unique(lines["line"]) if name != BACKTEST_ACTUAL]
    domain = [BACKTEST_ACTUAL, *models]
    widths = [4.5 if large else 3.5] + [2.0] * len(models)
    axis = time_axis([*lines["ds"], *cutoffs], freq)
    # Each window's forecast is its own path (detail), so separate windows are not joined up.
    paths = (
        alt.Chart(lines)
        .mark_line(point=alt.OverlayMarkDef(size=60 if large else 25))
        .encode(
            x=alt.X("ds:T", title=None, axis=axis),
            y=alt.Y("value:Q", title=y_title),
            color=alt.Color(
                "line:N",
                scale=_line_scale(domain, colors),
                legend=_models_legend(domain, font_px=LARGE_LEGEND_PX if large else LEGEND_PX),
            ),
            strokeWidth=alt.StrokeWidth(
                "line:N", scale=alt.Scale(domain=domain, range=widths), legend=None
            ),
            detail="window:N",
            tooltip=[
                alt.Tooltip("line:N", title="line"),
                _period_tooltip("ds", freq),
                alt.Tooltip("value:Q", title=y_title, format=",.2f"),
                alt.Tooltip("window:N", title="forecast made at"),
            ],
        )
    )
    marks = alt.Chart(pd.DataFrame({"cutoff": pd.to_datetime(pd.Series(cutoffs, dtype=object))}))
    at = alt.X("cutoff:T", title=None, axis=axis)
    rules = marks.mark_rule(strokeDash=[5, 4], color=CUTOFF_COLOR).encode(
        x=at, tooltip=_period_tooltip("cutoff", freq, "cutoff (last period seen)")
    )
    labels = marks.mark_text(
        align="left", baseline="top", dx=4, dy=2, color=CUTOFF_COLOR, fontSize=15 if large else 11
    ).encode(x=at, y=alt.value(0), text=alt.value("cutoff"))
    chart = alt.layer(rules, labels, paths).properties(height=height)
    if large:
        chart = chart.configure_axis(labelFontSize=15, titleFontSize=16).configure_legend(
            labelFontSize=LARGE_LEGEND_PX, symbolStrokeWidth=4, symbolSize=240
        )
    return chart


def importance_chart(importances: pd.DataFrame) -> alt.Chart:
    """Horizontal bars of feature importances (feature, importance as a share), largest on top."""
    return (
        alt.Chart(importances)
        .mark_bar(color=SALES_COLOR)
        .encode(
            x=alt.X("importance:Q", title="share of the importance", axis=alt.Axis(format="%")),
            y=alt.Y("feature:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260)),
            tooltip=[alt.Tooltip("feature:N"), alt.Tooltip("importance:Q", format=".1%")],
        )
        .properties(height=alt.Step(22))
    )


# --------------------------------------------------------------------------- explorer, overview
# Charts of salesml.analytics frames: the Explorer's filtered views and the Overview's trend.

MEASURE_TITLES = {"revenue": "Revenue", "quantity": "Quantity"}
SALES_COLOR = "#1f6feb"
SALES_LIGHT_COLOR = "#9db7e0"
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_MONTH_AXIS = alt.Axis(labelExpr=f"{_MONTHS}[datum.value - 1]", labelAngle=0)


def rolling_title(grain: str, rolling: int) -> str:
    """The legend name of the rolling average line: '4-week average'."""
    return f"{rolling}-{FREQUENCIES[grain].unit} average"


def measure_title(measure: str, currency: str = "") -> str:
    """A measure's name on an axis or a legend, money with its currency: 'Revenue (EUR)'."""
    title = MEASURE_TITLES[measure]
    return f"{title} ({currency})" if currency and measure == "revenue" else title


def _value_tooltip(
    measure: str, field: str = "value", title: str | None = None, currency: str = ""
) -> alt.Tooltip:
    number = ",.2f" if measure == "revenue" else ",.0f"
    return alt.Tooltip(f"{field}:Q", title=title or measure_title(measure, currency), format=number)


def _heat(measure: str, currency: str = "") -> alt.Color:
    # A legend beside a narrow chart is cut off; above it, it has the chart's width.
    return alt.Color(
        "value:Q",
        title=measure_title(measure, currency),
        scale=alt.Scale(scheme="blues"),
        legend=alt.Legend(orient="top", format=",.0f", gradientLength=160),
    )


def over_time_chart(
    frame: pd.DataFrame, *, measure: str, grain: str, rolling: int, currency: str = ""
) -> alt.LayerChart:
    """Totals per period with the rolling average; drag to pan, scroll to zoom the time axis."""
    title, average = measure_title(measure, currency), rolling_title(grain, rolling)
    base = alt.Chart(frame).encode(x=alt.X("ds:T", title=None))
    names = [title, average]
    lines = (
        base.transform_fold(["value", "rolling"], as_=["series", "amount"])
        .transform_calculate(line=f"datum.series == 'value' ? {names[0]!r} : {names[1]!r}")
        .mark_line()
        .encode(
            y=alt.Y("amount:Q", title=title),
            color=alt.Color(
                "line:N",
                scale=alt.Scale(domain=names, range=[SALES_LIGHT_COLOR, SALES_COLOR]),
                legend=alt.Legend(title=None, orient="top"),
            ),
            strokeWidth=alt.StrokeWidth(
                "line:N", scale=alt.Scale(domain=names, range=[1.5, 2.5]), legend=None
            ),
        )
    )
    # A rule under the pointer shows both values of the nearest period.
    nearest = alt.selection_point(nearest=True, on="pointerover", fields=["ds"], empty=False)
    rule = (
        base.mark_rule(color="#888")
        .encode(
            opacity=alt.condition(nearest, alt.value(0.6), alt.value(0)),
            tooltip=[
                _period_tooltip("ds", grain, FREQUENCIES[grain].unit.title()),
                _value_tooltip(measure, currency=currency),
                _value_tooltip(measure, "rolling", average),
            ],
        )
        .add_params(nearest)
    )
    zoom = alt.selection_interval(bind="scales", encodings=["x"])
    return alt.layer(lines.add_params(zoom), rule).properties(height=320)


# The names of the point selections a click on a bar makes (Streamlit returns them by name).
CATEGORY_PICK = "pick_category"
PRODUCT_PICK = "pick_product"


def _category_colors(categories: Sequence[str]) -> alt.Color:
    # The domain is the whole catalogue, sorted, never just the categories on screen: a
    # category keeps its colour whatever the filters and in every chart.
    scale = alt.Scale(domain=sorted(set(categories)), scheme="tableau10")
    return alt.Color("category:N", title="Category", scale=scale, legend=None)


def category_chart(
    frame: pd.DataFrame,
    *,
    measure: str,
    categories: Sequence[str] | None = None,
    currency: str = "",
) -> alt.Chart:
    """One bar per category, largest first; a click selects a category (CATEGORY_PICK).

    `categories` is the whole catalogue, which fixes each category's colour (by default
    the frame's own categories); its colours are the key to top_products_chart.
    """
    pick = alt.selection_point(name=CATEGORY_PICK, fields=["category"])
    return (
        alt.Chart(frame)
        .mark_bar(cursor="pointer")
        .encode(
            x=alt.X(f"{measure}:Q", title=measure_title(measure, currency)),
            y=alt.Y("category:N", sort="-x", title=None),
            color=_category_colors(frame["category"] if categories is None else categories),
            tooltip=[
                alt.Tooltip("category:N", title="Category"),
                _value_tooltip("revenue", "revenue", currency=currency),
                _value_tooltip("quantity", "quantity"),
                alt.Tooltip("lines:Q", title="Order lines", format=",d"),
            ],
        )
        .add_params(pick)
        .properties(height=alt.Step(26))
    )


def top_products_chart(
    frame: pd.DataFrame, *, measure: str, categories: Sequence[str], currency: str = ""
) -> alt.Chart:
    """One bar per product, largest first, coloured by category as in category_chart.

    `categories` is the whole catalogue (see category_chart); a click selects a product
    (PRODUCT_PICK).
    """
    pick = alt.selection_point(name=PRODUCT_PICK, fields=["product_name"])
    return (
        alt.Chart(frame)
        .mark_bar(cursor="pointer")
        .encode(
            x=alt.X("value:Q", title=measure_title(measure, currency)),
            y=alt.Y("product_name:N", sort="-x", title=None, axis=alt.Axis(labelLimit=180)),
            color=_category_colors(categories),
            tooltip=[
                alt.Tooltip("product_name:N", title="Product"),
                alt.Tooltip("category:N", title="Category"),
                _value_tooltip(measure, currency=currency),
            ],
        )
        .add_params(pick)
        .properties(height=alt.Step(22))
    )


def _with_month_names(frame: pd.DataFrame) -> pd.DataFrame:
    # Tooltips show "Jun", not "6"; the axis keeps the number so the months stay in order.
    names = [_MONTHS[int(month) - 1] for month in frame["month"]]
    return frame.assign(month_name=pd.Series(names, index=frame.index, dtype=object))


def month_year_heatmap(frame: pd.DataFrame, *, measure: str, currency: str = "") -> alt.Chart:
    """Seasonality: one cell per (month, year), darker for more."""
    return (
        alt.Chart(_with_month_names(frame))
        .mark_rect()
        .encode(
            x=alt.X("month:O", title=None, axis=_MONTH_AXIS),
            y=alt.Y("year:O", title=None),
            color=_heat(measure, currency),
            tooltip=[
                alt.Tooltip("year:O", title="Year"),
                alt.Tooltip("month_name:N", title="Month"),
                _value_tooltip(measure, currency=currency),
            ],
        )
        .properties(height=alt.Step(32))
    )


def weekday_heatmap(frame: pd.DataFrame, *, measure: str, currency: str = "") -> alt.Chart:
    """Weekly pattern: one cell per (week, weekday), darker for more."""
    weeks = frame.assign(week_end=frame["week"] + pd.Timedelta(days=7))
    return (
        alt.Chart(weeks)
        .mark_rect()
        .encode(
            x=alt.X("week:T", title=None),
            x2="week_end:T",
            y=alt.Y("weekday:O", sort=_WEEKDAYS, title=None),
            color=_heat(measure, currency),
            tooltip=[
                alt.Tooltip("week:T", title="Week of", format="%d %b %Y"),
                alt.Tooltip("weekday:O", title="Day"),
                _value_tooltip(measure, currency=currency),
            ],
        )
        .properties(height=alt.Step(24))
    )


# Vega's tableau20, its strong colours first: the latest years get those, the years before
# the light ones; each year's colour stands apart from every other's.
_TABLEAU20 = [
    "#4c78a8",
    "#9ecae9",
    "#f58518",
    "#ffbf79",
    "#54a24b",
    "#88d27a",
    "#b79a20",
    "#f2cf5b",
    "#439894",
    "#83bcb6",
    "#e45756",
    "#ff9d98",
    "#79706e",
    "#bab0ac",
    "#d67195",
    "#fcbfd2",
    "#b279a2",
    "#d6a5c9",
    "#9e765f",
    "#d8b5a5",
]
YEAR_COLORS = (*_TABLEAU20[0::2], *_TABLEAU20[1::2])
# Years to a legend row: six fit the width of a chart on a phone.
YEAR_LEGEND_COLUMNS = 6


def year_over_year_chart(frame: pd.DataFrame, *, measure: str, currency: str = "") -> alt.Chart:
    """One line per year over the months January to December."""
    years = sorted({int(year) for year in frame["year"]})
    colors = [YEAR_COLORS[i % len(YEAR_COLORS)] for i in range(len(years))][::-1]
    return (
        alt.Chart(_with_month_names(frame))
        .mark_line(point=True)
        .encode(
            x=alt.X("month:O", title=None, axis=_MONTH_AXIS),
            y=alt.Y("value:Q", title=measure_title(measure, currency)),
            color=alt.Color(
                "year:O",
                title=None,
                scale=alt.Scale(domain=years, range=colors),
                # In rows: a single row would leave out the years past the chart's width.
                legend=alt.Legend(orient="top", columns=YEAR_LEGEND_COLUMNS),
            ),
            tooltip=[
                alt.Tooltip("year:O", title="Year"),
                alt.Tooltip("month_name:N", title="Month"),
                _value_tooltip(measure, currency=currency),
            ],
        )
        .properties(height=300)
    )


def trend_chart(frame: pd.DataFrame, *, currency: str = "") -> alt.Chart:
    """A small monthly revenue area chart."""
    return (
        alt.Chart(frame)
        .mark_area(line={"color": SALES_COLOR}, color=SALES_LIGHT_COLOR, opacity=0.6)
        .encode(
            x=alt.X("ds:T", title=None, axis=time_axis(frame["ds"], "M")),
            y=alt.Y("value:Q", title=measure_title("revenue", currency)),
            tooltip=[
                _period_tooltip("ds", "M", "Month"),
                _value_tooltip("revenue", currency=currency),
            ],
        )
        .properties(height=180)
    )
