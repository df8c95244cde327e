"""Series frames as the models read them: validated, one row per series and period, no gaps."""

from __future__ import annotations

import numpy as np
import pandas as pd
from utilsforecast.preprocessing import fill_gaps

from salesml.errors import SchemaError
from salesml.frequencies import FREQUENCIES

# More categories than HistGradientBoosting can bin are folded into one.
MAX_CATEGORIES = 200
OTHER = "(other)"


def prepare_frame(frame: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Validate a long frame, snap dates to period starts, sum duplicates, fill gaps with zeros."""
    missing = {"unique_id", "ds", "y"} - set(frame.columns)
    if missing:
        raise SchemaError(
            f"series frame lacks column(s) {', '.join(sorted(missing))}; "
            "pass the frame built by salesml.series.load_series"
        )
    if freq not in FREQUENCIES:
        raise SchemaError(f"freq must be one of {', '.join(FREQUENCIES)}, not {freq!r}")
    if frame.empty:
        raise SchemaError("the series frame is empty: there is nothing to forecast")
    frequency = FREQUENCIES[freq]
    df = pd.DataFrame({"unique_id": frame["unique_id"].astype(str)})
    ordinals = _period_ordinals(frame["ds"], frequency.period_alias)
    df["ds"] = pd.PeriodIndex.from_ordinals(ordinals, freq=frequency.period_alias).start_time
    df["y"] = pd.to_numeric(frame["y"], errors="coerce").fillna(0.0).astype(float).to_numpy()
    category = frame["category"] if "category" in frame.columns else pd.Series("all", frame.index)
    category = category.astype(object)
    df["category"] = category.where(category.notna(), "(none)").astype(str).to_numpy()
    categories = df.groupby("unique_id")["category"].first()
    sums = df.groupby(["unique_id", "ds"], as_index=False, sort=True)["y"].sum()
    # each series from its first period to the last period of all series, zeros between
    full = fill_gaps(sums, freq=frequency.pandas_alias, start="per_serie", end="global")
    full["y"] = full["y"].fillna(0.0)
    full["category"] = _fold_categories(full["unique_id"].map(categories))
    return full


def _period_ordinals(dates: pd.Series, period: str) -> np.ndarray:
    try:
        stamps = pd.to_datetime(dates)
    except (ValueError, TypeError) as exc:
        raise SchemaError(f"column 'ds' holds values that are not dates: {exc}") from exc
    if stamps.isna().any():
        raise SchemaError(f"column 'ds' has {int(stamps.isna().sum())} missing dates")
    return stamps.dt.to_period(period).array.asi8


def _fold_categories(category: pd.Series) -> pd.Categorical:
    counts = category.value_counts()
    keep = set(counts.index[: MAX_CATEGORIES - 1]) if len(counts) > MAX_CATEGORIES else None
    if keep is not None:
        category = category.where(category.isin(keep), OTHER)
    return pd.Categorical(category, categories=sorted(category.unique()))


def series_scale(frame: pd.DataFrame, season: int) -> pd.Series:
    """In-sample seasonal-naive MAE per series (naive MAE, then mean |y| when that is zero)."""
    ids = frame["unique_id"]
    grouped = frame.groupby("unique_id", sort=True, observed=True)["y"]
    seasonal = (frame["y"] - grouped.shift(season)).abs().groupby(ids).mean()
    naive = (frame["y"] - grouped.shift(1)).abs().groupby(ids).mean()
    level = frame["y"].abs().groupby(ids).mean()
    scale = seasonal.where(seasonal > 0, naive)
    scale = scale.where(scale > 0, level)
    return scale.where(scale > 0)


def future_index(ids: list[str], last: pd.Timestamp, h: int, freq: str) -> pd.DataFrame:
    """unique_id, ds and step (1..h) for h periods after `last`, for each series."""
    dates = pd.date_range(last, periods=h + 1, freq=FREQUENCIES[freq].pandas_alias)[1:]
    return pd.DataFrame(
        {
            "unique_id": np.repeat(ids, h),
            "ds": np.tile(dates, len(ids)),
            "step": np.tile(np.arange(1, h + 1), len(ids)),
        }
    )
