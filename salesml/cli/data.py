"""The data commands: create the schema, load the demo or a file, and manage what was loaded."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING

from salesml.choices import FIELDS
from salesml.cli import context
from salesml.config import load_settings
from salesml.errors import AlreadyLoadedError
from salesml.zoo import model_label

if TYPE_CHECKING:
    from salesml.ingest import LoadProgress

# A load still running after this long reports its progress on stderr, this often.
PROGRESS_EVERY_SECONDS = 2.0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """init-db, demo, ingest, batches, rejections, delete-batch and rebuild-rollups."""
    sub = commands.add_parser("init-db", help="create or upgrade the database schema")
    sub.set_defaults(handler=_init_db)

    sub = commands.add_parser(
        "demo", help="generate and load the demo sales data, and train its ready model"
    )
    sub.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    sub.add_argument("--if-empty", action="store_true", help="only when there are no sales yet")
    sub.add_argument(
        "--no-model", action="store_true", help="load the data only, without the ready model"
    )
    sub.set_defaults(handler=_demo)

    _add_ingest(commands)

    sub = commands.add_parser("batches", help="list the ingest history")
    sub.add_argument("--json", action="store_true", help="one JSON object per line")
    sub.set_defaults(handler=_batches)

    sub = commands.add_parser("rejections", help="print a batch's rejection report as CSV")
    sub.add_argument("batch_id", type=int, help="the batch's id, as batches lists it")
    sub.set_defaults(handler=_rejections)

    sub = commands.add_parser("delete-batch", help="delete a batch and the rows it loaded")
    sub.add_argument("batch_id", type=int, help="the batch's id, as batches lists it")
    sub.set_defaults(handler=_delete_batch)

    sub = commands.add_parser(
        "rebuild-rollups", help="recompute the daily and monthly totals from the sales lines"
    )
    sub.add_argument(
        "--check",
        action="store_true",
        help="only compare them with the lines; exit 1 if they differ",
    )
    sub.set_defaults(handler=_rebuild_rollups)


def _add_ingest(commands: argparse._SubParsersAction) -> None:
    sub = commands.add_parser("ingest", help="validate, clean and load a CSV, XLSX or Parquet file")
    sub.add_argument("file", help="the CSV, XLSX or Parquet file to load")
    sub.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help=f"use COLUMN of the file for FIELD ({', '.join(FIELDS)}); repeatable",
    )
    sub.add_argument("--date-format", help="strptime format of the dates, e.g. %%d/%%m/%%Y")
    sub.add_argument(
        "--encoding",
        help="text encoding, e.g. utf-8, cp1252, mac_roman (default: detected from the text)",
    )
    sub.add_argument(
        "--decimal",
        choices=(".", ","),
        help="decimal mark of the numbers (default: detected from the data)",
    )
    sub.add_argument(
        "--currency",
        help="currency of the amounts, a code (EUR) or a symbol ($) (default: the file's "
        "currency column or the sign on its amounts, else SALESML_CURRENCY)",
    )
    sub.add_argument("--drop-returns", action="store_true", help="drop negative quantities")
    sub.add_argument("--keep-duplicates", action="store_true", help="load repeated lines too")
    sub.add_argument(
        "--no-impute", action="store_true", help="reject rows with a missing quantity/revenue"
    )
    sub.set_defaults(handler=_ingest)


def _init_db(args: argparse.Namespace) -> int:
    from salesml import db

    engine = context.engine(args)
    print(f"{db.describe(engine)}: schema is up to date")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from salesml import db
    from salesml.demo import load_demo, train_demo_model

    engine = context.engine(args)
    if args.if_empty and db.overview(engine).rows:
        print("the database already has sales; demo data not loaded")
        return 0
    summary = load_demo(engine, seed=args.seed, by=context.actor())
    print(json.dumps(summary.as_dict()), flush=True)
    if not args.no_model:
        print("training the demo model (a year ahead per category)…", file=sys.stderr)
        record = train_demo_model(
            engine,
            model_dir=load_settings().model_dir,
            progress=lambda stage: print(stage, file=sys.stderr),
            by=context.actor(),
            default_currency=load_settings().currency,
        )
        print(f"saved the demo model #{record.id} ({model_label(record.name)})", file=sys.stderr)
    return 0


def _parse_map(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column:
            raise SystemExit(f"error: --map takes FIELD=COLUMN, not {pair!r}")
        mapping[field.strip()] = column
    return mapping


class _LoadProgress:
    """Progress of a long load on stderr ('loading: 45%, 120,000 rows/s, about 38 s left'),
    once the load has run PROGRESS_EVERY_SECONDS and then every PROGRESS_EVERY_SECONDS."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.reported = self.started

    def __call__(self, latest: LoadProgress) -> None:
        now = time.monotonic()
        if now - self.reported < PROGRESS_EVERY_SECONDS and latest.share < 1.0:
            return
        if latest.share >= 1.0 and self.reported == self.started:
            return  # a load quick enough never to report does not report its end
        print(latest.describe(), file=sys.stderr, flush=True)
        self.reported = now


def _ingest(args: argparse.Namespace) -> int:
    from salesml.ingest import IngestOptions, ingest_file

    mapping = _parse_map(args.map)
    engine = context.engine(args)
    context.warn_about_cache(engine)
    options = IngestOptions(
        date_format=args.date_format,
        impute_missing=not args.no_impute,
        drop_returns=args.drop_returns,
        keep_duplicates=args.keep_duplicates,
        decimal=args.decimal,
        currency=args.currency,
        default_currency=load_settings().currency,
    )
    try:
        summary = ingest_file(
            engine,
            args.file,
            mapping=mapping,
            options=options,
            max_bytes=load_settings().max_upload_bytes,
            encoding=args.encoding,
            progress=_LoadProgress(),
            by=context.actor(),
        )
    except AlreadyLoadedError as exc:
        # A nightly job on a day without new sales must not fail: a success loading nothing.
        print(json.dumps(exc.summary.as_dict()))
        print(f"note: {exc}", file=sys.stderr)
        return 0
    print(json.dumps(summary.as_dict()))
    return 0


def _batches(args: argparse.Namespace) -> int:
    from salesml import db

    columns = (
        "id",
        "file_name",
        "created_at",
        *db.BATCH_COUNTERS,
        "currency",
        "status",
        "loaded_by",
    )
    return context.print_rows(
        db.list_batches(context.engine(args)),
        columns,
        as_json=args.json,
        empty="no batches loaded yet",
    )


def _rejections(args: argparse.Namespace) -> int:
    import pandas as pd

    from salesml import db
    from salesml.export import write_csv

    columns = ["row_number", "column_name", "reason", "raw_value"]
    items = db.batch_rejections(context.engine(args), args.batch_id)
    rows = [[getattr(item, column) for column in columns] for item in items]
    write_csv(pd.DataFrame(rows, columns=columns), sys.stdout)
    return 0


def _delete_batch(args: argparse.Namespace) -> int:
    from salesml.deletion import delete_batch

    deleted = delete_batch(context.engine(args), args.batch_id, by=context.actor())
    print(f"deleted batch {args.batch_id} and its {deleted:,} sales rows")
    return 0


def _rebuild_rollups(args: argparse.Namespace) -> int:
    from salesml import rollups

    engine = context.engine(args)
    if args.check:
        found = rollups.differences(engine)
        for table, count in found.items():
            state = f"{count:,} totals differ" if count else "agrees with the sales lines"
            print(f"{table}: {state}")
        if any(found.values()):
            print("run python -m salesml rebuild-rollups to recompute them", file=sys.stderr)
            return 1
        return 0
    for table, count in rollups.rebuild(engine, by=context.actor()).items():
        print(f"{table}: {count:,} rows recomputed from the sales lines")
    return 0
