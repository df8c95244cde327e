"""What a training's comparison shows, kept apart from the fitted models so that it can be
stored as JSON and drawn again by any server: built from a training's result, bounded in
size, written and read back.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from salesml.training import TrainResult

# A run stores the backtest lines of as many series as fit in this many values (one series
# at least): a 5,000-product training is reopened with its first series, not megabytes.
MAX_STORED_VALUES = 100_000


@dataclass
class Comparison:
    """What a training's comparison shows: enough to draw it again without the fitted models."""

    leaderboard: pd.DataFrame  # model, the scores, fit_seconds, coverage_*, chosen
    chosen: str  # the chosen model's or combination's code name: 'mean(ets+theta)'
    candidates: tuple[str, ...]
    backtest: pd.DataFrame  # unique_id, ds, cutoff, y and a column per model
    history: pd.DataFrame  # unique_id, ds, y of the series the backtest holds
    level: str
    freq: str
    target: str
    series_count: int
    data_start: pd.Timestamp
    data_end: pd.Timestamp
    periods: int
    seconds: float
    rival: str | None = None
    currency: str = ""  # of a revenue series, when stated or set
    notes: list[str] = field(default_factory=list)
    importances: dict[str, dict[str, float]] = field(default_factory=dict)


def of(result: TrainResult) -> Comparison:
    """The comparison of a training that just ran (its tables shared, not copied)."""
    forecaster, frame = result.forecaster, result.series.frame
    return Comparison(
        leaderboard=forecaster.leaderboard_,
        chosen=forecaster.combination_.name,
        candidates=tuple(forecaster.candidates_),
        backtest=forecaster.backtest_,
        history=frame[["unique_id", "ds", "y"]],
        level=result.series.level,
        freq=result.series.freq,
        target=result.series.target,
        series_count=len(result.series.ids),
        data_start=frame["ds"].min(),
        data_end=frame["ds"].max(),
        periods=int(frame["ds"].nunique()),
        seconds=result.seconds,
        rival=getattr(forecaster, "choice_rival_", None),
        currency=result.currency,
        notes=result.notes,
        importances=forecaster.feature_importances(),
    )


def bounded(comparison: Comparison, *, max_values: int = MAX_STORED_VALUES) -> Comparison:
    """The comparison with the backtest lines of its first series only, within max_values."""
    backtest = comparison.backtest
    if backtest.empty:
        return comparison
    ids = backtest["unique_id"].astype(str)
    sizes = ids.value_counts().sort_index() * backtest.shape[1]
    kept = sizes.index[(sizes.cumsum() <= max_values) | (sizes.index == sizes.index[0])]
    if len(kept) == len(sizes):
        return comparison
    history_ids = comparison.history["unique_id"].astype(str)
    return dataclasses.replace(
        comparison,
        backtest=backtest[ids.isin(kept)].reset_index(drop=True),
        history=comparison.history[history_ids.isin(kept)].reset_index(drop=True),
    )


# --------------------------------------------------------------------------- as JSON

_FRAMES = ("leaderboard", "backtest", "history")
_STAMPS = ("data_start", "data_end")
_DATES = ("ds", "cutoff")


def to_json(comparison: Comparison) -> str:
    """The comparison as one JSON document (tables as columns and rows; floats exact)."""
    document = {}
    for item in dataclasses.fields(comparison):
        value = getattr(comparison, item.name)
        if item.name in _FRAMES:
            value = _table(value)
        elif item.name in _STAMPS:
            value = pd.Timestamp(value).isoformat()
        document[item.name] = value
    return json.dumps(document, default=str)


def _table(frame: pd.DataFrame) -> dict:
    frame = frame.reset_index(drop=True)
    if "unique_id" in frame:
        frame = frame.assign(unique_id=frame["unique_id"].astype(str))
    for column in _DATES:
        if column in frame:
            frame = frame.assign(**{column: frame[column].dt.strftime("%Y-%m-%d")})
    split = frame.to_dict(orient="split", index=False)  # Python's own numbers and booleans
    return {"columns": split["columns"], "data": split["data"]}


def known_fields(kind: type, document: object) -> dict:
    # A run kept by an older or newer version has fields this one lacks or does not know:
    # the unknown are left out, the missing take their defaults (a required one raises).
    if not isinstance(document, dict):
        raise TypeError(f"a {kind.__name__} is stored as a JSON object")
    names = {item.name for item in dataclasses.fields(kind)}
    return {name: value for name, value in document.items() if name in names}


def from_json(text: str) -> Comparison:
    """A comparison read back from to_json's document."""
    document = known_fields(Comparison, json.loads(text))
    for name in _FRAMES:
        stored = document[name]
        frame = pd.DataFrame(stored["data"], columns=stored["columns"])
        for column in frame.columns:
            if column in _DATES:
                frame[column] = pd.to_datetime(frame[column])
            elif column == "chosen":
                frame[column] = frame[column].astype(bool)
            elif column not in ("unique_id", "model"):
                frame[column] = frame[column].astype(float)
        document[name] = frame
    for name in _STAMPS:
        document[name] = pd.Timestamp(document[name])
    document["candidates"] = tuple(document["candidates"])
    return Comparison(**document)
