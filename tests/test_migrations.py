"""Migrations survive being killed at any statement, and several processes at once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event

from salesml import db, identity
from salesml.errors import NothingToLoadError
from salesml.ingest import ingest_file
from tests.test_ingest import GOOD, csv_bytes

CHANGES = ("CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE")


class Killed(Exception):
    """Stands for the process dying just before a statement reaches the database."""


def upgrade_killed_at(engine, statement: int, *, revision: str = "head") -> bool:
    """Run init_db, dying before its n-th changing statement; True when it got that far."""
    seen = 0

    def before(conn, cursor, sql, parameters, context, executemany):
        nonlocal seen
        if sql.lstrip().upper().startswith(CHANGES):
            seen += 1
            if seen == statement:
                raise Killed(sql)

    event.listen(engine, "before_cursor_execute", before)
    try:
        db.init_db(engine, revision=revision)
    except Killed:
        return True
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return False


def schema_differences(engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), db.Base.metadata)


def index_names(engine) -> dict[str, set[str]]:
    inspector = sa.inspect(engine)
    return {
        table: {index["name"] for index in inspector.get_indexes(table)}
        for table in inspector.get_table_names()
    }


def test_a_schema_build_killed_at_any_statement_completes_when_run_again(database_url):
    engine = db.create_engine_for(database_url)
    db.init_db(engine)
    clean = index_names(engine)
    head = db.init_db(engine)
    statement = 1
    while True:
        drop_every_table(engine)
        if not upgrade_killed_at(engine, statement):
            break
        assert db.init_db(engine) == head, f"killed before statement {statement}"
        assert schema_differences(engine) == [], f"killed before statement {statement}"
        assert index_names(engine) == clean, f"killed before statement {statement}"
        statement += 1
    assert statement > 10  # the build really was interrupted at each of its statements
    engine.dispose()


def test_new_row_keys_killed_at_any_statement_complete_when_run_again(database_url):
    engine = db.create_engine_for(database_url)
    head = db.init_db(engine)
    statement = 1
    while True:
        with engine.begin() as conn:
            for table in ("sales_data", "ingest_rejections", "ingest_batches"):
                conn.exec_driver_sql(f"DELETE FROM {table}")
        migrate_down(engine, "0003")
        wanted = loaded_with_old_keys(engine)
        if not upgrade_killed_at(engine, statement):
            break
        assert db.init_db(engine) == head, f"killed before statement {statement}"
        assert stored_keys(engine) == wanted, f"killed before statement {statement}"
        statement += 1
    assert statement > 3
    assert stored_keys(engine) == wanted
    with pytest.raises(NothingToLoadError):
        ingest_file(engine, csv_bytes(*GOOD, GOOD[0]), options=None)
    engine.dispose()


def drop_every_table(engine) -> None:
    with engine.begin() as conn:
        if conn.dialect.name == "mysql":
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
        else:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        for table in sa.inspect(conn).get_table_names():
            conn.exec_driver_sql(f"DROP TABLE {table}")
        if conn.dialect.name == "mysql":
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")


def migrate_down(engine, revision: str) -> None:
    from pathlib import Path

    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(db.__file__).parent / "migrations"))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def loaded_with_old_keys(engine) -> dict[int, int]:
    """Sales loaded at 0003 with keys of the old kind; returns the keys 0004 must give."""
    from salesml.ingest import IngestOptions

    ingest_file(engine, csv_bytes(*GOOD, GOOD[0]), options=IngestOptions(keep_duplicates=True))
    rows = pd.read_sql("SELECT * FROM sales_data ORDER BY transaction_id", engine)
    with engine.begin() as conn:
        for transaction_id in rows["transaction_id"]:
            conn.execute(
                sa.text("UPDATE sales_data SET row_key = :key WHERE transaction_id = :id"),
                {"key": int(transaction_id) * 7919, "id": int(transaction_id)},
            )
    ident = identity.identities(
        pd.to_datetime(rows["date"].astype(str)).to_numpy(),
        rows["product_name"].to_numpy(object),
        rows["category"].to_numpy(object),
        rows["quantity"].to_numpy(np.int64),
        identity.cents(rows["revenue"].astype(float).to_numpy()),
    )
    keys = identity.row_keys(ident, identity.occurrences(ident))
    return dict(zip(rows["transaction_id"].tolist(), keys.tolist(), strict=True))


def stored_keys(engine) -> dict[int, int]:
    with engine.connect() as conn:
        return dict(conn.exec_driver_sql("SELECT transaction_id, row_key FROM sales_data").all())
