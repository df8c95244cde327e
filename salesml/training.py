"""Train a model on series from the database, with its backtest, and save it."""

from __future__ import annotations

import json
import operator
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from salesml.errors import SchemaError
from salesml.zoo import model_label

# Imported where they are used: the command line's parser reads the request's limits from
# here, and `python -m salesml --help` starts without pandas, SQLAlchemy or the models.
if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Engine

    from salesml.audit import Actor
    from salesml.comparisons import Comparison
    from salesml.db import SavedModel
    from salesml.forecasting import Forecaster
    from salesml.series import SeriesSet


# The limits of a training request: the API's schema, the command line and the Train page
# all take theirs from here. 520 periods ahead is ten years of weeks, or a year and a half
# of days; each backtest window is another fit; a random state is a signed 32-bit integer.
HORIZON_MIN, HORIZON_MAX = 1, 520
WINDOWS_MIN, WINDOWS_MAX = 1, 10
RANDOM_STATE_MIN, RANDOM_STATE_MAX = 0, 2**31 - 1
LIMITS = {
    "horizon": ("the horizon", HORIZON_MIN, HORIZON_MAX),
    "windows": ("the number of backtest windows", WINDOWS_MIN, WINDOWS_MAX),
    "random_state": ("the random state", RANDOM_STATE_MIN, RANDOM_STATE_MAX),
}


@dataclass(frozen=True)
class TrainRequest:
    """What to train: series level, frequency, target, horizon, models and filters.

    Refuses (SchemaError, naming the field as its `setting`) a number beyond LIMITS and a
    first sales date after the last."""

    level: str = "total"
    freq: str = "M"
    target: str = "revenue"
    horizon: int = 12
    models: Sequence[str] = ("auto",)
    windows: int = 3
    random_state: int = 0
    start: object = None
    end: object = None
    categories: Sequence[str] = field(default_factory=tuple)
    products: Sequence[str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for name, (what, low, high) in LIMITS.items():
            value = getattr(self, name)
            if not _whole_number(value) or not low <= value <= high:
                shown = f"{value:,}" if _whole_number(value) else repr(value)
                raise SchemaError(
                    f"{what} must be a whole number from {low:,} to {high:,}, not {shown}",
                    setting=name,
                )
        if self.start and self.end and self.start > self.end:
            raise SchemaError(
                f"the first sales date to use, {self.start}, is after the last, {self.end}",
                setting="start",
            )


def _whole_number(value: object) -> bool:
    """An int (numpy's too), not a bool."""
    try:
        operator.index(value)
    except TypeError:
        return False
    return not isinstance(value, bool)


# Where the Train page starts. Six months ahead: three backtest windows of six months fit in
# four years of monthly history (the models need 25 months before the first cutoff), so the
# coverage of the ranges is measured; a year ahead would leave one window.
FORM_HORIZON = 6
# Up to this many products the page starts per product: enough series to calibrate the 95%
# ranges (19 errors per step), few enough to train in seconds.
QUICK_PRODUCTS = 50


def default_level(products: int, categories: int) -> str:
    """The level the Train page starts at: per product for a small catalogue, else per
    category, or the total when there is one category."""
    if 1 < products <= QUICK_PRODUCTS:
        return "product"
    return "category" if categories > 1 else "total"


def describe(request: TrainRequest) -> str:
    """A training request in a few words, as the audit log names it."""
    return (
        f"{request.level} · {request.freq} · {request.target} · horizon {request.horizon}"
        f" · {', '.join(request.models)}"
    )


@dataclass
class TrainResult:
    """A trained forecaster, the series it saw, and the saved record when it was saved."""

    forecaster: Forecaster
    series: SeriesSet
    seconds: float
    record: SavedModel | None = None
    currency: str = ""  # of a revenue series, when stated or set

    @property
    def comparison(self) -> Comparison:
        """What the comparison shows, built once (the forecaster's tables shared)."""
        if "_comparison" not in self.__dict__:
            from salesml import comparisons

            self.__dict__["_comparison"] = comparisons.of(self)
        return self.__dict__["_comparison"]

    @property
    def notes(self) -> list[str]:
        """What the user should know: dropped periods, fallbacks, ranges too few errors set."""
        notes = list(self.series.notes)
        fallback = getattr(self.forecaster, "fallback_", {}) or {}
        kinds = Counter(reason.split(":")[0] for reason in fallback.values())
        for kind, count in kinds.most_common():
            example = next(uid for uid, why in fallback.items() if why.split(":")[0] == kind)
            detail = fallback[example].partition(":")[2].strip()
            shown = f"{example}: {detail}" if detail else example
            notes.append(f"{count:,} series: {kind} (e.g. {shown})")
        choice = getattr(self.forecaster, "choice_note_", None)
        rival = getattr(self.forecaster, "choice_rival_", None)
        if choice and rival and choice.startswith(rival):
            # The forecaster names the rival by its code ('lr'); the user reads its name.
            choice = model_label(rival) + choice[len(rival) :]
        if choice:
            notes.append(choice)
        notes.extend(getattr(self.forecaster, "interval_notes_", []))
        return notes


def _one_currency(engine: Engine, default: str) -> str:
    """The one currency of a revenue series ("" when none is stated or set); refuses one that
    would add up amounts of different currencies: the currencies as the pages show them, a
    batch without one counted in the default."""
    from salesml import currency
    from salesml.analytics import currencies

    found = currencies(engine, default=default)
    if len(found) > 1:
        names = ", ".join(currency.label(unit) for unit in found)
        raise SchemaError(
            f"the sales are in {len(found)} currencies ({names}), which one revenue series "
            "cannot add up; forecast quantity, or keep one currency per database",
            setting="target",
        )
    return next(iter(found), default)


def train(
    engine: Engine,
    request: TrainRequest,
    *,
    progress: Callable[[str], None] | None = None,
    default_currency: str = "",
) -> TrainResult:
    """Build the series in the database, backtest the models and fit the chosen one.

    `default_currency` is the currency of batches loaded without one (SALESML_CURRENCY)."""
    from salesml.series import load_series

    unit = _one_currency(engine, default_currency) if request.target == "revenue" else ""
    series = load_series(
        engine,
        level=request.level,
        freq=request.freq,
        target=request.target,
        start=request.start,
        end=request.end,
        categories=request.categories or None,
        products=request.products or None,
    )
    if series.frame.empty:
        raise SchemaError(
            "there are no sales to train on (is the database empty, or do the "
            "filters select nothing?)"
        )
    if progress:
        progress(f"{len(series.ids):,} series, {len(series.frame):,} periods; backtesting")
    from salesml.forecasting import Forecaster

    forecaster = Forecaster(
        freq=request.freq,
        horizon=request.horizon,
        models=tuple(request.models),
        windows=request.windows,
        random_state=request.random_state,
    )
    started = time.perf_counter()
    forecaster.fit(series.frame)
    return TrainResult(forecaster, series, time.perf_counter() - started, currency=unit)


def save(
    engine: Engine,
    result: TrainResult,
    request: TrainRequest,
    *,
    model_dir: Path,
    by: Actor | None = None,
    action: str = "save model",
) -> SavedModel:
    """Save a trained forecaster with its metadata and a models row (and its audit entry,
    `action`, in the same transaction)."""
    from salesml import registry

    frame = result.series.frame
    spec = registry.ModelSpec(
        name=_model_name(result.forecaster),
        level=request.level,
        freq=request.freq,
        target=request.target,
        horizon=request.horizon,
        series_count=len(result.series.ids),
        data_start=frame["ds"].min().date(),
        data_end=frame["ds"].max().date(),
    )
    details = {
        "models": list(request.models),
        "windows": request.windows,
        "filters": {
            "start": request.start,
            "end": request.end,
            "categories": list(request.categories),
            "products": list(request.products),
        },
        "features": getattr(result.forecaster, "features_", []),
        "leaderboard": _records(getattr(result.forecaster, "leaderboard_", None)),
        "fallback": getattr(result.forecaster, "fallback_", {}),
        "notes": result.notes,
        "train_seconds": round(result.seconds, 3),
    }
    if request.target == "revenue":
        from salesml.analytics import database_currency

        # The currency the batches state ("" for none): forecasts keep it whatever loads next.
        details["currency"] = database_currency(engine)
    result.record = registry.save_model(
        engine, result.forecaster, spec, model_dir=model_dir, details=details, by=by, action=action
    )
    return result.record


def command(request: TrainRequest) -> list[str]:
    """The `python -m salesml train` command line that trains and saves this request."""
    argv = [sys.executable, "-m", "salesml", "train", f"--horizon={request.horizon}"]
    argv += [f"--level={request.level}", f"--freq={request.freq}", f"--target={request.target}"]
    argv += [f"--models={','.join(request.models)}", f"--windows={request.windows}"]
    argv += [f"--seed={request.random_state}"]
    argv += [f"--start={request.start}"] if request.start else []
    argv += [f"--end={request.end}"] if request.end else []
    # --option=value: a name that starts with a dash is still a value, not an option.
    argv += [f"--category={name}" for name in request.categories]
    argv += [f"--product={name}" for name in request.products]
    return argv


def model_id_from(output: str) -> int:
    """The saved model's id from what `python -m salesml train` printed (its last line)."""
    return int(json.loads(output.strip().splitlines()[-1])["model_id"])


def _model_name(forecaster: Forecaster) -> str:
    chosen = getattr(forecaster, "chosen_", ())
    return "+".join(chosen) if chosen else "model"


def _records(frame: pd.DataFrame | None) -> list[dict]:
    if frame is None:
        return []
    return frame.round(6).to_dict("records")
