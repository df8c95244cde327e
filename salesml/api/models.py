"""Forecasts out: training jobs, saved models, and forecasts from the cached models."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from salesml import analytics, predictions, registry, scenarios, training
from salesml.api import schemas
from salesml.api.access import READ, actor
from salesml.api.deps import ServicesDep, UserMayDelete, UserMayForecast, UserMayTrain
from salesml.api.schemas import ModelId
from salesml.api.services import Services
from salesml.auth import Principal
from salesml.db import SavedModel
from salesml.errors import SchemaError
from salesml.jobs import in_subprocess

router = APIRouter(tags=["models"])


@router.post("/models", status_code=202, response_model=schemas.JobAccepted)
def train_model(
    request: Request, found: ServicesDep, body: schemas.TrainIn, user: UserMayTrain
) -> JSONResponse:
    """Queue a training (backtest, choose, fit, save); follow it at GET /jobs/{job_id}."""
    train_request = body.request()
    job = found.jobs.submit(_task(found, train_request, user), body.model_dump(mode="json"))
    location = f"{request.scope.get('root_path', '')}/jobs/{job.id}"
    return JSONResponse(
        {"job_id": job.id, "status": job.status, "location": location},
        status_code=202,
        headers={"Location": location},
    )


def _task(found: Services, train_request: training.TrainRequest, user: Principal):
    settings = found.settings
    # The same command line users run; the database URL travels in the environment, not
    # in an argument list any local user can read.
    train = in_subprocess(
        training.command(train_request),
        result=training.model_id_from,
        env={
            "SALESML_DATABASE_URL": settings.database_url,
            "SALESML_MODEL_DIR": str(settings.model_dir),
            "SALESML_DATA_DIR": str(settings.data_dir),
            # Batches loaded without a currency count in this one, as the API shows them.
            "SALESML_CURRENCY": settings.currency,
            # The audit log names the user who asked, not the server's OS user.
            "SALESML_ACTOR": user.name,
            "SALESML_ACTOR_VIA": "api",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        },
    )

    def run(progress) -> int:
        model_id = train(progress)
        found.changed()
        return model_id

    return run


@router.get("/jobs", response_model=list[schemas.JobOut], dependencies=[READ])
def list_jobs(found: ServicesDep) -> list:
    """The training jobs this server has run or queued since it started, newest first."""
    return [job.__dict__ for job in found.jobs.list()]


@router.get("/jobs/{job_id}", response_model=schemas.JobOut, dependencies=[READ])
def get_job(found: ServicesDep, job_id: str) -> dict:
    """A training job: queued, running (with progress), done (with model_id) or failed."""
    return found.jobs.get(job_id).__dict__


@router.get("/models", response_model=list[schemas.ModelOut], dependencies=[READ])
def list_models(found: ServicesDep) -> list:
    """Saved models, newest first."""
    return [_model_out(record) for record in registry.list_models(found.engine())]


@router.get("/models/{model_id}", response_model=schemas.ModelDetail, dependencies=[READ])
def get_model(found: ServicesDep, model_id: ModelId) -> dict:
    """A saved model with its leaderboard, notes and the series it forecasts."""
    record = registry.get_model_record(found.engine(), model_id)
    meta = json.loads(record.metadata_json)
    try:
        series = [str(uid) for uid in found.load_model(model_id)[0].ids_]
    except Exception:  # listed even when its file cannot be used; forecasting says why
        series = None
    return {
        **_model_out(record),
        "series": series,
        "leaderboard": meta.get("leaderboard", []),
        "notes": meta.get("notes", []),
        "features": meta.get("features", []),
        "windows": meta.get("windows"),
        "filters": meta.get("filters", {}),
        "train_seconds": meta.get("train_seconds"),
    }


@router.delete("/models/{model_id}", status_code=204)
def delete_model(found: ServicesDep, model_id: ModelId, user: UserMayDelete) -> Response:
    """Delete a saved model, its file and its stored forecasts."""
    registry.delete_model(
        found.engine(), model_id, model_dir=found.settings.model_dir, by=actor(user)
    )
    found.forget_models()
    found.changed()
    return Response(status_code=204)


@router.post("/models/{model_id}/forecast", response_model=schemas.ForecastOut)
async def forecast(
    found: ServicesDep, model_id: ModelId, body: schemas.ForecastIn, user: UserMayForecast
) -> Response:
    """Forecast from the saved model (loaded once, never retrained), optionally stored
    (`save` needs the analyst role)."""
    if body.save:
        user.require("save")
    if body.uplift and not body.promotion_periods:
        raise SchemaError("uplift applies to promotion_periods; name at least one period")
    loaded = found.loaded(model_id)
    # A loaded model answering a few series from its cached forecasts takes a millisecond or
    # two: done here, without a trip through the thread pool. Loading a file, running a model
    # past its cached horizon, many series or writing to the database go to a worker thread.
    if loaded is None or body.save or not predictions.is_quick(*loaded, body.horizon, body.series):
        return await run_in_threadpool(_forecast, found, model_id, body, None, user)
    return _forecast(found, model_id, body, loaded)


POINT_KEYS = ("series", "period", "forecast", "lower_80", "upper_80", "lower_95", "upper_95")
POINT_COLUMNS = ("series", "target_period", "predicted_sales", *predictions.BOUNDS)


def _forecast(
    found: Services,
    model_id: int,
    body: schemas.ForecastIn,
    loaded=None,
    user: Principal | None = None,
) -> Response:
    model, record = loaded or found.load_model(model_id)
    predictions.check_horizon(body.horizon, record)
    table = predictions.forecast_frame(model, body.horizon, ids=body.series)
    if body.growth or body.uplift:
        table = scenarios.adjust(
            table,
            growth_pct=body.growth,
            uplift_pct=body.uplift,
            periods=body.promotion_periods,
        )
    run_id = None
    if body.save:
        by = actor(user) if user else None
        run_id = predictions.store_forecast(found.engine(), table, record, by=by)
    if body.save:
        found.changed()
    columns = [table[column].tolist() for column in POINT_COLUMNS]
    default = found.settings.currency
    currency = predictions.model_currency(
        record,
        default=default,
        before=lambda: analytics.database_currency(found.engine(), default=default),
    )
    # Built as plain JSON: the values are the table's own (ISO dates, finite numbers).
    return JSONResponse(
        {
            "model_id": record.id,
            "model": record.name,
            "run_id": run_id,
            "horizon": body.horizon,
            "currency": currency,
            "points": [
                dict(zip(POINT_KEYS, row, strict=True)) for row in zip(*columns, strict=True)
            ],
        }
    )


def _model_out(record: SavedModel) -> dict:
    return {
        "id": record.id,
        "name": record.name,
        "title": record.title,
        "display_name": registry.display_name(record),
        "created_at": record.created_at,
        "level": record.level,
        "freq": record.freq,
        "target": record.target,
        "horizon": record.horizon,
        "longest_horizon": predictions.longest_horizon(record),
        "series_count": record.series_count,
        "data_start": record.data_start,
        "data_end": record.data_end,
    }
