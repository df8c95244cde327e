"""The names of the models salesml offers, importable without importing the models."""

from __future__ import annotations

ML_MODELS = ("lr", "rf", "gb")
STAT_MODELS = ("snaive", "ets", "theta")
MODELS = (*ML_MODELS, *STAT_MODELS)
AUTO = "auto"
# Saved models record the forecasting engine that fitted them; a model from another engine is
# refused on load with a "retrain" message instead of predicting in a way it was never checked.
ENGINE_VERSION = 2
