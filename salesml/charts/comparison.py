"""A training's comparison: backtest forecasts against the actuals, feature importances."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence

import altair as alt
import pandas as pd

from salesml.charts.axes import period_tooltip, time_axis
from salesml.charts.palette import SALES_COLOR, line_scale

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
                scale=line_scale(domain, colors),
                legend=_models_legend(domain, font_px=LARGE_LEGEND_PX if large else LEGEND_PX),
            ),
            strokeWidth=alt.StrokeWidth(
                "line:N", scale=alt.Scale(domain=domain, range=widths), legend=None
            ),
            detail="window:N",
            tooltip=[
                alt.Tooltip("line:N", title="line"),
                period_tooltip("ds", freq),
                alt.Tooltip("value:Q", title=y_title, format=",.2f"),
                alt.Tooltip("window:N", title="forecast made at"),
            ],
        )
    )
    marks = alt.Chart(pd.DataFrame({"cutoff": pd.to_datetime(pd.Series(cutoffs, dtype=object))}))
    at = alt.X("cutoff:T", title=None, axis=axis)
    rules = marks.mark_rule(strokeDash=[5, 4], color=CUTOFF_COLOR).encode(
        x=at, tooltip=period_tooltip("cutoff", freq, "cutoff (last period seen)")
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
