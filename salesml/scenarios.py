"""What-if adjustments of a forecast, and the outlook over its periods that managers read first."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesml import frequencies
from salesml.errors import SchemaError
from salesml.predictions import BOUNDS

VALUES = ("predicted_sales", *BOUNDS)


def adjust(
    forecast: pd.DataFrame,
    *,
    growth_pct: float = 0.0,
    uplift_pct: float = 0.0,
    periods: Iterable[object] = (),
) -> pd.DataFrame:
    """The forecast scaled by growth % everywhere and by a further uplift % in `periods`."""
    for name, value in (("growth_pct", growth_pct), ("uplift_pct", uplift_pct)):
        if not math.isfinite(value):
            raise SchemaError(f"{name} must be a finite percentage, not {value!r}")
    chosen = {period_key(period) for period in periods}
    unknown = sorted(chosen - set(forecast["target_period"]))
    if unknown:
        raise SchemaError(
            f"{len(unknown)} promotion period(s) are not in the forecast (first: {unknown[0]}); "
            "choose periods the forecast covers"
        )
    promoted = forecast["target_period"].isin(chosen).to_numpy()
    # Growth and uplift compound: a promotion lifts the already-grown forecast.
    factor = (1 + growth_pct / 100) * np.where(promoted, 1 + uplift_pct / 100, 1.0)
    factor = np.clip(factor, 0.0, None)
    adjusted = forecast.copy()
    for column in VALUES:
        adjusted[column] = (adjusted[column].to_numpy(dtype=float) * factor).clip(0.0).round(2)
    return adjusted


def period_key(period: object) -> str:
    """A period as the forecast table writes it (YYYY-MM-DD)."""
    return pd.Timestamp(period).strftime("%Y-%m-%d")


def period_label(period: object, freq: str) -> str:
    """A forecast period in words: 'Jan 2026', '2026 Q1', 'week of 05 Jan 2026'."""
    stamp = pd.Timestamp(period)
    if freq == "M":
        return f"{stamp:%b %Y}"
    if freq == "Q":
        return f"{stamp.year} Q{stamp.quarter}"
    if freq == "W":
        return f"week of {stamp:%d %b %Y}"
    return f"{stamp:%a %d %b %Y}"


@dataclass(frozen=True)
class Outlook:
    """The forecast total over its periods, its 80% range, and the same periods a year ago.

    Past a year ahead, the year before a period lies inside the forecast: the comparison
    covers the first `compared` periods, whose year-earlier sales the history holds.
    """

    label: str
    periods: tuple[str, ...]
    total: float
    lower_80: float
    upper_80: float
    year_ago: float | None
    compared: int = 0  # how many periods, from the first, the year-ago total covers
    compared_total: float = 0.0  # the forecast over those periods

    @property
    def change_pct(self) -> float | None:
        """Change against the same periods a year earlier, in percent (None when unknown)."""
        if self.year_ago is None or self.year_ago == 0:
            return None
        return (self.compared_total - self.year_ago) / abs(self.year_ago) * 100


def outlook(forecast: pd.DataFrame, history: pd.DataFrame, *, freq: str) -> Outlook:
    """Sum every period of the forecast over its series, and compare with a year ago.

    The caller passes the periods it shows (the horizon chosen), so the total follows them.
    The range adds the periods' 80% bounds: errors of neighbouring periods move together,
    so this errs on the wide side rather than promising a range that is too narrow.
    """
    frequency = frequencies.get(freq)
    if forecast.empty:
        raise SchemaError("the forecast is empty: there is nothing to sum")
    periods = sorted(forecast["target_period"].unique())
    compared, year_ago, compared_total = _year_ago(forecast, history, frequency.year_back)
    return Outlook(
        label=_window_label(len(periods), frequency.unit),
        periods=tuple(periods),
        total=float(forecast["predicted_sales"].sum()),
        lower_80=float(forecast["lower_80"].sum()),
        upper_80=float(forecast["upper_80"].sum()),
        year_ago=year_ago,
        compared=compared,
        compared_total=compared_total,
    )


def _window_label(count: int, unit: str) -> str:
    return f"next {unit}" if count == 1 else f"next {count} {unit}s"


def _year_ago(
    window: pd.DataFrame, history: pd.DataFrame, year_back: pd.DateOffset
) -> tuple[int, float | None, float]:
    """How many periods, from the first, history covers a year earlier for every series;
    their actual total then (None for no period) and their forecast total."""
    wanted = pd.MultiIndex.from_arrays(
        [
            window["series"].astype(str),
            pd.to_datetime(window["target_period"]) - year_back,
        ]
    )
    known = history.assign(unique_id=history["unique_id"].astype(str)).set_index(
        ["unique_id", "ds"]
    )["y"]
    found = pd.Series(known.reindex(wanted).to_numpy(), index=window.index)
    missing = found.isna().groupby(window["target_period"]).any().sort_index()
    covered = missing.index[~missing.cumsum().astype(bool)]
    if covered.empty:
        return 0, None, 0.0
    rows = window["target_period"].isin(covered)
    return (
        len(covered),
        float(found[rows].sum()),
        float(window.loc[rows, "predicted_sales"].sum()),
    )


def side_by_side(
    forecast: pd.DataFrame, adjusted: pd.DataFrame | None, *, freq: str
) -> pd.DataFrame:
    """The forecast as a readable table, with the what-if column when there is one."""
    table = pd.DataFrame(
        {
            "series": forecast["series"],
            "period": [period_label(p, freq) for p in forecast["target_period"]],
            "forecast": forecast["predicted_sales"],
            "80% low": forecast["lower_80"],
            "80% high": forecast["upper_80"],
            "95% low": forecast["lower_95"],
            "95% high": forecast["upper_95"],
        }
    )
    if adjusted is not None:
        table["what-if"] = adjusted["predicted_sales"].to_numpy()
    return table
