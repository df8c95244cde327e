"""Forecasts kept in prediction_results, and checked against actuals as they arrive."""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from salesml import audit, forecast_cache, metrics
from salesml.audit import Actor
from salesml.db import TITLE_LENGTH, PredictionResult, SavedModel
from salesml.errors import SchemaError
from salesml.frequencies import FREQUENCIES
from salesml.series import load_series
from salesml.zoo import model_label

BOUNDS = ("lower_80", "upper_80", "lower_95", "upper_95")
UNITS = "units"  # what a forecast of quantities counts
FORECAST_COLUMNS = ("series", "target_period", "predicted_sales", *BOUNDS, "model_used")


def forecast_table(predictions: pd.DataFrame) -> pd.DataFrame:
    """Turn Forecaster.predict output into the published forecast columns."""
    ds = predictions["ds"]
    if not pd.api.types.is_datetime64_any_dtype(ds):
        ds = pd.to_datetime(ds)
    days = ds.to_numpy(dtype="datetime64[D]")
    return pd.DataFrame(
        {
            "series": _text(predictions["unique_id"]),
            "target_period": np.datetime_as_string(days, unit="D").astype(object),
            "predicted_sales": predictions["yhat"].to_numpy(dtype=float).round(2),
            **{bound: predictions[bound].to_numpy(dtype=float).round(2) for bound in BOUNDS},
            "model_used": _text(predictions["model"]),
        }
    )


def value_column(target: str, currency: str = "") -> str:
    """The forecast's column in a CSV, named by target and unit: 'forecast_quantity_units',
    'forecast_revenue_EUR', or 'forecast_revenue_in_sales_currency' when none is set."""
    if target == "quantity":
        return "forecast_quantity_units"
    return f"forecast_{target}_{currency or 'in_sales_currency'}"


def model_currency(record: SavedModel, *, default: str, before: Callable[[], str]) -> str:
    """The currency of a model's forecasts: the one its sales stated when it was trained, else
    the default; "" for quantities. `before` tells it for a model saved before models kept it."""
    if record.target != "revenue":
        return ""
    stated = json.loads(record.metadata_json).get("currency")
    if stated is None:
        return before()
    return stated or default


def figure_unit(record: SavedModel, *, default: str, before: Callable[[], str]) -> str:
    """What a model's forecasts count: its currency for revenue (see model_currency; "" when
    none is known), UNITS for quantities."""
    if record.target == "quantity":
        return UNITS
    return model_currency(record, default=default, before=before)


def export_table(table: pd.DataFrame, *, target: str, currency: str = "") -> pd.DataFrame:
    """A forecast table as a CSV file shows it on its own: the value named by target and unit,
    the model by its readable name."""
    shown = table.rename(columns={"predicted_sales": value_column(target, currency)})
    shown["model_used"] = [model_label(str(name)) for name in table["model_used"]]
    return shown.rename(columns={"model_used": "model"})


def _text(values: pd.Series) -> np.ndarray:
    return np.array([str(value) for value in values.to_numpy()], dtype=object)


@dataclass(frozen=True)
class SavedRun:
    """A forecast stored as a run, and the rows of earlier runs it replaced, by run id."""

    run_id: str
    replaced: dict[str, int]


def store_forecast(engine: Engine, table: pd.DataFrame, record: SavedModel, **options: Any) -> str:
    """Store a forecast as a new run and return its id (save_forecast's options: by, label,
    scenario)."""
    return save_forecast(engine, table, record, **options).run_id


def save_forecast(
    engine: Engine,
    table: pd.DataFrame,
    record: SavedModel,
    *,
    by: Actor | None = None,
    label: str = "",
    scenario: str = "",
) -> SavedRun:
    """Store a forecast as a new run; say which earlier runs' rows it replaced.

    A period this model already forecast in the same scenario is replaced, not duplicated;
    a what-if (a named scenario) is kept beside the base forecast ("") and other what-ifs.
    """
    scenario = scenario_name(scenario)
    run_id = str(uuid.uuid4())
    today = dt.date.today()
    rows = [
        {
            "prediction_date": today,
            "target_period": row.target_period,
            "predicted_sales": row.predicted_sales,
            "model_used": row.model_used[:100],
            "model_id": record.id,
            "run_id": run_id,
            "scenario": scenario,
            "level": record.level,
            "series": row.series,
            "period_start": dt.date.fromisoformat(row.target_period),
            **{bound: getattr(row, bound) for bound in BOUNDS},
        }
        for row in table.itertuples(index=False)
    ]
    p = PredictionResult.__table__.c
    replaced: Counter[str] = Counter()
    with engine.begin() as conn:
        for series, group in table.groupby("series"):
            periods = [dt.date.fromisoformat(v) for v in group["target_period"]]
            same = sa.and_(
                p.model_id == record.id,
                p.scenario == scenario,
                p.series == series,
                p.period_start.in_(periods),
            )
            replaced.update(conn.execute(sa.select(p.run_id).where(same)).scalars())
            conn.execute(sa.delete(PredictionResult).where(same))
        if rows:
            conn.execute(sa.insert(PredictionResult), rows)
        detail = label or f"{table['series'].nunique()} series, {len(table)} values"
        if replaced:
            detail += f"; replaces {_runs_text(replaced)}"
        audit.record(
            conn,
            by,
            "save forecast",
            f"model {record.id}: run {run_id[:SHORT_RUN_ID]}",
            f"what-if {scenario}: {detail}" if scenario else detail,
        )
    return SavedRun(run_id, dict(replaced))


def _runs_text(replaced: Mapping[str, int]) -> str:
    return ", ".join(
        f"{count:,} rows of run {run[:SHORT_RUN_ID]}" for run, count in replaced.items() if run
    )


def replacement_note(saved: SavedRun) -> str:
    """'' for a run that replaced nothing, else ' It replaces 12 rows of run 1a2b3c4d for the
    same periods.'"""
    if not saved.replaced:
        return ""
    return f" It replaces {_runs_text(saved.replaced)} for the same periods."


def scenario_name(scenario: str) -> str:
    """A what-if's name as stored: stripped, at most 100 characters ("" is the base forecast)."""
    name = scenario.strip()
    if len(name) > TITLE_LENGTH:
        raise SchemaError(
            f"the what-if's name has {len(name)} characters; at most {TITLE_LENGTH} fit, shorten it"
        )
    return name


def _run_key() -> tuple[sa.Column, ...]:
    """The columns that name one stored forecast run of one model: run, model, scenario."""
    p = PredictionResult.__table__.c
    return p.run_id, p.model_id, p.scenario


def stored_forecasts(
    engine: Engine, *, model_id: int | None = None, run_id: str | None = None
) -> pd.DataFrame:
    """Stored forecasts with their model's level, frequency and target."""
    p, m = PredictionResult.__table__.c, SavedModel.__table__.c
    query = (
        sa.select(
            *_run_key(),
            p.model_used,
            p.prediction_date,
            p.series,
            p.period_start,
            p.predicted_sales,
            *[p[b] for b in BOUNDS],
            m.level,
            m.freq,
            m.target,
        )
        .join_from(PredictionResult, SavedModel, p.model_id == m.id)
        .order_by(p.model_id, p.scenario, p.series, p.period_start)
    )
    if model_id is not None:
        query = query.where(p.model_id == model_id)
    if run_id is not None:
        query = query.where(p.run_id == run_id)
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).mappings().all())
    if frame.empty:
        return frame
    frame["period_start"] = pd.to_datetime(frame["period_start"].astype(str))
    for column in ("predicted_sales", *BOUNDS):
        frame[column] = frame[column].astype(float)
    return frame


RUN_COLUMNS = (
    "run_id",
    "model_id",
    "scenario",
    "model",
    "prediction_date",
    "first_period",
    "last_period",
    "periods",
    "series",
)


def stored_runs(engine: Engine) -> pd.DataFrame:
    """One row per stored forecast run and model: its scenario ("" for the base forecast),
    when it was made, its periods and series."""
    p, m = PredictionResult.__table__.c, SavedModel.__table__.c
    query = (
        sa.select(
            *_run_key(),
            m.name.label("model"),
            sa.func.min(p.prediction_date).label("prediction_date"),
            sa.func.min(p.period_start).label("first_period"),
            sa.func.max(p.period_start).label("last_period"),
            sa.func.count(sa.distinct(p.period_start)).label("periods"),
            sa.func.count(sa.distinct(p.series)).label("series"),
        )
        .join_from(PredictionResult, SavedModel, p.model_id == m.id)
        .group_by(p.run_id, p.model_id, p.scenario, m.name)
        .order_by(sa.func.max(p.prediction_id).desc())
    )
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).all(), columns=list(RUN_COLUMNS))
    for column in ("prediction_date", "first_period", "last_period"):
        frame[column] = pd.to_datetime(frame[column].astype(str)).dt.date
    return frame


def forecasts_with_actuals(
    engine: Engine, *, model_id: int | None = None, run_id: str | None = None
) -> pd.DataFrame:
    """Each stored forecast beside the actual value of its period, where the period is complete."""
    stored = stored_forecasts(engine, model_id=model_id, run_id=run_id)
    if stored.empty:
        return stored.assign(actual=pd.Series(dtype=float))
    parts = []
    for (level, freq, target), group in stored.groupby(["level", "freq", "target"]):
        actual = load_series(
            engine,
            level=level,
            freq=freq,
            target=target,
            start=group["period_start"].min().date(),
        ).frame.rename(columns={"unique_id": "series", "ds": "period_start", "y": "actual"})
        parts.append(
            group.merge(
                actual[["series", "period_start", "actual"]],
                on=["series", "period_start"],
                how="left",
            )
        )
    return pd.concat(parts, ignore_index=True)


def accuracy(engine: Engine, *, model_id: int | None = None) -> pd.DataFrame:
    """Accuracy of stored forecasts against actuals, per model and run (a what-if run too)."""
    joined = forecasts_with_actuals(engine, model_id=model_id)
    if joined.empty or joined["actual"].notna().sum() == 0:
        return pd.DataFrame(
            columns=[
                "model_id",
                "run_id",
                "scenario",
                "model_used",
                "periods",
                "mae",
                "smape",
                "bias",
                "coverage_80",
                "coverage_95",
            ]
        )
    known = joined[joined["actual"].notna()]
    rows = []
    for (model_id, run_id, scenario, used), group in known.groupby(
        ["model_id", "run_id", "scenario", "model_used"], sort=True
    ):
        measured = metrics.score(group, "predicted_sales", target="actual")
        rows.append(
            {
                "model_id": model_id,
                "run_id": run_id,
                "scenario": scenario,
                "model_used": used,
                "periods": len(group),
                "mae": measured["mae"],
                "smape": measured["smape"],
                "bias": measured["bias"],
                "coverage_80": metrics.coverage(group, 80, target="actual"),
                "coverage_95": metrics.coverage(group, 95, target="actual"),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- runs as shown

# A run id's first 8 characters tell runs apart; more are shown only where two share them.
SHORT_RUN_ID = 8
BASE_FORECAST = "Base forecast"


def short_run_ids(run_ids: Iterable[str]) -> dict[str, str]:
    """Each run id by its shortest prefix, of 8 characters or more, that no other id shares."""
    ordered = sorted(set(run_ids))
    # In sorted order an id shares the most characters with a neighbour.
    shared = [0] * len(ordered)
    for i in range(1, len(ordered)):
        common = _common_length(ordered[i - 1], ordered[i])
        shared[i - 1] = max(shared[i - 1], common)
        shared[i] = max(shared[i], common)
    return {
        run_id: run_id[: max(SHORT_RUN_ID, common + 1)]
        for run_id, common in zip(ordered, shared, strict=True)
    }


def _common_length(first: str, second: str) -> int:
    """How many leading characters two strings share."""
    return next(
        (i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b),
        min(len(first), len(second)),
    )


def run_kind(scenario: str) -> str:
    """'Base forecast', or 'What-if: <name>' for a run saved as a named scenario."""
    return f"What-if: {scenario}" if scenario else BASE_FORECAST


def shown_figure(value: float) -> float:
    """A score as people read it: whole from 100 up, one decimal from 1, two below."""
    if not math.isfinite(value):
        return value
    size = abs(value)
    return round(value, 0 if size >= 100 else 1 if size >= 1 else 2) + 0.0  # no -0.0


def model_names(records: Iterable[SavedModel]) -> dict[int, str]:
    """Each saved model's id to the name it is shown by: '#3 Board pack 2026'."""
    from salesml.registry import display_name

    return {record.id: f"#{record.id} {display_name(record)}" for record in records}


def _named_runs(
    frame: pd.DataFrame, names: Mapping[int, str], short: Mapping[str, str], *, code: str
) -> dict[str, pd.Series | list[str]]:
    """The run, model and kind columns of a frame with run_id, model_id, scenario and `code`."""
    # A run read just before its model was listed still gets a readable name.
    models = [
        names.get(model_id) or f"#{model_id} {model_label(name)}"
        for model_id, name in zip(frame["model_id"], frame[code], strict=True)
    ]
    return {
        "run_id": frame["run_id"].map(lambda run_id: short.get(run_id, run_id[:SHORT_RUN_ID])),
        "model": models,
        "kind": frame["scenario"].map(run_kind),
    }


def runs_table(
    runs: pd.DataFrame, names: Mapping[int, str], short: Mapping[str, str]
) -> pd.DataFrame:
    """stored_runs as listed: short run id, model by name, kind of run, dates and counts."""
    return pd.DataFrame(
        {
            **_named_runs(runs, names, short, code="model"),
            **{c: runs[c] for c in ("prediction_date", "first_period", "last_period")},
            **{c: runs[c] for c in ("periods", "series")},
        }
    )


def accuracy_table(
    scores: pd.DataFrame,
    names: Mapping[int, str],
    short: Mapping[str, str],
    *,
    units: Mapping[int, str] | None = None,
) -> pd.DataFrame:
    """accuracy as listed: the run as in runs_table, what forecast it, rounded scores in %,
    and the unit of its MAE and bias (`units`: each model id's figure_unit)."""
    coverage = ("coverage_80", "coverage_95")
    units = units or {}
    return pd.DataFrame(
        {
            **_named_runs(scores, names, short, code="model_used"),
            "model_used": scores["model_used"].map(model_label),
            "periods": scores["periods"],
            "mae": scores["mae"].map(shown_figure),
            "smape": scores["smape"].astype(float).round(1),
            "bias": scores["bias"].map(shown_figure),
            **{c: (100 * scores[c].astype(float)).round(0) for c in coverage},
            "unit": [units.get(model_id, "") for model_id in scores["model_id"]],
        }
    )


def shared_currency(table: pd.DataFrame) -> str | None:
    """The currency of every row's MAE and bias in an accuracy_table ("" for quantities, or
    when none is known); None when the rows' units differ, so each row names its own."""
    units = set(table["unit"])
    if len(units) > 1:
        return None
    unit = next(iter(units), "")
    return "" if unit == UNITS else unit


def run_labels(
    runs: pd.DataFrame, names: Mapping[int, str], short: Mapping[str, str]
) -> dict[str, str]:
    """Each run id to one line: '<short id> · <model> · <kind> · saved <date>'."""
    listed = runs_table(runs, names, short)
    return {
        run_id: f"{row.run_id} · {row.model} · {row.kind} · saved {row.prediction_date}"
        for run_id, row in zip(runs["run_id"], listed.itertuples(index=False), strict=True)
    }


def longest_horizon(record: SavedModel) -> int:
    """The furthest a saved model forecasts: 36 periods, or three times its trained horizon."""
    return longest_for(record.horizon)


def longest_for(trained: int) -> int:
    """The furthest a model trained for `trained` periods forecasts (see longest_horizon)."""
    return max(36, 3 * int(trained))


def furthest_period(record: SavedModel) -> pd.Timestamp:
    """The start of the last period a saved model forecasts at its longest horizon."""
    step = FREQUENCIES[record.freq].offset
    return pd.Timestamp(record.data_end) + longest_horizon(record) * step


def check_horizon(horizon: int, record: SavedModel) -> None:
    """Raise SchemaError unless 1 <= horizon <= the model's longest horizon."""
    longest = longest_horizon(record)
    if not 1 <= horizon <= longest:
        raise SchemaError(
            f"the horizon must be between 1 and {longest} periods for model {record.id} "
            f"(trained for {record.horizon}), not {horizon}"
        )


# Forecast points a request may ask for and still count as quick (about a millisecond).
QUICK_POINTS = 2_000


def is_quick(model, record: SavedModel, horizon: int, ids: list[str] | None = None) -> bool:
    """True when a loaded model answers from a forecast computed already, and briefly: the
    ones it cached when fitted, or one forecast_frame kept."""
    series = len(ids) if ids is not None else record.series_count
    if horizon < 1 or series * horizon > QUICK_POINTS:
        return False
    through = _sliced_from(model, horizon)
    if through is None:
        return False
    return through == model.cache_horizon_ or forecast_cache.holds(model, ids, through=through)


def forecast_frame(model, horizon: int, ids: list[str] | None = None) -> pd.DataFrame:
    """Forecast from a loaded model, without retraining, as the published table.

    Up to its longest horizon, the table is a slice of one forecast computed once, to the
    horizon the model cached when fitted or past it to the longest (salesml.forecast_cache).
    """
    if horizon < 1:
        raise SchemaError(f"the horizon must be at least 1 period, not {horizon}")
    through = _sliced_from(model, horizon)
    series = len(ids) if ids is not None else len(getattr(model, "ids_", ()))
    if through is None or series * through > forecast_cache.KEPT_POINTS:
        # Too many to keep (or not a fitted Forecaster): forecast no further than asked.
        return forecast_table(model.predict(horizon=horizon, ids=ids))
    return forecast_cache.sliced(
        model,
        horizon,
        ids,
        through=through,
        compute=lambda h: forecast_table(model.predict(horizon=h, ids=ids)),
    )


def _sliced_from(model, horizon: int) -> int | None:
    """The horizon whose forecast a forecast to `horizon` is the first steps of: the one the
    model cached when fitted, or else its longest; None past that."""
    cached = getattr(model, "cache_horizon_", None)
    if cached is None:
        return None
    if horizon <= cached:
        return cached
    longest = longest_for(model.horizon)
    return longest if horizon <= longest else None
