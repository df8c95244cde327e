"""Results back: stored forecasts beside the actuals that have arrived, and their accuracy."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Query

from salesml import predictions
from salesml.api import schemas
from salesml.api.access import READ
from salesml.api.deps import ServicesDep

router = APIRouter(tags=["predictions"], dependencies=[READ])


@router.get("/predictions", response_model=list[schemas.StoredPrediction])
def stored(
    found: ServicesDep,
    model_id: Annotated[int | None, Query(ge=1, le=schemas.MAX_ID)] = None,
    run_id: Annotated[str | None, Query(max_length=36)] = None,
) -> list:
    """Stored forecasts (of one model or run), each with its period's actual once complete."""
    frame = predictions.forecasts_with_actuals(found.engine(), model_id=model_id, run_id=run_id)
    if frame.empty:
        return []
    frame = frame.rename(columns={"period_start": "period", "predicted_sales": "forecast"})
    frame["period"] = frame["period"].dt.date
    return [_plain(row) for row in frame.to_dict("records")]


@router.get("/predictions/runs", response_model=list[schemas.RunOut])
def runs(found: ServicesDep) -> list:
    """One row per stored forecast run: model, when, its periods and series."""
    frame = predictions.stored_runs(found.engine())
    return [_plain(row) for row in frame.to_dict("records")]


@router.get("/predictions/accuracy", response_model=list[schemas.AccuracyOut])
def accuracy(
    found: ServicesDep, model_id: Annotated[int | None, Query(ge=1, le=schemas.MAX_ID)] = None
) -> list:
    """Accuracy of the stored forecasts whose periods have actuals, per model and run."""
    frame = predictions.accuracy(found.engine(), model_id=model_id)
    return [_plain(row) for row in frame.to_dict("records")]


def _plain(row: dict) -> dict:
    """A record with NaN (no actual yet, no score) as null."""
    return {
        key: None if isinstance(value, float) and not math.isfinite(value) else value
        for key, value in row.items()
    }
