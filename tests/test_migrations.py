"""Migrations survive being killed at any statement, and several processes at once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event

from salesml import db
from salesml.errors import NothingToLoadError, UserNameClashError
from salesml.ingest import identity, ingest_file
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


@pytest.mark.slow
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


@pytest.mark.slow
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
        # Killed within the new keys' migration only: on MariaDB a column added and dropped
        # instantly again and again (as later migrations would be) piles up in the table's
        # row format until a rebuild refuses the row size.
        if not upgrade_killed_at(engine, statement, revision="0004"):
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

    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS))
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


# --------------------------------------------------------------------------- 0006: titles, what-ifs

MODEL_AT_0005 = sa.text(
    "INSERT INTO models (id, name, created_at, level, freq, target, horizon, series_count, "
    "data_start, data_end, file_name, file_sha256, metadata_json) VALUES (:id, 'lr', "
    "'2024-05-01 10:00:00', 'category', 'M', 'revenue', 2, 2, '2023-01-01', '2024-04-01', "
    "'m.joblib', 'abc', '{}')"
)
FORECAST_AT_0005 = sa.text(
    "INSERT INTO prediction_results (prediction_date, target_period, predicted_sales, "
    "model_used, model_id, run_id, level, series, period_start, lower_80, upper_80, lower_95, "
    "upper_95) VALUES ('2024-05-02', :period, :value, 'lr', :model, 'run-1', 'category', "
    ":series, :period, 1, 2, 0, 3)"
)


def forecasts_at_0005(engine) -> None:
    """Two models with a forecast each, stored as the schema before what-ifs kept them."""
    with engine.begin() as conn:
        for model in (1, 2):
            conn.execute(MODEL_AT_0005, {"id": model})
            for series in ("Office", "Toys"):
                for month, value in ((5, 10.5), (6, 20.25)):
                    conn.execute(
                        FORECAST_AT_0005,
                        {
                            "model": model,
                            "series": series,
                            "period": f"2024-0{month}-01",
                            "value": value * model,
                        },
                    )


def stored_forecast_rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT model_id, run_id, series, period_start, predicted_sales, upper_95 "
            "FROM prediction_results ORDER BY model_id, series, period_start"
        ).all()
    return [tuple(str(value) for value in row) for row in rows]


def model_ids(engine) -> list[int]:
    with engine.connect() as conn:
        return [row[0] for row in conn.exec_driver_sql("SELECT id FROM models ORDER BY id")]


@pytest.mark.slow
def test_the_what_if_migration_killed_at_any_statement_keeps_models_and_forecasts(database_url):
    engine = db.create_engine_for(database_url)
    head = db.init_db(engine)
    migrate_down(engine, "0005")
    forecasts_at_0005(engine)
    wanted = stored_forecast_rows(engine)
    assert len(wanted) == 8
    statement = 1
    while upgrade_killed_at(engine, statement):
        assert db.init_db(engine) == head, f"killed before statement {statement}"
        assert schema_differences(engine) == [], f"killed before statement {statement}"
        assert stored_forecast_rows(engine) == wanted, f"killed before statement {statement}"
        assert model_ids(engine) == [1, 2], f"killed before statement {statement}"
        migrate_down(engine, "0005")
        assert stored_forecast_rows(engine) == wanted, f"downgraded after {statement}"
        assert model_ids(engine) == [1, 2], f"downgraded after {statement}"
        statement += 1
    assert statement > 3
    db.init_db(engine)
    with engine.connect() as conn:
        scenarios = conn.exec_driver_sql("SELECT DISTINCT scenario FROM prediction_results").all()
    assert scenarios == [("",)]
    engine.dispose()


def test_downgrading_keeps_models_and_their_base_forecasts(database_url, tmp_path):
    from salesml import predictions, registry

    engine = db.create_engine_for(database_url)
    db.init_db(engine)
    migrate_down(engine, "0005")
    forecasts_at_0005(engine)
    base = stored_forecast_rows(engine)
    db.init_db(engine)
    record = registry.rename_model(engine, 1, "Spring plan")
    stored = predictions.stored_forecasts(engine, model_id=1)
    what_if = stored.assign(target_period=stored["period_start"].dt.strftime("%Y-%m-%d"))
    predictions.store_forecast(engine, what_if, record, scenario="Promo")
    assert len(stored_forecast_rows(engine)) == len(base) + 4
    migrate_down(engine, "0005")
    # The schema before what-ifs keeps one forecast per model, series and period: the base.
    assert stored_forecast_rows(engine) == base
    assert model_ids(engine) == [1, 2]
    engine.dispose()


def test_the_training_runs_table_comes_and_goes_with_its_migration(database_url):
    engine = db.create_engine_for(database_url)
    db.init_db(engine)
    migrate_down(engine, "0010")
    assert "training_runs" not in sa.inspect(engine).get_table_names()
    db.init_db(engine)
    assert "training_runs" in sa.inspect(engine).get_table_names()
    assert schema_differences(engine) == []
    engine.dispose()


# --------------------------------------------------------------------------- 0008: exact names

USERS_AT_0007 = sa.text(
    "INSERT INTO users (id, name, email, role, password_hash, disabled, created_at) "
    "VALUES (:id, :name, :email, 'viewer', NULL, 0, '2024-05-01 10:00:00')"
)
TOKEN_AT_0007 = sa.text(
    "INSERT INTO api_tokens (user_id, prefix, token_sha256, label, created_at) "
    "VALUES (1, 'sml_abcdefgh', 'f00d', '', '2024-05-01 10:00:00')"
)


def users_and_tokens(engine) -> list[tuple]:
    with engine.connect() as conn:
        users = conn.exec_driver_sql("SELECT id, name, email FROM users ORDER BY id").all()
        tokens = conn.exec_driver_sql("SELECT user_id, prefix FROM api_tokens").all()
    return [tuple(row) for row in users] + [tuple(row) for row in tokens]


def test_the_exact_names_migration_killed_at_any_statement_keeps_users_and_tokens(database_url):
    engine = db.create_engine_for(database_url)
    head = db.init_db(engine)
    migrate_down(engine, "0007")
    with engine.begin() as conn:
        conn.execute(USERS_AT_0007, {"id": 1, "name": "ana", "email": "eve@example.com"})
        conn.execute(USERS_AT_0007, {"id": 2, "name": "Bob", "email": None})
        conn.execute(TOKEN_AT_0007)
    wanted = users_and_tokens(engine)
    statement = 1
    while upgrade_killed_at(engine, statement, revision="0008"):
        assert db.init_db(engine) == head, f"killed before statement {statement}"
        assert schema_differences(engine) == [], f"killed before statement {statement}"
        assert users_and_tokens(engine) == wanted, f"killed before statement {statement}"
        migrate_down(engine, "0007")
        assert users_and_tokens(engine) == wanted, f"downgraded after {statement}"
        statement += 1
    assert statement > 1
    db.init_db(engine)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(USERS_AT_0007, {"id": 3, "name": "bob", "email": None})
    with engine.begin() as conn:  # another address, to the letter
        conn.execute(USERS_AT_0007, {"id": 3, "name": "eve", "email": "eve@exámple.com"})
    engine.dispose()


def test_names_that_differ_only_in_case_stop_the_upgrade_with_one_line_naming_them(database_url):
    engine = db.create_engine_for(database_url)
    db.init_db(engine, revision="0007")
    with engine.begin() as conn:
        conn.execute(USERS_AT_0007, {"id": 3, "name": "Ana", "email": None})
        conn.execute(USERS_AT_0007, {"id": 7, "name": "ana", "email": None})
    with pytest.raises(UserNameClashError) as raised:
        db.init_db(engine)
    message = str(raised.value)
    assert "\n" not in message
    assert "'Ana' (id 3)" in message and "'ana' (id 7)" in message
    assert "UPDATE users SET name" in message
    engine.dispose()


def test_the_upgrade_stopped_by_names_differing_in_case_reaches_head_once_one_is_renamed(
    database_url,
):
    engine = db.create_engine_for(database_url)
    head = db.init_db(engine)
    migrate_down(engine, "0007")
    with engine.begin() as conn:
        conn.execute(USERS_AT_0007, {"id": 3, "name": "Ana", "email": None})
        conn.execute(USERS_AT_0007, {"id": 7, "name": "ana", "email": None})
    with pytest.raises(UserNameClashError):
        db.init_db(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE users SET name = 'ana-2' WHERE id = 7")
    assert db.init_db(engine) == head
    assert schema_differences(engine) == []
    engine.dispose()


# --------------------------------------------------------------------------- 0010: batch currency


def test_batches_loaded_before_currencies_get_the_default_currency(database_url, monkeypatch):
    engine = db.create_engine_for(database_url)
    db.init_db(engine, revision="0007")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO ingest_batches (file_name, file_sha256, created_at, rows_read, "
            "rows_loaded, rows_rejected, rows_duplicate, rows_already_present, rows_imputed, "
            "rows_returns, status, mapping) VALUES ('old.csv', 'abc', '2024-05-01 10:00:00', "
            "1, 1, 0, 0, 0, 0, 0, 'loaded', '{}')"
        )
    monkeypatch.setenv("SALESML_CURRENCY", "CHF")
    db.init_db(engine)
    assert [batch.currency for batch in db.list_batches(engine)] == ["CHF"]
    assert not schema_differences(engine)
    migrate_down(engine, "0007")
    assert "currency" not in {c["name"] for c in sa.inspect(engine).get_columns("ingest_batches")}
    engine.dispose()
