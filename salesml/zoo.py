"""The models salesml offers, by code and readable name, importable without the models."""

from __future__ import annotations

import re

ML_MODELS = ("lr", "rf", "gb")
STAT_MODELS = ("snaive", "ets", "theta")
MODELS = (*ML_MODELS, *STAT_MODELS)
AUTO = "auto"
# Saved models record the forecasting engine that fitted them; a model from another engine is
# refused on load with a "retrain" message instead of predicting in a way it was never checked.
ENGINE_VERSION = 2

MODEL_LABELS = {
    "lr": "Linear regression",
    "rf": "Random forest",
    "gb": "Gradient boosting",
    "snaive": "Seasonal naive",
    "ets": "ETS",
    "theta": "Theta",
    "auto": "Auto (try all, keep the best)",
}
_COMBINATION = re.compile(r"^(mean|median)\((.+)\)$")


def model_label(name: str) -> str:
    """A readable name for a model or combination: 'mean(ets+gb)' -> 'Mean of ETS + Gradient…';
    a saved model whose series chose different models: 'Per series: ETS, Theta'."""
    choices = per_series(name)
    if len(choices) > 1:
        return "Per series: " + ", ".join(model_label(choice) for choice in choices)
    match = _COMBINATION.match(name)
    if match is None:
        return MODEL_LABELS.get(name, name)
    return f"{match.group(1).capitalize()} of {members(name)}"


# Up to this many members a combination is named by them all. Larger ones are the mean and
# the median of every model tried, which their kind and size tell apart.
NAMED_MEMBERS = 3


def short_model_label(name: str) -> str:
    """A model's name short enough for a tile or a presenter's table, still telling every
    model of a leaderboard apart: 'Mean of ETS + Theta', but 'Median of 6 models'."""
    choices = per_series(name)
    if len(choices) > 1:
        return f"{len(choices)} models, per series"
    match = _COMBINATION.match(name)
    if match is None:
        return MODEL_LABELS.get(name, name)
    size = len(match.group(2).split("+"))
    if size <= NAMED_MEMBERS:
        return model_label(name)
    return f"{match.group(1).capitalize()} of {size} models"


def per_series(name: str) -> list[str]:
    """The models a saved model's series chose, as its name joins them ('lr+mean(ets+theta)'):
    split on the '+' outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(name):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "+" and depth == 0:
            parts.append(name[start:i])
            start = i + 1
    return [*parts, name[start:]]


def members(name: str) -> str | None:
    """A combination's members by their readable names ('ETS + Theta'); None for one model."""
    match = _COMBINATION.match(name)
    if match is None:
        return None
    return " + ".join(MODEL_LABELS.get(m, m) for m in match.group(2).split("+"))
