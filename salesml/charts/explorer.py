"""Charts of salesml.analytics frames: the Explorer's filtered views and the Overview's trend."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from salesml.charts.axes import measure_title, period_tooltip, time_axis
from salesml.charts.palette import SALES_COLOR, SALES_LIGHT_COLOR
from salesml.frequencies import FREQUENCIES

_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_MONTH_AXIS = alt.Axis(labelExpr=f"{_MONTHS}[datum.value - 1]", labelAngle=0)


def rolling_title(grain: str, rolling: int) -> str:
    """The legend name of the rolling average line: '4-week average'."""
    return f"{rolling}-{FREQUENCIES[grain].unit} average"


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
                period_tooltip("ds", grain, FREQUENCIES[grain].unit.title()),
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
                period_tooltip("ds", "M", "Month"),
                _value_tooltip("revenue", currency=currency),
            ],
        )
        .properties(height=180)
    )
