"""A forecast drawn against the history, and a stored forecast against the actuals."""

from __future__ import annotations

import altair as alt
import pandas as pd

from salesml.charts.axes import period_tooltip, time_axis
from salesml.charts.palette import LINE_DASHES, RANGE_COLORS, line_scale


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
                period_tooltip("ds", freq),
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
                scale=line_scale(names, None),
                legend=alt.Legend(title=None, orient="top", values=drawn),
            ),
            strokeDash=alt.StrokeDash(
                "line:N",
                scale=alt.Scale(domain=names, range=list(LINE_DASHES.values())),
                legend=None,
            ),
            tooltip=[
                period_tooltip("ds", freq),
                alt.Tooltip("line:N", title="line"),
                alt.Tooltip("value:Q", format=",.0f"),
            ],
        )
    )
    return alt.layer(bands, path)
