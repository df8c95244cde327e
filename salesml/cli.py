"""`python -m salesml ...`: the command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from sqlalchemy.engine import Engine

from salesml import db
from salesml.config import load_settings
from salesml.errors import NothingToLoadError, SalesMLError
from salesml.ingest import FIELDS, IngestOptions, ingest_file


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the process exit status."""
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except NothingToLoadError as exc:
        if exc.summary is not None:
            print(json.dumps(exc.summary.as_dict()))
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except SalesMLError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m salesml", description=__doc__)
    parser.add_argument(
        "--database-url", help="database URL (default: SALESML_DATABASE_URL or data/salesml.db)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub = commands.add_parser("init-db", help="create or upgrade the database schema")
    sub.set_defaults(handler=_init_db)

    sub = commands.add_parser("demo", help="generate and load the demo sales data")
    sub.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    sub.add_argument("--if-empty", action="store_true", help="only when there are no sales yet")
    sub.set_defaults(handler=_demo)

    sub = commands.add_parser("ingest", help="validate, clean and load a CSV, XLSX or Parquet file")
    sub.add_argument("file")
    sub.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help=f"use COLUMN of the file for FIELD ({', '.join(FIELDS)}); repeatable",
    )
    sub.add_argument("--date-format", help="strptime format of the dates, e.g. %%d/%%m/%%Y")
    sub.add_argument("--encoding", help="text encoding (default: UTF-8, else Windows-1252)")
    sub.add_argument("--drop-returns", action="store_true", help="drop negative quantities")
    sub.add_argument("--keep-duplicates", action="store_true", help="load repeated lines too")
    sub.add_argument(
        "--no-impute", action="store_true", help="reject rows with a missing quantity/revenue"
    )
    sub.set_defaults(handler=_ingest)

    sub = commands.add_parser("batches", help="list the ingest history")
    sub.add_argument("--json", action="store_true", help="one JSON object per line")
    sub.set_defaults(handler=_batches)

    sub = commands.add_parser("rejections", help="print a batch's rejection report as CSV")
    sub.add_argument("batch_id", type=int)
    sub.set_defaults(handler=_rejections)

    sub = commands.add_parser("delete-batch", help="delete a batch and the rows it loaded")
    sub.add_argument("batch_id", type=int)
    sub.set_defaults(handler=_delete_batch)
    return parser


def _engine(args: argparse.Namespace) -> Engine:
    settings = load_settings()
    engine = db.create_engine_for(args.database_url or settings.database_url)
    db.init_db(engine)
    return engine


def _init_db(args: argparse.Namespace) -> int:
    engine = _engine(args)
    print(f"{db.describe(engine)}: schema is up to date")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from salesml.demo import load_demo

    engine = _engine(args)
    if args.if_empty and db.overview(engine).rows:
        print("the database already has sales; demo data not loaded")
        return 0
    summary = load_demo(engine, seed=args.seed)
    print(json.dumps(summary.as_dict()))
    return 0


def _parse_map(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column:
            raise SystemExit(f"error: --map takes FIELD=COLUMN, not {pair!r}")
        mapping[field.strip()] = column
    return mapping


def _ingest(args: argparse.Namespace) -> int:
    mapping = _parse_map(args.map)
    engine = _engine(args)
    options = IngestOptions(
        date_format=args.date_format,
        impute_missing=not args.no_impute,
        drop_returns=args.drop_returns,
        keep_duplicates=args.keep_duplicates,
    )
    summary = ingest_file(
        engine,
        args.file,
        mapping=mapping,
        options=options,
        max_bytes=load_settings().max_upload_bytes,
        encoding=args.encoding,
    )
    print(json.dumps(summary.as_dict()))
    return 0


def _batches(args: argparse.Namespace) -> int:
    batches = db.list_batches(_engine(args))
    columns = ("id", "file_name", "created_at", *db.BATCH_COUNTERS, "status")
    if args.json:
        for batch in batches:
            print(json.dumps({c: getattr(batch, c) for c in columns}, default=str))
        return 0
    if not batches:
        print("no batches loaded yet")
        return 0
    print("\t".join(columns))
    for batch in batches:
        print("\t".join(str(getattr(batch, c)) for c in columns))
    return 0


def _rejections(args: argparse.Namespace) -> int:
    import csv

    writer = csv.writer(sys.stdout)
    writer.writerow(["row_number", "column_name", "reason", "raw_value"])
    for item in db.batch_rejections(_engine(args), args.batch_id):
        writer.writerow([item.row_number, item.column_name, item.reason, item.raw_value])
    return 0


def _delete_batch(args: argparse.Namespace) -> int:
    deleted = db.delete_batch(_engine(args), args.batch_id)
    print(f"deleted batch {args.batch_id} and its {deleted:,} sales rows")
    return 0
