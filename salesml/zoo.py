"""The names of the models salesml offers, importable without importing the models."""

from __future__ import annotations

ML_MODELS = ("lr", "rf", "gb")
STAT_MODELS = ("snaive", "ets")
MODELS = (*ML_MODELS, *STAT_MODELS)
AUTO = "auto"
