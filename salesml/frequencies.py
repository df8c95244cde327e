"""The frequencies series can have, and every fact about each of them, in one table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import pandas as pd

from salesml.errors import SchemaError


@dataclass(frozen=True)
class Frequency:
    """One frequency: its pandas aliases, seasonality, names and how charts and reports show it."""

    code: str  # how salesml names it everywhere: "D", "W", "M", "Q"
    pandas_alias: str  # date_range / offset alias labelling a period by its first day
    period_alias: str  # Period alias whose start_time is that same first day
    season_length: int  # periods in one seasonal cycle (baselines, MASE scaling)
    label: str  # "Monthly": selectors and report titles
    unit: str  # "month": one period in words ("next 3 months", "4-month average")
    year_back: pd.DateOffset  # the same period a year earlier (whole weeks for days and weeks)
    date_format: str  # d3 time format naming one period in full in chart tooltips
    tick_steps: tuple[int, ...]  # periods between axis ticks, tried before month blocks
    smallest_tick_block: int  # the fewest months between axis ticks in month blocks
    history_periods: int  # periods of history shown before the first backtest cutoff

    @property
    def adjective(self) -> str:
        """The label in running text: 'monthly'."""
        return self.label.lower()

    @property
    def offset(self) -> pd.offsets.BaseOffset:
        """One period as a pandas offset, to step from one period start to the next."""
        return pd.tseries.frequencies.to_offset(self.pandas_alias)


# Read-only, so no caller can change a fact under every other layer.
FREQUENCIES: Mapping[str, Frequency] = MappingProxyType(
    {
        "D": Frequency(
            code="D",
            pandas_alias="D",
            period_alias="D",
            season_length=7,
            label="Daily",
            unit="day",
            year_back=pd.DateOffset(days=364),
            date_format="%a %d %b %Y",
            tick_steps=(1, 2, 7, 14),
            smallest_tick_block=1,
            history_periods=28,
        ),
        "W": Frequency(
            code="W",
            pandas_alias="W-MON",
            period_alias="W-SUN",
            season_length=52,
            label="Weekly",
            unit="week",
            year_back=pd.DateOffset(weeks=52),
            date_format="week of %d %b %Y",
            tick_steps=(1, 2),
            smallest_tick_block=1,
            history_periods=52,
        ),
        "M": Frequency(
            code="M",
            pandas_alias="MS",
            period_alias="M",
            season_length=12,
            label="Monthly",
            unit="month",
            year_back=pd.DateOffset(years=1),
            date_format="%B %Y",
            tick_steps=(),
            smallest_tick_block=1,
            history_periods=24,
        ),
        "Q": Frequency(
            code="Q",
            pandas_alias="QS",
            period_alias="Q",
            season_length=4,
            label="Quarterly",
            unit="quarter",
            year_back=pd.DateOffset(years=1),
            date_format="%Y Q%q",
            tick_steps=(),
            smallest_tick_block=3,
            history_periods=8,
        ),
    }
)


def get(code: str) -> Frequency:
    """The frequency named by `code`; a SchemaError naming the choices for any other value."""
    try:
        return FREQUENCIES[code]
    except (KeyError, TypeError):
        raise SchemaError(f"freq must be one of {', '.join(FREQUENCIES)}, not {code!r}") from None
