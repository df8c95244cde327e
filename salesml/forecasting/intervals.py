"""Prediction ranges: conformal half-widths per forecast step, in units of each series' scale."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.isotonic import IsotonicRegression

LEVELS = (80, 95)


def scaled_errors(bt: pd.DataFrame, col: str) -> np.ndarray:
    return ((bt[col] - bt["y"]).abs() / bt["scale"]).to_numpy()


def recency_weights(cutoffs: np.ndarray) -> np.ndarray:
    """Weight of each backtest error by its window's age: 1 for the newest, halving per year.

    Errors drift (series grow, shocks pass); the newest windows are the most like the
    future, so widths come from a weighted conformal quantile (Barber et al., 2023,
    "Conformal prediction beyond exchangeability") rather than pooling every window equally.
    Age counts in time, not windows: a year of 12-month windows halves once per window,
    13-week windows four times more slowly.
    """
    stamps = pd.to_datetime(pd.Series(cutoffs))
    if stamps.empty:
        return np.ones(0)
    years = (stamps.max() - stamps).dt.days.to_numpy() / 365.25
    return 0.5**years


def conformal_widths(
    scaled_errors: np.ndarray,
    steps: np.ndarray,
    h: int,
    levels: Sequence[int],
    *,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Scaled half-widths (levels x steps): conformal, or a t fit where errors are few; rising.

    With `weights` (at most 1 each) the quantile is the weighted one, the forecast itself
    counting as a point of weight 1 beyond every error; equal weights give the plain ranks.
    """
    weights = np.ones(len(scaled_errors)) if weights is None else np.asarray(weights, float)
    widths = np.full((len(levels), h), np.nan)
    ok = np.isfinite(scaled_errors)
    for step in range(1, h + 1):
        here = ok & (steps == step)
        order = np.argsort(scaled_errors[here], kind="stable")
        errors, mass = scaled_errors[here][order], weights[here][order]
        narrower: tuple[int, float] | None = None
        for i in np.argsort(levels, kind="stable"):
            widths[i, step - 1] = _step_width(errors, mass, int(levels[i]), narrower)
            narrower = (int(levels[i]), widths[i, step - 1])
    widths = pd.DataFrame(widths).ffill(axis=1).bfill(axis=1).to_numpy()
    if np.isnan(widths).any():
        return widths
    # least-squares monotone fit: a running maximum would keep every upward noise spike
    isotonic = IsotonicRegression(increasing=True)
    return np.vstack([isotonic.fit_transform(np.arange(h), row) for row in widths])


def needed_errors(level: int) -> int:
    """Fewest errors per step whose conformal `level`% quantile is one of the errors (95: 19)."""
    return -(-level // (100 - level))


def _step_width(
    sorted_errors: np.ndarray, weights: np.ndarray, level: int, narrower: tuple[int, float] | None
) -> float:
    """One level's scaled half-width at one step: conformal, or a t fit when errors are few."""
    n = len(sorted_errors)
    if n == 0:
        return np.nan
    # the smallest error whose share of the weight (the forecast's own 1 included) reaches
    # the level; with equal weights that is the rank ceil((n + 1) * level / 100)
    share = np.cumsum(weights) * 100
    rank = int(np.searchsorted(share, level * (weights.sum() + 1) - 1e-9))
    if rank < n:
        return float(sorted_errors[rank])
    if n >= needed_errors(level):
        # enough errors, whose weights (older windows count less) just fall short: the largest
        width = float(sorted_errors[-1])
    else:
        # Capping the rank at n would make every thin level the largest error: 95% = 80%.
        # Instead fit zero-mean t errors (n degrees of freedom, scale from their RMS), never
        # narrower than the largest error.
        width = max(
            _t_quantile(level, n) * math.sqrt(np.mean(sorted_errors**2)),
            float(sorted_errors[-1]),
        )
    # Nor narrower than the narrower level's width grown as far as a Gaussian's quantiles
    # grow (x1.53 from 80% to 95%): heavy tails only widen it more.
    if narrower is not None:
        width = max(width, narrower[1] * _z_quantile(level) / _z_quantile(narrower[0]))
    return width


def _t_quantile(level: int, df: int) -> float:
    """Half-width of the central `level`% of a standard t distribution."""
    return float(stats.t.ppf(0.5 + level / 200, df))


def _z_quantile(level: int) -> float:
    """Half-width of the central `level`% of a standard normal distribution."""
    return float(stats.norm.ppf(0.5 + level / 200))


def thin_calibration_notes(
    steps: np.ndarray, scaled_errors: np.ndarray, levels: Sequence[int]
) -> list[str]:
    """Sentences naming the levels whose widths came from a t fit, for want of errors."""
    counts = pd.Series(steps[np.isfinite(scaled_errors)]).value_counts().to_numpy()
    notes = []
    for level in sorted(levels):
        need = needed_errors(int(level))
        thin = counts[counts < need]
        if thin.size == 0:
            continue
        few = f"{thin.min()}" if thin.min() == thin.max() else f"{thin.min()} to {thin.max()}"
        notes.append(
            f"{level}% ranges: only {few} backtest errors per forecast step, {need} are needed "
            "to calibrate them; widened by a t-distribution fit to those errors."
        )
    return notes


def extend_widths(widths: np.ndarray, h: int) -> np.ndarray:
    """Widths for h steps; past the backtested steps they keep growing as the backtest showed.

    Each level's widths are fitted as a power of the step (width ~ step^p, p between 0 and 1:
    flat to growing in proportion); with one backtested step there is nothing to fit and they
    grow like a random walk's, sqrt(step).
    """
    known = widths.shape[1]
    if h <= known:
        return widths[:, :h]
    later = np.arange(known + 1, h + 1) / known
    rows = []
    for row in widths:
        power = _growth_power(row)
        rows.append(np.concatenate([row, row[-1] * later**power]))
    return np.vstack(rows)


def _growth_power(row: np.ndarray) -> float:
    if len(row) < 2 or not np.all(row > 0):
        return 0.5
    slope = np.polyfit(np.log(np.arange(1, len(row) + 1)), np.log(row), 1)[0]
    return float(np.clip(slope, 0.0, 1.0))


def default_widths(h: int, levels: Sequence[int]) -> np.ndarray:
    """Random-walk Gaussian widths in MAE units, for when there is no backtest to learn from."""
    z = {80: 1.2816, 95: 1.96}
    steps = np.sqrt(np.arange(1, h + 1))
    # sigma is about 1.25 times the mean absolute one-step error of a Gaussian walk
    return np.vstack([z.get(level, 1.96) * 1.25 * steps for level in levels])


def window_coverage(bt: pd.DataFrame, col: str, h: int, levels: Sequence[int]) -> list[float]:
    """Coverage per level, each window judged by widths learnt from the other windows only.

    The other windows weigh as they do for the model's own ranges (newer ones more).
    """
    cutoffs = bt["cutoff"].unique()
    if len(cutoffs) < 2:
        return [np.nan] * len(levels)
    scaled = scaled_errors(bt, col)
    steps = bt["step"].to_numpy()
    hits = np.zeros(len(levels))
    counted = 0
    weights = recency_weights(bt["cutoff"].to_numpy())
    for cutoff in cutoffs:
        inside = (bt["cutoff"] == cutoff).to_numpy()
        others = ~inside
        widths = conformal_widths(scaled[others], steps[others], h, levels, weights=weights[others])
        judged = inside & np.isfinite(scaled)
        width_at = widths[:, steps[judged] - 1]
        hits += (scaled[judged] <= width_at).sum(axis=1)
        counted += int(judged.sum())
    return list(hits / counted) if counted else [np.nan] * len(levels)
