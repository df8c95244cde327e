"""Training runs kept in the database: each comparison, saved or not, reopened by its id.

A run keeps what its comparison shows (request, leaderboard, chosen model, notes, and the
backtest lines of its first series), never the fitted models: any server on the same
database can draw it again, after a restart too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from salesml import db
from salesml.audit import Actor
from salesml.comparisons import Comparison, bounded, from_json, known_fields, to_json
from salesml.errors import RunNotFoundError, RunUnreadableError, SchemaError
from salesml.training import TrainRequest

# Run ids in an address are digits; anything longer than this is not one of ours.
MAX_ID_DIGITS = 18
# Runs whose model was not saved are kept this many, the newest; each holds up to a couple
# of megabytes, and one is kept per press of Train. A run whose model was saved is kept.
KEPT_UNSAVED_RUNS = 200


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
    stored = known_fields(TrainRequest, stored)
    for name in ("models", "categories", "products"):
        if name in stored:
            stored[name] = tuple(stored[name] or ())
    for name in ("start", "end"):
        if stored.get(name):
            stored[name] = dt.date.fromisoformat(str(stored[name])[:10])
    return TrainRequest(**stored)
