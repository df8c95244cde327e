"""Forecast accuracy: the one place backtests, stored forecasts and reports get their scores.

The error measures come from utilsforecast.losses; this module only arranges the frames and
adds what it lacks (R², interval coverage, a scale of the caller's choosing for MASE).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SCORES = ("mase", "smape", "mae", "rmse", "r2", "bias")
_ALL = "__all__"


def scores(
    frame: pd.DataFrame,
    column: str,
    *,
    by: str | None = None,
    target: str = "y",
    scale: str | None = None,
) -> pd.DataFrame:
    """MASE, sMAPE (0-200), MAE, RMSE, R² and bias (forecast - actual) of one forecast column.

    One row per `by` group, or a single row (index "all") pooling every point. MASE divides
    each absolute error by the `scale` column (a per-series yardstick such as the in-sample
    seasonal-naive MAE); without one it is left out.
    """
    from utilsforecast import losses  # on first use: importing salesml stays light

    key = by if by is not None else _ALL
    df = pd.DataFrame(
        {
            key: frame[by].astype(str).to_numpy() if by is not None else _ALL,
            "y": frame[target].to_numpy(dtype=float),
            "f": frame[column].to_numpy(dtype=float),
        }
    )
    out = pd.DataFrame(index=pd.Index(sorted(df[key].unique()), name=key))
    if scale is not None:
        scaled = df.assign(
            y=df["y"] / frame[scale].to_numpy(dtype=float),
            f=df["f"] / frame[scale].to_numpy(dtype=float),
        )
        out["mase"] = _measure(losses.mae, scaled, key)
    out["smape"] = 200.0 * _measure(losses.smape, df, key)
    out["mae"] = _measure(losses.mae, df, key)
    out["rmse"] = _measure(losses.rmse, df, key)
    out["r2"] = _r_squared(df, key)
    out["bias"] = _measure(losses.bias, df, key)
    if by is None:
        out.index = pd.Index(["all"])
    return out


def score(
    frame: pd.DataFrame, column: str, *, target: str = "y", scale: str | None = None
) -> pd.Series:
    """The pooled scores of one forecast column, as a Series."""
    return scores(frame, column, target=target, scale=scale).iloc[0]


def coverage(frame: pd.DataFrame, level: int, *, target: str = "y") -> float:
    """Share of actuals inside the level% range (lower_<level> to upper_<level>)."""
    inside = frame[target].between(frame[f"lower_{level}"], frame[f"upper_{level}"])
    return float(inside.mean()) if len(frame) else float("nan")


def _measure(loss, df: pd.DataFrame, key: str) -> pd.Series:
    known = df[np.isfinite(df["y"]) & np.isfinite(df["f"])]
    return loss(known, ["f"], id_col=key).set_index(key)["f"]


def _r_squared(df: pd.DataFrame, key: str) -> pd.Series:
    grouped = df.groupby(key, sort=True)
    residual = ((df["f"] - df["y"]) ** 2).groupby(df[key], sort=True).sum()
    total = grouped["y"].transform(lambda y: (y - y.mean()) ** 2).groupby(df[key]).sum()
    return (1.0 - residual / total.where(total > 0)).astype(float)
