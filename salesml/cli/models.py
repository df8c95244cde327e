"""The forecasting commands: train and save a model, forecast from it, list models, accuracy."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from salesml.choices import FREQS, LEVELS, TARGETS
from salesml.cli import context
from salesml.config import load_settings
from salesml.training import (
    HORIZON_MAX,
    HORIZON_MIN,
    RANDOM_STATE_MAX,
    RANDOM_STATE_MIN,
    WINDOWS_MAX,
    WINDOWS_MIN,
    TrainRequest,
)
from salesml.zoo import MODELS

# What `train` asks for when an option is left out: the training request's own defaults.
ASKED = TrainRequest()


def add_commands(commands: argparse._SubParsersAction) -> None:
    """train, forecast, models and accuracy."""
    sub = commands.add_parser("train", help="backtest models on the sales and save the best")
    sub.add_argument(
        "--level",
        choices=LEVELS,
        default=ASKED.level,
        help="one series of all sales, one per category, or one per product",
    )
    sub.add_argument(
        "--freq",
        choices=FREQS,
        default=ASKED.freq,
        help="periods of the series: days, weeks, months, quarters",
    )
    sub.add_argument("--target", choices=TARGETS, default=ASKED.target, help="what to forecast")
    sub.add_argument(
        "--horizon",
        type=int,
        required=True,
        help=f"periods to forecast, {HORIZON_MIN} to {HORIZON_MAX}",
    )
    sub.add_argument(
        "--models",
        default=",".join(ASKED.models),
        help=f"auto, or a comma list of {','.join(MODELS)}",
    )
    sub.add_argument(
        "--windows",
        type=int,
        default=ASKED.windows,
        help=f"backtest windows, {WINDOWS_MIN} to {WINDOWS_MAX} (default {ASKED.windows})",
    )
    sub.add_argument("--start", type=_date, help="first sales date to use (YYYY-MM-DD)")
    sub.add_argument("--end", type=_date, help="last sales date to use (YYYY-MM-DD)")
    sub.add_argument("--category", action="append", default=[], help="only this category")
    sub.add_argument("--product", action="append", default=[], help="only this product")
    sub.add_argument(
        "--seed",
        type=int,
        default=ASKED.random_state,
        help=f"random state of the ML models, {RANDOM_STATE_MIN} to {RANDOM_STATE_MAX}",
    )
    sub.set_defaults(handler=_train)

    sub = commands.add_parser("forecast", help="forecast from a saved model and store it")
    sub.add_argument("--model-id", type=int, help="saved model (default: the latest)")
    sub.add_argument("--horizon", type=int, required=True, help="periods to forecast")
    sub.add_argument("--output", required=True, help="CSV file to write")
    sub.add_argument("--series", action="append", default=[], help="only this series")
    sub.set_defaults(handler=_forecast)

    sub = commands.add_parser("models", help="list saved models")
    sub.add_argument("--json", action="store_true", help="one JSON object per line")
    sub.set_defaults(handler=_models)

    sub = commands.add_parser("accuracy", help="stored forecasts against actuals")
    sub.add_argument("--model-id", type=int, help="only this saved model (default: every one)")
    sub.add_argument("--json", action="store_true", help="one JSON object per line")
    sub.set_defaults(handler=_accuracy)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None


def _train(args: argparse.Namespace) -> int:
    from salesml import training
    from salesml.series import find_gap

    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    request = training.TrainRequest(
        level=args.level,
        freq=args.freq,
        target=args.target,
        horizon=args.horizon,
        models=models,
        windows=args.windows,
        random_state=args.seed,
        start=args.start,
        end=args.end,
        categories=tuple(args.category),
        products=tuple(args.product),
    )
    engine = context.engine(args)
    if gap := find_gap(engine, freq=request.freq, start=request.start, end=request.end):
        print(
            f"warning: {gap.describe()}; train on the sales after it (--start {gap.after}) or "
            f"before it (--end {gap.before}), or delete a batch (delete-batch)",
            file=sys.stderr,
        )
    result = training.train(
        engine,
        request,
        progress=lambda m: print(m, file=sys.stderr),
        default_currency=load_settings().currency,
    )
    record = training.save(
        engine,
        result,
        request,
        model_dir=load_settings().model_dir,
        by=context.actor(),
        action="train and save model",
    )
    board = result.forecaster.leaderboard_
    print(board.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    for note in result.notes:
        print(f"note: {note}")
    print(
        json.dumps(
            {
                "model_id": record.id,
                "model": record.name,
                "series": record.series_count,
                "level": record.level,
                "freq": record.freq,
                "target": record.target,
                "horizon": record.horizon,
                "train_seconds": round(result.seconds, 2),
            }
        )
    )
    return 0


def _forecast(args: argparse.Namespace) -> int:
    from pathlib import Path

    from salesml import analytics, predictions, registry
    from salesml.export import csv_bytes

    engine = context.engine(args)
    settings = load_settings()
    model, record = registry.load_model(engine, args.model_id, model_dir=settings.model_dir)
    table = predictions.forecast_frame(model, args.horizon, ids=args.series or None)
    run_id = predictions.store_forecast(engine, table, record, by=context.actor())
    unit = predictions.model_currency(
        record,
        default=settings.currency,
        before=lambda: analytics.database_currency(engine, default=settings.currency),
    )
    shown = predictions.export_table(table, target=record.target, currency=unit)
    Path(args.output).write_bytes(csv_bytes(shown, currency=unit))
    print(
        json.dumps(
            {"model_id": record.id, "run_id": run_id, "rows": len(table), "output": args.output}
        )
    )
    return 0


def _models(args: argparse.Namespace) -> int:
    from salesml import registry

    columns = (
        "id",
        "name",
        "created_at",
        "level",
        "freq",
        "target",
        "horizon",
        "series_count",
        "data_start",
        "data_end",
        "file_name",
    )
    return context.print_rows(
        registry.list_models(context.engine(args)),
        columns,
        as_json=args.json,
        empty="no saved models yet; train one with `python -m salesml train`",
    )


def _accuracy(args: argparse.Namespace) -> int:
    from salesml import predictions

    table = predictions.accuracy(context.engine(args), model_id=args.model_id)
    if args.json:
        for row in table.to_dict("records"):
            print(json.dumps(row, default=str))
    elif table.empty:
        print("no stored forecast has actuals yet")
    else:
        print(table.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    return 0
