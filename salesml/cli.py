"""`python -m salesml ...`: the command line."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

# Only what the parser needs: each command imports its own modules when it runs, so that
# `--help` and the light commands start without pandas, SQLAlchemy or the forecasting stack.
from salesml.choices import FIELDS, FREQS, LEVELS, ROLES, TARGETS
from salesml.config import load_settings
from salesml.errors import AlreadyLoadedError, NothingToLoadError, SalesMLError
from salesml.zoo import MODELS, model_label

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from salesml.audit import Actor
    from salesml.ingest import LoadProgress


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the process exit status."""
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except NothingToLoadError as exc:
        if exc.summary is not None:
            print(json.dumps(exc.summary.as_dict()))
        return _fail(exc)
    except SalesMLError as exc:
        return _fail(exc)
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        return _fail(f"cannot use{where}: {exc.strerror or exc}")
    except KeyboardInterrupt:
        return _fail("interrupted; nothing was half-written", status=130)
    except Exception as exc:  # the last line of defence: one line, never a traceback
        from salesml import db

        if _is_database_error(exc):
            return _fail(db.database_error(exc, getattr(args, "engine", None)))
        if os.environ.get("SALESML_DEBUG"):
            raise
        reason = db.mask_url(str(exc).splitlines()[0] if str(exc) else "")
        return _fail(
            f"unexpected {type(exc).__name__}: {reason} (run again with SALESML_DEBUG=1 "
            "for the details, and please report it)"
        )


# The option that fixes an error (SalesMLError.setting), as this command line spells it.
FLAGS = {
    "mapping": "--map FIELD=COLUMN",
    "date_format": "--date-format",
    "decimal": "--decimal . or --decimal ,",
    "encoding": "--encoding",
}


def _is_database_error(exc: Exception) -> bool:
    import sqlalchemy as sa

    return isinstance(exc, sa.exc.SQLAlchemyError)


def _fail(error: object, *, status: int = 1) -> int:
    flag = FLAGS.get(getattr(error, "setting", None) or "")
    print(f"error: {error}" + (f" ({flag})" if flag else ""), file=sys.stderr)
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m salesml", description=__doc__)
    parser.add_argument(
        "--database-url", help="database URL (default: SALESML_DATABASE_URL or data/salesml.db)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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

    sub = commands.add_parser("batches", help="list the ingest history")
    sub.add_argument("--json", action="store_true", help="one JSON object per line")
    sub.set_defaults(handler=_batches)

    sub = commands.add_parser("rejections", help="print a batch's rejection report as CSV")
    sub.add_argument("batch_id", type=int)
    sub.set_defaults(handler=_rejections)

    sub = commands.add_parser("delete-batch", help="delete a batch and the rows it loaded")
    sub.add_argument("batch_id", type=int)
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
    _forecasting_commands(commands)
    _access_commands(commands)

    sub = commands.add_parser("serve", help="serve the app and the REST API (/api/v1) on one port")
    sub.add_argument(
        "--host",
        help="address to listen on once sign-in is on (default 0.0.0.0, every interface); "
        "with no users the server listens on 127.0.0.1 only, whatever is asked",
    )
    sub.add_argument("--port", type=int, help="port (default: Streamlit's server.port, 8501)")
    sub.set_defaults(handler=_serve)
    return parser


def _forecasting_commands(commands: argparse._SubParsersAction) -> None:
    sub = commands.add_parser("train", help="backtest models on the sales and save the best")
    sub.add_argument("--level", choices=LEVELS, default="total")
    sub.add_argument("--freq", choices=FREQS, default="M")
    sub.add_argument("--target", choices=TARGETS, default="revenue")
    sub.add_argument("--horizon", type=int, required=True, help="periods to forecast")
    sub.add_argument(
        "--models", default="auto", help=f"auto, or a comma list of {','.join(MODELS)}"
    )
    sub.add_argument("--windows", type=int, default=3, help="backtest windows (default 3)")
    sub.add_argument("--start", type=_date, help="first sales date to use (YYYY-MM-DD)")
    sub.add_argument("--end", type=_date, help="last sales date to use (YYYY-MM-DD)")
    sub.add_argument("--category", action="append", default=[], help="only this category")
    sub.add_argument("--product", action="append", default=[], help="only this product")
    sub.add_argument("--seed", type=int, default=0, help="random state of the ML models")
    sub.set_defaults(handler=_train)

    sub = commands.add_parser("forecast", help="forecast from a saved model and store it")
    sub.add_argument("--model-id", type=int, help="saved model (default: the latest)")
    sub.add_argument("--horizon", type=int, required=True)
    sub.add_argument("--output", required=True, help="CSV file to write")
    sub.add_argument("--series", action="append", default=[], help="only this series")
    sub.set_defaults(handler=_forecast)

    sub = commands.add_parser("models", help="list saved models")
    sub.add_argument("--json", action="store_true")
    sub.set_defaults(handler=_models)

    sub = commands.add_parser("accuracy", help="stored forecasts against actuals")
    sub.add_argument("--model-id", type=int)
    sub.add_argument("--json", action="store_true")
    sub.set_defaults(handler=_accuracy)


def _access_commands(commands: argparse._SubParsersAction) -> None:
    users = commands.add_parser(
        "users", help="add and change the users who may sign in (sign-in is on once one exists)"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    sub = users.add_parser(
        "add", help="add a user; the password is read from standard input, or prompted for"
    )
    sub.add_argument("name")
    sub.add_argument("--role", required=True, choices=ROLES)
    sub.add_argument("--email", help="the address an OpenID Connect sign-in vouches for")
    sub.add_argument(
        "--no-password", action="store_true", help="sign in only through OpenID Connect (--email)"
    )
    sub.set_defaults(handler=_users_add)
    sub = users.add_parser("list", help="list the users and their roles")
    sub.add_argument("--json", action="store_true", help="one JSON object per line")
    sub.set_defaults(handler=_users_list)
    sub = users.add_parser("set-role", help="give a user another role")
    sub.add_argument("name")
    sub.add_argument("role", choices=ROLES)
    sub.set_defaults(handler=_users_set_role)
    for action, text in (
        ("disable", "refuse a user's sign-ins and tokens"),
        ("enable", "undo disable"),
    ):
        sub = users.add_parser(action, help=text)
        sub.add_argument("name")
        sub.set_defaults(handler=_users_disable, disabled=action == "disable")
    sub = users.add_parser("reset-password", help="set a new password (from stdin, or prompted)")
    sub.add_argument("name")
    sub.set_defaults(handler=_users_reset_password)

    tokens = commands.add_parser("tokens", help="API tokens").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    sub = tokens.add_parser("create", help="create a token for a user and print it, once")
    sub.add_argument("name")
    sub.add_argument("--label", default="", help="what the token is for, shown in lists")
    sub.add_argument("--expires", type=int, metavar="DAYS", help="expire after DAYS days")
    sub.set_defaults(handler=_tokens_create)
    sub = tokens.add_parser("list", help="list the tokens (their prefixes, never the tokens)")
    sub.add_argument("--json", action="store_true", help="one JSON object per line")
    sub.set_defaults(handler=_tokens_list)
    sub = tokens.add_parser("revoke", help="revoke a token; it is refused from now on")
    sub.add_argument("token_id", type=int, metavar="ID")
    sub.set_defaults(handler=_tokens_revoke)

    sub = commands.add_parser("audit", help="who loaded, deleted, trained, saved and changed users")
    sub.add_argument("--limit", type=int, default=50, help="newest entries to show (default 50)")
    sub.add_argument("--json", action="store_true", help="one JSON object per line")
    sub.set_defaults(handler=_audit)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None


def _actor() -> Actor:
    """Who runs this command, as the audit log records it."""
    from salesml.audit import command_line_actor

    return command_line_actor()


def _engine(args: argparse.Namespace) -> Engine:
    from salesml import db

    settings = load_settings()
    engine = db.create_engine_for(args.database_url or settings.database_url)
    args.engine = engine  # so that a database error can say which database
    db.init_db(engine)
    return engine


def _init_db(args: argparse.Namespace) -> int:
    from salesml import db

    engine = _engine(args)
    print(f"{db.describe(engine)}: schema is up to date")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from salesml import db
    from salesml.demo import load_demo, train_demo_model

    engine = _engine(args)
    if args.if_empty and db.overview(engine).rows:
        print("the database already has sales; demo data not loaded")
        return 0
    summary = load_demo(engine, seed=args.seed, by=_actor())
    print(json.dumps(summary.as_dict()), flush=True)
    if not args.no_model:
        print("training the demo model (a year ahead per category)…", file=sys.stderr)
        record = train_demo_model(
            engine,
            model_dir=load_settings().model_dir,
            progress=lambda stage: print(stage, file=sys.stderr),
            by=_actor(),
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


# A load still running after this long reports its progress on stderr, this often.
PROGRESS_EVERY_SECONDS = 2.0


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
    engine = _engine(args)
    _warn_about_cache(engine)
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
            by=_actor(),
        )
    except AlreadyLoadedError as exc:
        # A nightly job on a day without new sales must not fail: a success loading nothing.
        print(json.dumps(exc.summary.as_dict()))
        print(f"note: {exc}", file=sys.stderr)
        return 0
    print(json.dumps(summary.as_dict()))
    return 0


def _warn_about_cache(engine) -> None:
    from salesml import db

    advice = db.cache_advice(engine)
    if advice:
        print(f"warning: {advice}", file=sys.stderr)


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
    return _print_rows(
        db.list_batches(_engine(args)), columns, as_json=args.json, empty="no batches loaded yet"
    )


def _print_rows(items: list, columns: Sequence[str], *, as_json: bool, empty: str) -> int:
    """Objects as JSON lines, or as a tab-separated table with a header; `empty` if none."""
    if as_json:
        for item in items:
            print(json.dumps({c: getattr(item, c) for c in columns}, default=str))
    elif not items:
        print(empty)
    else:
        print("\t".join(columns))
        for item in items:
            values = (getattr(item, c) for c in columns)
            print("\t".join("" if value is None else str(value) for value in values))
    return 0


def _rejections(args: argparse.Namespace) -> int:
    import pandas as pd

    from salesml import db
    from salesml.export import write_csv

    columns = ["row_number", "column_name", "reason", "raw_value"]
    items = db.batch_rejections(_engine(args), args.batch_id)
    rows = [[getattr(item, column) for column in columns] for item in items]
    write_csv(pd.DataFrame(rows, columns=columns), sys.stdout)
    return 0


def _delete_batch(args: argparse.Namespace) -> int:
    from salesml.deletion import delete_batch

    deleted = delete_batch(_engine(args), args.batch_id, by=_actor())
    print(f"deleted batch {args.batch_id} and its {deleted:,} sales rows")
    return 0


def _rebuild_rollups(args: argparse.Namespace) -> int:
    from salesml import rollups

    engine = _engine(args)
    if args.check:
        found = rollups.differences(engine)
        for table, count in found.items():
            state = f"{count:,} totals differ" if count else "agrees with the sales lines"
            print(f"{table}: {state}")
        if any(found.values()):
            print("run python -m salesml rebuild-rollups to recompute them", file=sys.stderr)
            return 1
        return 0
    for table, count in rollups.rebuild(engine, by=_actor()).items():
        print(f"{table}: {count:,} rows recomputed from the sales lines")
    return 0


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
    engine = _engine(args)
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
        by=_actor(),
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

    engine = _engine(args)
    settings = load_settings()
    model, record = registry.load_model(engine, args.model_id, model_dir=settings.model_dir)
    table = predictions.forecast_frame(model, args.horizon, ids=args.series or None)
    run_id = predictions.store_forecast(engine, table, record, by=_actor())
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
    return _print_rows(
        registry.list_models(_engine(args)),
        columns,
        as_json=args.json,
        empty="no saved models yet; train one with `python -m salesml train`",
    )


def _accuracy(args: argparse.Namespace) -> int:
    from salesml import predictions

    table = predictions.accuracy(_engine(args), model_id=args.model_id)
    if args.json:
        for row in table.to_dict("records"):
            print(json.dumps(row, default=str))
    elif table.empty:
        print("no stored forecast has actuals yet")
    else:
        print(table.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    return 0


def _read_password(*, confirm: bool) -> str:
    """A password from standard input's first line, or prompted for (twice) on a terminal."""
    import getpass

    if sys.stdin is None or not sys.stdin.isatty():
        line = sys.stdin.readline() if sys.stdin else ""
        password = line.rstrip("\r\n")
        if not password:
            raise SalesMLError("no password on standard input: pipe it in, or run in a terminal")
        return password
    password = getpass.getpass("Password: ")
    if confirm and getpass.getpass("Password again: ") != password:
        raise SalesMLError("the two passwords differ; nothing was changed")
    return password


def _users_add(args: argparse.Namespace) -> int:
    from salesml import auth

    engine = _engine(args)
    first = not auth.enabled(engine)
    if args.no_password and not args.email:
        raise SalesMLError("--no-password needs --email: the user signs in through OpenID Connect")
    # Checked before asking for a password, so a bad name or role costs no typing.
    auth.check_name(args.name)
    password = None if args.no_password else _read_password(confirm=True)
    user = auth.add_user(
        engine,
        args.name,
        role=args.role,
        password=password,
        email=args.email,
        by=_actor(),
    )
    print(f"added {user.name} ({user.role})")
    if first and user.role != "admin":
        # Not refused: the command line can add an admin at any time, and needs no sign-in.
        print(
            f"warning: {user.name} is the only user and not an admin, so nobody can reach the "
            "Team page or manage users in the app; add one: "
            "python -m salesml users add NAME --role admin",
            file=sys.stderr,
        )
    if first:
        print(
            "sign-in is now on: the app asks for a name and password, and the API for a token "
            "(python -m salesml tokens create NAME); restart a running server to let it "
            "listen beyond this machine (--host)"
        )
    return 0


def _users_list(args: argparse.Namespace) -> int:
    from salesml import auth

    columns = ("id", "name", "role", "email", "disabled", "created_at")
    return _print_rows(
        auth.list_users(_engine(args)),
        columns,
        as_json=args.json,
        empty="no users: the app and API serve one local user (sign-in is off)",
    )


def _users_set_role(args: argparse.Namespace) -> int:
    from salesml import auth

    auth.set_role(_engine(args), args.name, args.role, by=_actor())
    print(f"{args.name} is now {'an' if args.role[0] in 'aeiou' else 'a'} {args.role}")
    return 0


def _users_disable(args: argparse.Namespace) -> int:
    from salesml import auth

    auth.set_disabled(_engine(args), args.name, args.disabled, by=_actor())
    state = "disabled: sign-in and tokens refused" if args.disabled else "enabled"
    print(f"{args.name} is {state}")
    return 0


def _users_reset_password(args: argparse.Namespace) -> int:
    from salesml import auth

    engine = _engine(args)
    if not any(user.name == args.name for user in auth.list_users(engine)):
        raise SalesMLError(f"there is no user named {args.name!r}")
    auth.reset_password(engine, args.name, _read_password(confirm=True), by=_actor())
    print(f"{args.name} has a new password")
    return 0


def _tokens_create(args: argparse.Namespace) -> int:
    from salesml import auth

    info, token = auth.create_token(
        _engine(args),
        args.name,
        label=args.label,
        expires_days=args.expires,
        by=_actor(),
    )
    expires = f"expires {info.expires_at:%Y-%m-%d %H:%M} UTC" if info.expires_at else "no expiry"
    print(
        f"token {info.id} for {info.user} ({info.role}, {expires}); shown only now:",
        file=sys.stderr,
    )
    print(token)
    return 0


def _tokens_list(args: argparse.Namespace) -> int:
    from salesml import auth

    columns = ("id", "prefix", "user", "role", "label", "state", "created_at", "expires_at")
    return _print_rows(
        auth.list_tokens(_engine(args)),
        columns,
        as_json=args.json,
        empty="no API tokens; create one with python -m salesml tokens create NAME",
    )


def _tokens_revoke(args: argparse.Namespace) -> int:
    from salesml import auth

    auth.revoke_token(_engine(args), args.token_id, by=_actor())
    print(f"token {args.token_id} is revoked")
    return 0


def _audit(args: argparse.Namespace) -> int:
    from salesml import audit

    columns = ("at", "actor", "via", "action", "target", "detail")
    entries = audit.entries(_engine(args), limit=max(1, args.limit))
    return _print_rows(entries, columns, as_json=args.json, empty="nothing recorded yet")


def _serve(args: argparse.Namespace) -> int:
    from salesml.server import serve

    if args.database_url:
        os.environ["SALESML_DATABASE_URL"] = args.database_url
    from salesml import auth
    from salesml.server import listen_address

    engine = _engine(args)  # the schema is migrated, and a bad URL refused, before serving
    host, notice = listen_address(args.host, sign_in_on=auth.enabled(engine))
    _warn_about_cache(engine)
    engine.dispose()
    if notice:
        print(notice, file=sys.stderr)
    serve(host=host, port=args.port)
    return 0
