"""The engine: connecting, waiting for other writers, migrating, and turning database
failures into one of our errors."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from salesml.errors import (
    ConfigError,
    DatabaseBusyError,
    DatabaseError,
    DatabasePermissionError,
    DatabaseUnavailableError,
    SalesMLError,
)

_log = logging.getLogger(__name__)

# The Alembic scripts that build and upgrade the schema.
MIGRATIONS = Path(__file__).parents[1] / "migrations"

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
    config.set_main_option("script_location", str(MIGRATIONS))
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
