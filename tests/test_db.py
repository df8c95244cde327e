"""The schema: migrations match the models, upgrade in place, and the engine settings."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from salesml import db, rollups
from salesml.config import load_settings
from salesml.errors import NothingToLoadError
from tests.test_ingest import GOOD, csv_bytes

OTHER = ["2024-02-01,Kettle,Kitchen,-1,-25.00", "2024-03-15,Mug,Kitchen,4,12.40"]


def test_the_migrations_build_exactly_the_models_schema(engine):
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), db.Base.metadata) == []


def test_init_db_upgrades_an_existing_database_in_place_and_keeps_the_data(database_url):
    from salesml.ingest import ingest_file

    engine = db.create_engine_for(database_url)
    assert db.init_db(engine, revision="0001") == "0001"
    ingest_file(engine, csv_bytes(*GOOD))
    head = db.init_db(engine)
    assert head != "0001"
    assert db.init_db(engine) == head
    assert db.overview(engine).rows == 4
    assert "model_id" in {c["name"] for c in sa.inspect(engine).get_columns("prediction_results")}
    engine.dispose()


def test_the_rollups_migrate_down_and_up_again_with_every_line_loaded_meanwhile(database_url):
    from alembic import command
    from alembic.config import Config

    from salesml.ingest import ingest_file

    engine = db.create_engine_for(database_url)
    db.init_db(engine)
    ingest_file(engine, csv_bytes(*GOOD))

    def indexes() -> set[str]:
        return {index["name"] for index in sa.inspect(engine).get_indexes("sales_data")}

    covering = {"ix_sales_data_date_totals", "ix_sales_data_category_date_totals"}
    assert "uq_sales_data_date_row_key" in indexes() and not covering & indexes()
    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0006")
    assert covering <= indexes() and "uq_sales_data_date_row_key" not in indexes()
    assert not sa.inspect(engine).has_table("sales_daily_category")
    with pytest.raises(NothingToLoadError):  # row_key alone is unique again
        ingest_file(engine, csv_bytes(*GOOD))
    ingest_file(engine, csv_bytes(*OTHER))  # loaded while the schema has no rollups
    db.init_db(engine)
    assert covering.isdisjoint(indexes()) and "uq_sales_data_date_row_key" in indexes()
    with pytest.raises(NothingToLoadError):
        ingest_file(engine, csv_bytes(*GOOD, *OTHER))
    assert rollups.differences(engine) == {"sales_daily_category": 0, "sales_monthly_product": 0}
    assert db.overview(engine).rows == len(GOOD) + len(OTHER)
    engine.dispose()


def test_the_seed_schema_columns_are_not_null(engine):
    columns = {c["name"]: c for c in sa.inspect(engine).get_columns("sales_data")}
    for name in ("transaction_id", "date", "product_name", "quantity", "revenue", "category"):
        assert columns[name]["nullable"] is False


def test_the_default_database_is_a_sqlite_file_under_data(tmp_path):
    settings = load_settings({"SALESML_DATA_DIR": str(tmp_path / "data")})
    assert settings.is_default_sqlite
    engine = db.create_engine_for(settings.database_url)
    db.init_db(engine)
    assert (tmp_path / "data" / "salesml.db").is_file()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_the_database_url_comes_from_the_environment_before_secrets(tmp_path):
    env = {"SALESML_DATABASE_URL": "mysql+pymysql://a@h/x", "SALESML_DATA_DIR": str(tmp_path)}
    secrets = {"salesml": {"database_url": "mysql+pymysql://b@h/y"}}
    assert load_settings(env, secrets=secrets).database_url == "mysql+pymysql://a@h/x"
    assert load_settings({}, secrets=secrets).database_url == "mysql+pymysql://b@h/y"


def test_an_unreachable_database_is_a_clear_error():
    import pytest

    from salesml.errors import DatabaseUnavailableError

    engine = db.create_engine_for("mysql+pymysql://nobody@127.0.0.1:1/none")
    with pytest.raises(DatabaseUnavailableError, match="cannot reach the database"):
        db.init_db(engine)


def test_an_unsupported_database_url_is_a_clear_error():
    import pytest

    from salesml.errors import ConfigError

    with pytest.raises(ConfigError, match="not supported"):
        db.create_engine_for("oracle://scott@db/x")


def test_the_schema_revision_is_the_migration_applied_and_empty_before_any(database_url):
    engine = db.create_engine_for(database_url)
    try:
        assert db.schema_revision(engine) == ""
        applied = db.init_db(engine)
        assert applied and db.schema_revision(engine) == applied
    finally:
        engine.dispose()


def test_a_buffer_pool_far_smaller_than_the_sales_table_is_named_with_the_size_to_set():
    advice = db.buffer_pool_advice(128 * 2**20, 3 * 2**30 + 1)
    assert advice is not None
    assert "innodb_buffer_pool_size (128 MiB)" in advice
    assert "(3,072 MiB with its indexes)" in advice
    assert "set it to 4 GiB or more" in advice
    assert db.buffer_pool_advice(128 * 2**20, 512 * 2**20) is None


def test_an_empty_or_sqlite_database_needs_no_cache_advice(engine):
    assert db.cache_advice(engine) is None
