"""What a chart's axes and tooltips say: time ticks on period starts with their years, the
periods in full, and a measure's name with its currency."""

from __future__ import annotations

from collections.abc import Iterable

import altair as alt
import pandas as pd

from salesml.frequencies import FREQUENCIES

# A measure's name on an axis (see measure_title).
MEASURE_TITLES = {"revenue": "Revenue", "quantity": "Quantity"}
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


def period_tooltip(field: str, freq: str, title: str = "period") -> alt.Tooltip:
    """A tooltip naming a period in full, always with its year."""
    return alt.Tooltip(f"{field}:T", title=title, format=FREQUENCIES[freq].date_format)


def measure_title(measure: str, currency: str = "") -> str:
    """A measure's name on an axis or a legend, money with its currency: 'Revenue (EUR)'."""
    title = MEASURE_TITLES[measure]
    return f"{title} ({currency})" if currency and measure == "revenue" else title
