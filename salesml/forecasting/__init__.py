"""Forecasting: the model zoo, rolling-origin backtests, combinations and prediction ranges.

frames     series frames as the models read them (gaps filled, categories folded)
models     the zoo: ML models on mlforecast; ETS, Theta, seasonal naive on statsforecast
intervals  conformal half-widths per forecast step, scaled per series
estimator  Forecaster, which backtests, chooses, refits and predicts
"""

from __future__ import annotations

from mlforecast import MLForecast
from statsforecast import StatsForecast

from salesml.forecasting.estimator import ENGINE_VERSION, STAT_PAIR, Forecaster
from salesml.forecasting.frames import prepare_frame, series_scale
from salesml.forecasting.intervals import LEVELS, conformal_widths
from salesml.forecasting.models import BASELINE_FEATURES, STAT_FEATURES, Combination

__all__ = [
    "BASELINE_FEATURES",
    "ENGINE_VERSION",
    "LEVELS",
    "STAT_FEATURES",
    "STAT_PAIR",
    "Combination",
    "Forecaster",
    "MLForecast",
    "StatsForecast",
    "conformal_widths",
    "prepare_frame",
    "series_scale",
]
