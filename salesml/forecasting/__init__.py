"""Forecasting: the model zoo, rolling-origin backtests, combinations and prediction ranges.

frames     series frames as the models read them (gaps filled, categories folded)
models     the zoo: ML models on mlforecast; ETS, Theta, seasonal naive on statsforecast
intervals  conformal half-widths per forecast step, scaled per series
estimator  Forecaster, which backtests, chooses, refits and predicts
"""

from __future__ import annotations

from salesml.forecasting.estimator import STAT_PAIR, Forecaster
from salesml.forecasting.frames import prepare_frame, series_scale
from salesml.forecasting.intervals import conformal_widths
from salesml.forecasting.models import BASELINE_FEATURES, STAT_FEATURES

__all__ = [
    "BASELINE_FEATURES",
    "STAT_FEATURES",
    "STAT_PAIR",
    "Forecaster",
    "conformal_widths",
    "prepare_frame",
    "series_scale",
]
