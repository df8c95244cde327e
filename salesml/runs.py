"""Training runs kept in the database: each comparison, saved or not, reopened by its id.

A run keeps what its comparison shows (request, leaderboard, chosen model, notes, and the
backtest lines of its first series), never the fitted models: any server on the same
database can draw it again, after a restart too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from salesml import db
from salesml.audit import Actor
from salesml.errors import RunNotFoundError, RunUnreadableError, SchemaError
from salesml.training import TrainRequest

if TYPE_CHECKING:
    from salesml.training import TrainResult

# A run stores the backtest lines of as many series as fit in this many values (one series
# at least): a 5,000-product training is reopened with its first series, not megabytes.
MAX_STORED_VALUES = 100_000
# Run ids in an address are digits; anything longer than this is not one of ours.
MAX_ID_DIGITS = 18
# Runs whose model was not saved are kept this many, the newest; each holds up to a couple
# of megabytes, and one is kept per press of Train. A run whose model was saved is kept.
KEPT_UNSAVED_RUNS = 200


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


def _known_fields(kind: type, document: object) -> dict:
    # A run kept by an older or newer version has fields this one lacks or does not know:
    # the unknown are left out, the missing take their defaults (a required one raises).
    if not isinstance(document, dict):
        raise TypeError(f"a {kind.__name__} is stored as a JSON object")
    names = {item.name for item in dataclasses.fields(kind)}
    return {name: value for name, value in document.items() if name in names}


def from_json(text: str) -> Comparison:
    """A comparison read back from to_json's document."""
    document = _known_fields(Comparison, json.loads(text))
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


# --------------------------------------------------------------------------- in the database


@dataclass(frozen=True)
class Run:
    """A kept training run: its id, when and by whom, what was asked and what it showed."""

    id: int
    created_at: dt.datetime
    created_by: str
    request: TrainRequest
    comparison: Comparison
    model_id: int | None


def save_run(
    engine: Engine, comparison: Comparison, request: TrainRequest, *, by: Actor | None = None
) -> int:
    """Keep a training's comparison as a run; returns its id."""
    row = {
        "created_at": dt.datetime.now().replace(microsecond=0),
        "created_by": str(by)[: db.RUN_BY_LENGTH] if by is not None else "",
        "request_json": json.dumps(dataclasses.asdict(request), default=str),
        "comparison_json": to_json(bounded(comparison)),
    }
    with engine.begin() as conn:
        run_id = int(conn.execute(sa.insert(db.TrainingRun).values(**row)).inserted_primary_key[0])
        _forget_old_unsaved_runs(conn)
    return run_id


def _forget_old_unsaved_runs(conn: sa.Connection) -> None:
    runs = db.TrainingRun.__table__
    unsaved = runs.c.model_id.is_(None)
    # Two statements: MySQL refuses a DELETE whose subquery reads the same table.
    oldest_kept = conn.execute(
        sa.select(runs.c.id)
        .where(unsaved)
        .order_by(runs.c.id.desc())
        .offset(KEPT_UNSAVED_RUNS - 1)
        .limit(1)
    ).scalar()
    if oldest_kept is not None:
        conn.execute(sa.delete(runs).where(unsaved, runs.c.id < oldest_kept))


def attach_model(engine: Engine, run_id: int, model_id: int) -> None:
    """Record that a run's chosen model was saved as this model."""
    runs = db.TrainingRun.__table__
    with engine.begin() as conn:
        conn.execute(sa.update(runs).where(runs.c.id == run_id).values(model_id=model_id))


def parse_id(text: object) -> int:
    """A run id from an address: digits only, or SchemaError naming what was given."""
    value = str(text).strip()
    if not value.isascii() or not value.isdigit() or len(value) > MAX_ID_DIGITS:
        shown = value[:20] + ("…" if len(value) > 20 else "")
        raise SchemaError(f"{shown!r} is not a training run's id: an id is a number such as 12")
    return int(value)


def load_run(engine: Engine, run_id: int) -> Run:
    """A kept run by its id, or RunNotFoundError."""
    runs = db.TrainingRun.__table__
    with engine.connect() as conn:
        row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).mappings().first()
    if row is None:
        raise RunNotFoundError(
            f"training run {run_id} was not found: train again to compare the models"
        )
    try:
        request = _request(json.loads(row["request_json"]))
        comparison = from_json(row["comparison_json"])
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise RunUnreadableError(
            f"training run {run_id} cannot be read (kept by another version of salesml, or "
            "damaged): train again to compare the models"
        ) from exc
    return Run(
        id=row["id"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        request=request,
        comparison=comparison,
        model_id=row["model_id"],
    )


def _request(stored: object) -> TrainRequest:
    stored = _known_fields(TrainRequest, stored)
    for name in ("models", "categories", "products"):
        if name in stored:
            stored[name] = tuple(stored[name] or ())
    for name in ("start", "end"):
        if stored.get(name):
            stored[name] = dt.date.fromisoformat(str(stored[name])[:10])
    return TrainRequest(**stored)
