"""Database schema (SQLAlchemy 2 typed models), engine factory, migrations and queries."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, ClassVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from salesml.choices import BATCH_COUNTERS
from salesml.errors import (
    BatchNotFoundError,
    ConfigError,
    DatabaseBusyError,
    DatabaseError,
    DatabasePermissionError,
    DatabaseUnavailableError,
    SalesMLError,
)

_log = logging.getLogger(__name__)

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from salesml.audit import Actor

# The seed schema's sizes; product names are widened from 100 to 255 characters because real
# catalogues (Superstore has names of 127 characters) do not fit in 100.
PRODUCT_NAME_LENGTH = 255
CATEGORY_LENGTH = 100
DEFAULT_CATEGORY = "Uncategorized"
# DECIMAL(10, 2) holds values strictly below 10**8 in magnitude.
REVENUE_LIMIT = Decimal("99999999.99")
QUANTITY_LIMIT = 2_147_483_647
CURRENCY_LENGTH = 8


def name_type(length: int) -> sa.types.TypeEngine:
    """A name column that compares exactly (case and trailing spaces) on SQLite and MySQL alike."""
    return sa.String(length).with_variant(mysql.VARCHAR(length, collation="utf8mb4_bin"), "mysql")


class Base(DeclarativeBase):
    """Declarative base of every salesml table."""


class IngestBatch(Base):
    """One loaded file: where it came from and how its rows were accounted for."""

    __tablename__ = "ingest_batches"
    # Ids are never reused (SQLite would reuse the highest after a delete).
    __table_args__: ClassVar[dict] = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(sa.String(255))
    file_sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)
    rows_read: Mapped[int] = mapped_column(sa.Integer)
    rows_loaded: Mapped[int] = mapped_column(sa.Integer)
    rows_rejected: Mapped[int] = mapped_column(sa.Integer)
    rows_duplicate: Mapped[int] = mapped_column(sa.Integer)
    rows_already_present: Mapped[int] = mapped_column(sa.Integer)
    rows_imputed: Mapped[int] = mapped_column(sa.Integer)
    rows_returns: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(20))
    mapping: Mapped[str] = mapped_column(sa.Text)
    # Who loaded it: a user of the app or API, or the OS user of a command line.
    loaded_by: Mapped[str | None] = mapped_column(sa.String(100))
    # The currency of its amounts, a code or a symbol (currency.check); "" when not stated.
    currency: Mapped[str] = mapped_column(sa.String(CURRENCY_LENGTH), server_default="")


class IngestRejection(Base):
    """One reason a row of a batch's file was not loaded."""

    __tablename__ = "ingest_rejections"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ingest_batches.id", ondelete="CASCADE"), index=True
    )
    row_number: Mapped[int] = mapped_column(sa.Integer)
    column_name: Mapped[str] = mapped_column(sa.String(100))
    reason: Mapped[str] = mapped_column(sa.String(255))
    raw_value: Mapped[str] = mapped_column(sa.String(255))


class SalesData(Base):
    """One sales line: the seed paper's table plus category, batch and natural key.

    Aggregate figures are read from the rollups below; the lines themselves are read for
    a product's sales, a date range's lines and the days a monthly rollup cannot split.
    """

    __tablename__ = "sales_data"
    __table_args__ = (
        # A line's key is a hash of its values, date included: unique with its date, and in
        # date order in the index, where a load of one period adds its entries together.
        sa.Index("uq_sales_data_date_row_key", "date", "row_key", unique=True),
        sa.Index("ix_sales_data_product_date", "product_name", "date"),
    )

    transaction_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    date: Mapped[dt.date] = mapped_column(sa.Date)
    product_name: Mapped[str] = mapped_column(name_type(PRODUCT_NAME_LENGTH))
    category: Mapped[str] = mapped_column(
        name_type(CATEGORY_LENGTH), server_default=DEFAULT_CATEGORY
    )
    quantity: Mapped[int] = mapped_column(sa.Integer)
    revenue: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    batch_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ingest_batches.id", ondelete="CASCADE"), index=True
    )
    # A 64-bit hash of the source line and its occurrence number in the file: loading the
    # same line again is a no-op, so re-loads and overlapping files are idempotent.
    row_key: Mapped[int] = mapped_column(sa.BigInteger)


# Money totals of a rollup: DECIMAL(10, 2) lines summed over years fit in 18 digits.
TOTAL_TYPE = sa.Numeric(18, 2)


class _Totals:
    """The sums a rollup keeps for its key: what the Explorer and the series read."""

    revenue: Mapped[Decimal] = mapped_column(TOTAL_TYPE)
    quantity: Mapped[int] = mapped_column(sa.BigInteger)
    line_count: Mapped[int] = mapped_column(sa.Integer)
    # Returns are lines of negative quantity: the size of their revenue, and their count.
    returned_revenue: Mapped[Decimal] = mapped_column(TOTAL_TYPE)
    # The revenue of the lines that are not returns.
    gross_revenue: Mapped[Decimal] = mapped_column(TOTAL_TYPE)
    return_lines: Mapped[int] = mapped_column(sa.Integer)


class DailyCategoryTotals(_Totals, Base):
    """The sales of one category on one day, kept with every load and delete."""

    __tablename__ = "sales_daily_category"

    date: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    category: Mapped[str] = mapped_column(name_type(CATEGORY_LENGTH), primary_key=True)


class MonthlyProductTotals(_Totals, Base):
    """The sales of one product (in one category) in one month, kept with every load."""

    __tablename__ = "sales_monthly_product"
    # Covers the top products of a range of months: read in product order, summed as read.
    __table_args__ = (
        sa.Index(
            "ix_sales_monthly_product_totals",
            "product_name",
            "category",
            "month",
            "revenue",
            "quantity",
        ),
    )

    # The month's first day.
    month: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    product_name: Mapped[str] = mapped_column(name_type(PRODUCT_NAME_LENGTH), primary_key=True)
    category: Mapped[str] = mapped_column(name_type(CATEGORY_LENGTH), primary_key=True)


# Model titles and what-if scenario names.
TITLE_LENGTH = 100


class SavedModel(Base):
    """A trained model saved with joblib: what it was trained on and where its file is."""

    __tablename__ = "models"
    __table_args__: ClassVar[dict] = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    # A readable name people give it; None shows the model and what it forecasts instead.
    title: Mapped[str | None] = mapped_column(sa.String(TITLE_LENGTH))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)
    level: Mapped[str] = mapped_column(sa.String(20))
    freq: Mapped[str] = mapped_column(sa.String(2))
    target: Mapped[str] = mapped_column(sa.String(20))
    horizon: Mapped[int] = mapped_column(sa.Integer)
    series_count: Mapped[int] = mapped_column(sa.Integer)
    data_start: Mapped[dt.date] = mapped_column(sa.Date)
    data_end: Mapped[dt.date] = mapped_column(sa.Date)
    file_name: Mapped[str] = mapped_column(sa.String(255))
    file_sha256: Mapped[str] = mapped_column(sa.String(64))
    metadata_json: Mapped[str] = mapped_column(sa.Text)


class PredictionResult(Base):
    """A stored forecast value: the seed's columns plus series, bounds, model and run."""

    __tablename__ = "prediction_results"
    __table_args__ = (
        # One value per model, scenario, series and period: a what-if never replaces the base.
        sa.UniqueConstraint(
            "model_id",
            "scenario",
            "series",
            "period_start",
            name="uq_prediction_results_model_scenario_series_period",
        ),
        sa.Index("ix_prediction_results_run_id", "run_id"),
        sa.Index("ix_prediction_results_period", "period_start"),
    )

    prediction_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    prediction_date: Mapped[dt.date] = mapped_column(sa.Date)
    target_period: Mapped[str] = mapped_column(sa.String(50))
    predicted_sales: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))
    model_used: Mapped[str] = mapped_column(sa.String(100))
    model_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("models.id", ondelete="CASCADE", name="fk_prediction_results_model_id")
    )
    run_id: Mapped[str | None] = mapped_column(sa.String(36))
    # The what-if this forecast was saved as; "" is the model's own (base) forecast.
    scenario: Mapped[str] = mapped_column(name_type(TITLE_LENGTH), default="", server_default="")
    level: Mapped[str | None] = mapped_column(sa.String(20))
    series: Mapped[str | None] = mapped_column(name_type(PRODUCT_NAME_LENGTH))
    period_start: Mapped[dt.date | None] = mapped_column(sa.Date)
    lower_80: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))
    upper_80: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))
    lower_95: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))
    upper_95: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))


# Who ran a training, as the audit log names them.
RUN_BY_LENGTH = 100


class TrainingRun(Base):
    """A training's comparison, saved or not, kept so its address reopens it anywhere."""

    __tablename__ = "training_runs"
    __table_args__: ClassVar[dict] = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)
    created_by: Mapped[str] = mapped_column(sa.String(RUN_BY_LENGTH))
    request_json: Mapped[str] = mapped_column(sa.Text)
    # Bounded by salesml.runs (about a megabyte at most), beyond MySQL's TEXT.
    comparison_json: Mapped[str] = mapped_column(
        sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql")
    )
    model_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("models.id", ondelete="SET NULL", name="fk_training_runs_model_id")
    )


USER_NAME_LENGTH = 64


class User(Base):
    """Someone who may sign in, with the role that says what they may do."""

    __tablename__ = "users"
    __table_args__: ClassVar[tuple] = (
        sa.Index("uq_users_name_key", "name_key", unique=True),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Signs in exactly as written; see name_key for what makes two names the same.
    name: Mapped[str] = mapped_column(name_type(USER_NAME_LENGTH), unique=True)
    # Names are unique whatever their case ('Ana' and 'ana' would be two people who look like
    # one): computed by the database, so every writer is held to it.
    name_key: Mapped[str] = mapped_column(
        name_type(USER_NAME_LENGTH), sa.Computed("lower(name)", persisted=False)
    )
    # The address an OpenID Connect provider vouches for, when the user signs in that way:
    # matched exactly (accents and all) as auth.email_key writes it.
    email: Mapped[str | None] = mapped_column(name_type(255), unique=True)
    role: Mapped[str] = mapped_column(sa.String(20))
    # An argon2id hash; None for a user who signs in only through the identity provider.
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    disabled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)


class ApiToken(Base):
    """An API token: only its SHA-256 is kept, with a short prefix to recognise it by."""

    __tablename__ = "api_tokens"
    __table_args__: ClassVar[dict] = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    token_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    label: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)


class BrowserSession(Base):
    """A signed-in browser's kept session: only the SHA-256 of its cookie is stored, so one
    read from the database (a backup, a log) signs nobody in."""

    __tablename__ = "sessions"
    __table_args__: ClassVar[dict] = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Set when the browser takes its cookie, from then on the session's only key.
    token_sha256: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # The one-time token the signed-in page hands the browser to fetch the cookie with.
    handoff_sha256: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)


class AuditEntry(Base):
    """Who changed what, and when: loads, deletes, trainings, saves and user changes."""

    __tablename__ = "audit_log"
    __table_args__: ClassVar[dict] = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime, index=True)
    actor: Mapped[str] = mapped_column(sa.String(100))
    via: Mapped[str] = mapped_column(sa.String(10))
    action: Mapped[str] = mapped_column(sa.String(40))
    target: Mapped[str] = mapped_column(sa.String(255))
    detail: Mapped[str] = mapped_column(sa.String(255))


# --------------------------------------------------------------------------- engine

# How long a writer waits for another one (a load, a migration) to finish before giving up.
WRITE_WAIT_SECONDS = 600
SQLITE_BUSY_MS = 30_000


def create_engine_for(url: str) -> Engine:
    """Create the engine for a database URL: SQLite with WAL, or MySQL with a healthy pool."""
    try:
        parsed = make_url(url)
    except (sa.exc.ArgumentError, ValueError) as exc:
        reason = mask_url(str(exc))
        raise ConfigError(f"database URL {mask_url(url)!r} is not valid: {reason}") from None
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.get_backend_name() in ("mysql", "mariadb"):
        if "charset" not in parsed.query:
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
        try:
            return sa.create_engine(
                parsed,
                pool_pre_ping=True,
                pool_recycle=3600,
                connect_args={"local_infile": True, "connect_timeout": 5},
            )
        except ImportError:
            raise ConfigError(
                f"database URL {mask_url(url)!r} asks for the {parsed.get_driver_name()} driver, "
                "which is not installed; use mysql+pymysql://user:password@host:3306/database"
            ) from None
    raise ConfigError(
        f"database {parsed.get_backend_name()!r} is not supported; use sqlite:/// or "
        "mysql+pymysql://user:password@host:3306/database"
    )


def _sqlite_engine(url: sa.URL) -> Engine:
    if url.database and url.database != ":memory:":
        folder = Path(url.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnavailableError(
                f"cannot create the folder {folder} for the SQLite database: {exc.strerror}; "
                "set SALESML_DATA_DIR or SALESML_DATABASE_URL to a writable place"
            ) from None
    engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # SQLAlchemy, not the driver, starts each transaction (below), so that DDL is
        # transactional too: a migration killed half way leaves nothing behind.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # 64 MB of page cache keeps the indexes of a large batch in memory while it loads.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A writer asks for its write lock up front (BEGIN IMMEDIATE) and so waits its turn;
        # a deferred transaction that read first could only fail when it comes to write.
        conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get('sqlite_begin', '')}")

    return engine


@contextmanager
def writing(engine: Engine, *, lock: str) -> Iterator[sa.Connection]:
    """A write transaction that waits for other writers of the same kind to finish first.

    SQLite has one writer at a time: the transaction takes the write lock at its start and
    waits up to WRITE_WAIT_SECONDS for it. MySQL lets writers overlap, and two loads into
    the same table deadlock on its unique key: a named lock per database and kind of work
    ("sales", "schema") serialises them.
    """
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            _sqlite_pragma(conn, f"busy_timeout={WRITE_WAIT_SECONDS * 1000}")
            conn.execution_options(sqlite_begin="IMMEDIATE")
        try:
            with conn.begin():
                if not sqlite:
                    _take_lock(conn, lock)
                yield conn
        finally:
            _release(conn, lock, sqlite)


@contextmanager
def sales_lock(conn: sa.Connection) -> Iterator[None]:
    """Keep loads and deletes of sales waiting for the block, inside another writer's
    transaction (SQLite lets one writer in at a time anyway)."""
    if conn.dialect.name == "sqlite":
        yield
        return
    _take_lock(conn, "sales")
    try:
        yield
    finally:
        conn.exec_driver_sql("SELECT RELEASE_LOCK(%s)", (_lock_name(conn, "sales"),))


def _sqlite_pragma(conn: sa.Connection, pragma: str) -> None:
    # Straight to the driver, outside any transaction (which would take the write lock).
    conn.connection.dbapi_connection.execute(f"PRAGMA {pragma}")


def _lock_name(conn: sa.Connection, lock: str) -> str:
    # Lock names are server-wide: the database's name keeps two databases apart.
    database = str(conn.engine.url.database or "")
    return f"salesml.{lock}.{hashlib.sha1(database.encode()).hexdigest()[:16]}"


def _take_lock(conn: sa.Connection, lock: str) -> None:
    got = conn.exec_driver_sql(
        "SELECT GET_LOCK(%s, %s)", (_lock_name(conn, lock), WRITE_WAIT_SECONDS)
    ).scalar()
    if got != 1:
        raise DatabaseBusyError(
            f"another salesml process has been writing to the database for over "
            f"{WRITE_WAIT_SECONDS // 60} minutes ({lock}); try again when it has finished"
        )


def _release(conn: sa.Connection, lock: str, sqlite: bool) -> None:
    if conn.invalidated or conn.closed:
        return  # the server ends a lost session's locks itself
    try:
        if sqlite:
            _sqlite_pragma(conn, f"busy_timeout={SQLITE_BUSY_MS}")
            conn.execution_options(sqlite_begin="")
        else:
            conn.exec_driver_sql("SELECT RELEASE_LOCK(%s)", (_lock_name(conn, lock),))
            conn.commit()
    except sa.exc.DBAPIError:
        conn.invalidate()  # a connection that cannot release is not handed out again


def describe(engine: Engine) -> str:
    """A human name for the database in use, without the password."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return f"SQLite file {url.database}"
    return f"MySQL {mask_url(url.render_as_string(hide_password=True)).split('://', 1)[1]}"


# user:secret@host, with or without a scheme; the secret may hold '/' and '@' (the host
# starts after the last '@' before a space or quote).
_SECRET_IN_USERINFO = re.compile(r"((?:://|^|[\s'\"(])[\w.%+~-]*:)(?!//)[^\s'\"]*@")
_SECRET_IN_QUERY = re.compile(
    r"((?:password|passwd|pwd|secret|token|api_?key)=)[^&\s'\"]*", re.IGNORECASE
)


def mask_url(text: str) -> str:
    """Text with any password of a database URL in it replaced by ***."""
    text = _SECRET_IN_USERINFO.sub(r"\1***@", text)
    return _SECRET_IN_QUERY.sub(r"\1***", text)


def check_connection(engine: Engine) -> None:
    """Raise DatabaseUnavailableError with the reason when the database cannot be reached."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        raise DatabaseUnavailableError(
            f"cannot reach the database ({describe(engine)}): {_reason(exc)}; "
            "check SALESML_DATABASE_URL and that the server is running"
        ) from None


# MySQL error numbers that mean "another writer is in the way" or "the server went away".
_BUSY_CODES = {1205, 1213}
_GONE_CODES = {2002, 2003, 2006, 2013, 2055}
# ... and those that mean the account lacks a right: on a table or column (1142, 1143), a
# database (1044), a routine (1370), a privilege (1227), or the sign-in itself (1045).
_DENIED_CODES = {1044, 1045, 1142, 1143, 1227, 1370}
_DENIED_COMMAND = re.compile(
    r"(?P<command>[A-Z][A-Z ]*?) command denied to user(?: (?P<user>\S+) for "
    r"(?:column \S+ in )?table [`']?(?:\w+[`']?\.[`']?)?(?P<table>\w+))?"
)


def database_error(exc: Exception, engine: Engine | None = None) -> SalesMLError:
    """One of our errors, in one line and without secrets, for a failure of the database."""
    if isinstance(exc, SalesMLError):
        return exc
    where = f" ({describe(engine)})" if engine is not None else ""
    reason = _reason(exc)
    code = _error_code(exc)
    if code in _DENIED_CODES or "readonly database" in reason:
        return DatabasePermissionError(_denied(reason, code, where))
    if code in _BUSY_CODES or "database is locked" in reason:
        return DatabaseBusyError(
            f"the database{where} is busy with another writer: {reason}; try again"
        )
    if code in _GONE_CODES or isinstance(exc, sa.exc.InterfaceError | sa.exc.DisconnectionError):
        return DatabaseUnavailableError(
            f"lost the connection to the database{where}: {reason}; check that the server is "
            "running, then try again (nothing was half-written)"
        )
    if isinstance(exc, sa.exc.OperationalError):
        return DatabaseUnavailableError(f"the database{where} failed: {reason}")
    if isinstance(exc, sa.exc.DataError):
        return DatabaseError(f"a value does not fit its database column{where}: {reason}")
    if isinstance(exc, sa.exc.IntegrityError):
        return DatabaseError(f"the database{where} refused the change: {reason}")
    return DatabaseError(f"the database{where} reported an error: {reason}")


def _denied(reason: str, code: int | None, where: str) -> str:
    """What right the database account lacks, and who can give it: the right and the table
    only, for the user; the account, its host and the database go to the server's log."""
    _log.warning("the database%s refused a right: %s", where, reason)
    found = _DENIED_COMMAND.search(reason)
    if found:
        right = found["command"] + (f" on {found['table']}" if found["table"] else "")
        return (
            f"the database user lacks {right}: an administrator must grant it "
            "(retrying will not help)"
        )
    if code == 1045:
        return (
            "the database refused the sign-in of the configured user; check the user and "
            "password in SALESML_DATABASE_URL"
        )
    return (
        "the database user lacks a right it needs: an administrator must grant it (the "
        "server's log names it; retrying will not help)"
    )


def _reason(exc: Exception) -> str:
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    return mask_url(lines[0] if lines else type(original).__name__)[:300]


def _error_code(exc: Exception) -> int | None:
    args = getattr(getattr(exc, "orig", None), "args", ())
    return args[0] if args and isinstance(args[0], int) else None


@contextmanager
def translated(engine: Engine | None = None) -> Iterator[None]:
    """Turn a database failure inside the block into one of our errors."""
    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        raise database_error(exc, engine) from None


def init_db(engine: Engine, *, revision: str = "head") -> str:
    """Create or upgrade the schema to the newest migration; safe to run any number of times,
    also by several processes at once (they take turns) and after one was killed half way."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    check_connection(engine)
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    wanted = ScriptDirectory.from_config(config).get_current_head()
    with translated(engine):
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        if revision == "head" and current == wanted:
            return current  # the usual case: nothing to do, no lock taken
        with writing(engine, lock="schema") as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision() or ""


def cache_advice(engine: Engine) -> str | None:
    """A warning when MySQL's buffer pool is far too small for the sales table, else None.

    Reads of the lines (a product filter, a date range's cut days, downloads) and the
    product index's inserts come from the disk once the table is many times larger than
    InnoDB's buffer pool.
    """
    if backend(engine) != "mysql":
        return None
    with translated(engine), engine.connect() as conn:
        pool = conn.exec_driver_sql("SELECT @@innodb_buffer_pool_size").scalar_one()
        size = conn.exec_driver_sql(
            "SELECT COALESCE(SUM(data_length + index_length), 0) FROM information_schema.tables "
            "WHERE table_schema = DATABASE() AND table_name = 'sales_data'"
        ).scalar_one()
    return buffer_pool_advice(int(pool), int(size))


def buffer_pool_advice(pool_bytes: int, table_bytes: int) -> str | None:
    """The warning for a buffer pool under a quarter of the sales table's size, else None."""
    if pool_bytes * 4 >= table_bytes:
        return None
    wanted = -(-table_bytes // 2**30)  # the table's size, rounded up to whole GiB
    return (
        f"MySQL's innodb_buffer_pool_size ({pool_bytes / 2**20:,.0f} MiB) is far smaller than "
        f"the sales table ({table_bytes / 2**20:,.0f} MiB with its indexes): loads and reads "
        f"wait for the disk; set it to {wanted} GiB or more in the server's configuration"
    )


def schema_revision(engine: Engine) -> str:
    """The migration the database's schema is at ("" before the first one)."""
    # Alembic's own record, read directly: cheap enough for a health check polled often.
    with translated(engine), engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return ""
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() or ""


def backend(engine: Engine) -> str:
    """The kind of database: "sqlite" or "mysql" (MariaDB included)."""
    name = engine.url.get_backend_name()
    return "mysql" if name in ("mysql", "mariadb") else name


# --------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class Overview:
    """What is in the database at a glance."""

    rows: int
    products: int
    categories: int
    first_date: dt.date | None
    last_date: dt.date | None
    batches: int


def overview(engine: Engine) -> Overview:
    """Row counts and the date range of sales_data, from the rollups."""
    daily, monthly = DailyCategoryTotals.__table__.c, MonthlyProductTotals.__table__.c
    query = sa.select(
        sa.func.sum(daily.line_count),
        sa.func.count(sa.distinct(daily.category)),
        sa.func.min(daily.date),
        sa.func.max(daily.date),
    )
    with engine.connect() as conn:
        rows, categories, first, last = conn.execute(query).one()
        products = conn.execute(
            sa.select(sa.func.count(sa.distinct(monthly.product_name)))
        ).scalar_one()
        batches = conn.execute(sa.select(sa.func.count()).select_from(IngestBatch)).scalar_one()
    return Overview(int(rows or 0), products, categories, _as_date(first), _as_date(last), batches)


def _as_date(value: object) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def list_batches(engine: Engine) -> list[IngestBatch]:
    """Every ingest batch, newest first."""
    with Session(engine) as session:
        batches = session.scalars(sa.select(IngestBatch).order_by(IngestBatch.id.desc())).all()
        session.expunge_all()
    return list(batches)


def get_batch(engine: Engine, batch_id: int) -> IngestBatch:
    """One ingest batch by id."""
    with Session(engine) as session:
        batch = session.get(IngestBatch, batch_id)
        if batch is None:
            raise BatchNotFoundError(f"there is no ingest batch {batch_id}")
        session.expunge(batch)
    return batch


def batch_rejections(engine: Engine, batch_id: int) -> list[IngestRejection]:
    """The stored rejection report of one batch, in file order."""
    with Session(engine) as session:
        if session.get(IngestBatch, batch_id) is None:
            raise BatchNotFoundError(f"there is no ingest batch {batch_id}")
        rows = session.scalars(
            sa.select(IngestRejection)
            .where(IngestRejection.batch_id == batch_id)
            .order_by(IngestRejection.row_number, IngestRejection.id)
        ).all()
        session.expunge_all()
    return list(rows)


def delete_batch(engine: Engine, batch_id: int, *, by: Actor | None = None) -> int:
    """Delete a batch with its sales rows and rejections; return the number of sales rows."""
    from salesml import audit, rollups

    with writing(engine, lock="sales") as conn:
        found = conn.execute(
            sa.select(IngestBatch.file_name).where(IngestBatch.id == batch_id)
        ).scalar_one_or_none()
        if found is None:
            raise BatchNotFoundError(f"there is no ingest batch {batch_id}")
        rollups.remove_batch(conn, batch_id)
        deleted = conn.execute(sa.delete(SalesData).where(SalesData.batch_id == batch_id))
        conn.execute(sa.delete(IngestRejection).where(IngestRejection.batch_id == batch_id))
        conn.execute(sa.delete(IngestBatch).where(IngestBatch.id == batch_id))
        audit.record(
            conn, by, "delete batch", f"batch {batch_id}: {found}", f"{deleted.rowcount:,} rows"
        )
    return deleted.rowcount


# --------------------------------------------------------------------------- bulk loading
# These write inside the caller's transaction and never commit by themselves.

SALES_COLUMNS = ("date", "product_name", "category", "quantity", "revenue", "batch_id", "row_key")


def insert_batch(
    conn: sa.Connection,
    *,
    file_name: str,
    sha256: str,
    mapping: str,
    loaded_by: str | None = None,
    currency: str = "",
) -> int:
    """Insert an ingest_batches row in state 'loading' and return its id."""
    zero = dict.fromkeys(BATCH_COUNTERS, 0)
    result = conn.execute(
        sa.insert(IngestBatch).values(
            file_name=file_name[:255],
            file_sha256=sha256,
            created_at=dt.datetime.now().replace(microsecond=0),
            status="loading",
            mapping=mapping,
            # Only when someone is named: a library call may run on a schema before 0005.
            **({"loaded_by": loaded_by} if loaded_by else {}),
            **({"currency": currency} if currency else {}),
            **zero,
        )
    )
    return int(result.inserted_primary_key[0])


def finish_batch(conn: sa.Connection, batch_id: int, counts: dict[str, int]) -> None:
    """Record a batch's final counts and mark it loaded."""
    conn.execute(
        sa.update(IngestBatch).where(IngestBatch.id == batch_id).values(status="loaded", **counts)
    )


def insert_sales(
    conn: sa.Connection, rows: pd.DataFrame, batch_id: int, *, into: str = "sales_data"
) -> int:
    """Insert sales rows whose row_key is new; return how many were inserted.

    `into` may name another table of the same columns (a load's staging table). On MySQL
    the rows go as a file through LOAD DATA LOCAL INFILE, which skips lines already there
    (their date and row_key are a unique key)."""
    if conn.dialect.name in ("mysql", "mariadb") and local_infile_enabled(conn):
        return load_data(conn, sales_table(rows, batch_id), into)
    records = _records(rows, batch_id)
    verb = "INSERT OR IGNORE" if conn.dialect.name == "sqlite" else "INSERT IGNORE"
    marks = ", ".join(["?" if conn.dialect.paramstyle == "qmark" else "%s"] * 7)
    sql = f"{verb} INTO {into} ({', '.join(SALES_COLUMNS)}) VALUES ({marks})"
    return conn.exec_driver_sql(sql, records).rowcount


def _records(rows: pd.DataFrame, batch_id: int) -> list[tuple]:
    dates = rows["date"].to_numpy().astype("datetime64[D]").astype(str)
    return list(
        zip(
            dates.tolist(),
            rows["product_name"].tolist(),
            rows["category"].tolist(),
            rows["quantity"].tolist(),
            rows["revenue"].tolist(),
            [batch_id] * len(rows),
            rows["row_key"].tolist(),
            strict=True,
        )
    )


def local_infile_enabled(conn: sa.Connection) -> bool:
    """Whether this MySQL server takes LOAD DATA LOCAL INFILE."""
    return bool(conn.exec_driver_sql("SELECT @@local_infile").scalar())


def sales_table(rows: pd.DataFrame, batch_id: int) -> pa.Table:
    """Sales rows as an Arrow table of the columns SALES_COLUMNS."""
    import pyarrow as pa

    return pa.table(
        {
            "date": pa.array(rows["date"].to_numpy().astype("datetime64[D]")),
            "product_name": pa.array(rows["product_name"].to_numpy(), pa.string()),
            "category": pa.array(rows["category"].to_numpy(), pa.string()),
            "quantity": pa.array(rows["quantity"].to_numpy()),
            "revenue": pa.array(rows["revenue"].to_numpy()),
            "batch_id": pa.array([batch_id] * len(rows), pa.int64()),
            "row_key": pa.array(rows["row_key"].to_numpy()),
        }
    )


def write_load_file(rows: pd.DataFrame, batch_id: int, path: str | Path | BinaryIO) -> None:
    """Write sales rows as the tab-separated text LOAD DATA reads (columns as SALES_COLUMNS)."""
    write_text(sales_table(rows, batch_id), path)


def write_text(table: pa.Table, path: str | Path | BinaryIO) -> None:
    """Write an Arrow table as the tab-separated text LOAD_DATA_SQL reads, without a header."""
    import pyarrow.csv as pa_csv

    options = pa_csv.WriteOptions(include_header=False, delimiter="\t", quoting_style="needed")
    pa_csv.write_csv(table, path if hasattr(path, "write") else str(path), options)


LOAD_DATA_SQL = (
    "LOAD DATA LOCAL INFILE %s INTO TABLE {table} CHARACTER SET utf8mb4 "
    "FIELDS TERMINATED BY '\\t' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' "
    "LINES TERMINATED BY '\\n' ({columns})"
)


def load_data(conn: sa.Connection, table: pa.Table, into: str) -> int:
    """LOAD DATA LOCAL INFILE an Arrow table into a table of ours (the same column names);
    return the number of rows the server took."""
    with load_file(table) as path:
        sql = LOAD_DATA_SQL.format(table=into, columns=", ".join(table.column_names))
        return conn.exec_driver_sql(sql, (path,)).rowcount


@contextmanager
def load_file(table: pa.Table) -> Iterator[str]:
    """A path to an Arrow table as LOAD DATA text, in a file that no crash can leave behind.

    On Linux the file has no name at all (it is unlinked from the start and read through
    /proc/self/fd), so a process killed mid-load leaves nothing in the temporary folder.
    """
    import tempfile

    if Path("/proc/self/fd").is_dir():
        with tempfile.TemporaryFile(suffix=".tsv") as handle:
            write_text(table, handle)
            handle.flush()
            yield f"/proc/self/fd/{handle.fileno()}"
        return
    with tempfile.TemporaryDirectory(prefix="salesml-") as folder:
        path = os.path.join(folder, "rows.tsv")
        write_text(table, path)
        yield path


def insert_rejections(conn: sa.Connection, batch_id: int, rejections: pd.DataFrame) -> None:
    """Store a batch's rejection report."""
    if len(rejections) == 0:
        return
    records = [
        {
            "batch_id": batch_id,
            "row_number": int(r),
            "column_name": c,
            "reason": why,
            "raw_value": v,
        }
        for r, c, why, v in rejections[
            ["row_number", "column_name", "reason", "raw_value"]
        ].itertuples(index=False)
    ]
    conn.execute(sa.insert(IngestRejection), records)
