"""`python -m salesml`: the command-line contract."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from salesml import db, registry, training
from salesml.cli import data as cli_data
from tests.test_ingest import GOOD, csv_bytes

ROOT = Path(__file__).resolve().parents[1]


def test_a_long_load_reports_its_progress_on_stderr(cli, tmp_path, monkeypatch):
    """A load that outlasts the report interval says how far it is and how long is left."""
    monkeypatch.setattr(cli_data, "PROGRESS_EVERY_SECONDS", 0.0)
    monkeypatch.setattr("salesml.ingest.load.CHUNK_ROWS", 2)
    path = tmp_path / "jan.csv"
    path.write_bytes(csv_bytes(*GOOD))
    status, out, err = cli("ingest", str(path))
    assert status == 0
    lines = [line for line in err.splitlines() if line.startswith("loading:")]
    assert lines[-1].startswith("loading: 100%")
    assert all(
        re.fullmatch(r"loading: \d+%(, [\d,]+ rows/s)?(, about [\d,]+ s left)?", line)
        for line in lines
    )
    assert json.loads(out)["rows_loaded"] == 4


def test_a_short_load_prints_no_progress(cli, tmp_path):
    path = tmp_path / "jan.csv"
    path.write_bytes(csv_bytes(*GOOD))
    _, _, err = cli("ingest", str(path))
    assert "loading:" not in err


def test_ingest_prints_a_json_summary(cli, tmp_path):
    path = tmp_path / "jan.csv"
    path.write_bytes(csv_bytes(*GOOD, "bad,Pen,Office,1,1"))
    status, out, _ = cli("ingest", str(path))
    summary = json.loads(out)
    assert status == 0
    assert {k: summary[k] for k in ("rows_read", "rows_loaded", "rows_rejected")} == {
        "rows_read": 5,
        "rows_loaded": 4,
        "rows_rejected": 1,
    }
    assert summary["batch_id"] == 1


def test_ingest_of_rows_all_loaded_already_succeeds_loading_nothing(cli, tmp_path):
    path = tmp_path / "jan.csv"
    path.write_bytes(csv_bytes(*GOOD))
    cli("ingest", str(path))
    status, out, err = cli("ingest", str(path))
    assert status == 0
    summary = json.loads(out)
    assert (summary["rows_loaded"], summary["rows_already_present"]) == (0, 4)
    assert err.count("\n") == 1
    assert err.startswith("note:") and "already in the database" in err


def test_ingest_exits_non_zero_with_one_line_when_every_row_is_rejected(cli, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes("2024-01-02,Desk Lamp,Office,two,forty"))
    status, out, err = cli("ingest", str(path))
    assert status == 1
    assert json.loads(out)["rows_rejected"] == 1
    assert err.count("\n") == 1
    assert "rejected" in err


def test_ingest_takes_a_mapping_and_a_date_format(cli, tmp_path):
    path = tmp_path / "odd.csv"
    path.write_bytes(b"when;what;n;amount\n03/04/2024;Pen;1;2.00\n05/06/2024;Ink;2;3.00\n")
    status, out, err = cli(
        "ingest",
        str(path),
        "--map",
        "date=when",
        "--map",
        "product_name=what",
        "--map",
        "quantity=n",
        "--date-format",
        "%d/%m/%Y",
    )
    assert status == 0, err
    assert json.loads(out)["rows_loaded"] == 2


def test_a_malformed_map_option_is_a_usage_error(cli, tmp_path):
    with pytest.raises(SystemExit, match="FIELD=COLUMN"):
        cli("ingest", str(tmp_path / "x.csv"), "--map", "date")


def test_a_missing_file_is_a_one_line_error(cli, tmp_path):
    status, _, err = cli("ingest", str(tmp_path / "nope.csv"))
    assert status == 1
    assert "no such file" in err


def test_batches_lists_the_history_and_delete_batch_removes_one(cli, tmp_path):
    path = tmp_path / "jan.csv"
    path.write_bytes(csv_bytes(*GOOD, "bad,Pen,Office,1,1"))
    cli("ingest", str(path))
    status, out, _ = cli("batches", "--json")
    [batch] = [json.loads(line) for line in out.splitlines()]
    assert (status, batch["file_name"], batch["rows_loaded"]) == (0, "jan.csv", 4)
    status, out, _ = cli("rejections", "1")
    assert "not a valid date" in out
    status, out, _ = cli("delete-batch", "1")
    assert (status, "4 sales rows" in out) == (0, True)
    assert cli("batches")[1].strip() == "no batches loaded yet"
    assert cli("delete-batch", "1")[0] == 1


def test_rebuild_rollups_checks_them_and_puts_them_right(cli, database_url, tmp_path):
    path = tmp_path / "jan.csv"
    path.write_bytes(csv_bytes(*GOOD))
    cli("ingest", str(path))
    status, out, _ = cli("rebuild-rollups", "--check")
    assert status == 0 and out.count("agrees with the sales lines") == 2
    engine = db.create_engine_for(database_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE sales_daily_category SET revenue = revenue + 1")
    engine.dispose()
    status, out, err = cli("rebuild-rollups", "--check")
    assert status == 1
    assert "sales_daily_category: 3 totals differ" in out
    assert "rebuild-rollups" in err
    status, out, _ = cli("rebuild-rollups")
    assert status == 0 and "sales_daily_category: 3 rows recomputed" in out
    assert cli("rebuild-rollups", "--check")[0] == 0
    assert "rebuild rollups" in cli("audit")[1]


def test_rejections_prints_raw_values_a_spreadsheet_would_run_as_text(cli, tmp_path):
    path = tmp_path / "jan.csv"
    path.write_bytes(csv_bytes(*GOOD, '"=HYPERLINK(""http://x"")",Pen,Office,1,1'))
    cli("ingest", str(path))
    status, out, _ = cli("rejections", "1")
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert status == 0
    assert (row["row_number"], row["column_name"]) == ("6", "Order Date")
    assert row["raw_value"] == '\'=HYPERLINK("http://x")'


def test_init_db_is_idempotent(cli):
    assert cli("init-db")[0] == 0
    status, out, _ = cli("init-db")
    assert (status, "up to date" in out) == (0, True)


@pytest.mark.slow
def test_the_module_runs_as_a_program(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "salesml",
            "--database-url",
            f"sqlite:///{tmp_path}/x.db",
            "init-db",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------- failures


def python_m_salesml(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-m", "salesml", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})},
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql+pymysql://sales:s3cret@db.example:abc/sales", "is not valid"),
        ("mysql+pymysql://sales:s3cret@127.0.0.1:1/sales", "cannot reach the database"),
        ("mysql+pymysql://sales@127.0.0.1:1/sales?password=s3cret", "cannot reach the database"),
        ("://sales:s3cret@nowhere", "is not valid"),
        ("sqlite:////proc/no/such/place/salesml.db", "cannot create the folder"),
        ("mysql+pymysql://root:s3/cret@127.0.0.1:abc/db", "is not valid"),
        ("root:s3cret@localhost/sales", "is not valid"),
        ("mysql+pymysql://sales:s3cret@@127.0.0.1:1/sales", "cannot reach the database"),
        ("mysql://sales:s3cret@127.0.0.1/sales", "mysql+pymysql://"),
    ],
    ids=[
        "port-not-a-number",
        "unreachable",
        "password-in-query",
        "malformed",
        "unwritable",
        "slash-in-password",
        "no-scheme",
        "at-in-password",
        "driver-not-installed",
    ],
)
def test_a_bad_database_setting_is_one_line_without_the_password(url, message):
    done = python_m_salesml("batches", env={"SALESML_DATABASE_URL": url})
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr
    assert "s3cret" not in done.stderr + done.stdout and "cret@" not in done.stderr


def database_failures():
    import pymysql
    import sqlalchemy as sa

    def failure(kind, code, text):
        return kind("SELECT 1", {}, pymysql.err.MySQLError(code, text))

    return {
        "integrity": failure(sa.exc.IntegrityError, 1062, "Duplicate entry '7' for key 'x'"),
        "data": failure(sa.exc.DataError, 1406, "Data too long for column 'product_name'"),
        "lost-connection": failure(sa.exc.InterfaceError, 0, "(0, '')"),
        "gone-away": failure(sa.exc.OperationalError, 2006, "MySQL server has gone away"),
        "deadlock": failure(
            sa.exc.OperationalError, 1213, "Deadlock found when trying to get lock"
        ),
        "permission": failure(sa.exc.ProgrammingError, 1142, "DELETE command denied to user"),
    }


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("integrity", "refused the change"),
        ("data", "does not fit"),
        ("lost-connection", "lost the connection"),
        ("gone-away", "lost the connection"),
        ("deadlock", "busy with another writer"),
        ("permission", "lacks DELETE"),
    ],
)
def test_every_database_failure_is_one_line_not_a_traceback(cli, monkeypatch, kind, message):
    from salesml import db

    def fail(*args, **kwargs):
        raise database_failures()[kind]

    cli("init-db")
    monkeypatch.setattr(db, "list_batches", fail)
    status, _, err = cli("batches")
    assert status == 1
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err


def test_an_unexpected_failure_is_still_one_line(cli, monkeypatch):
    from salesml import db

    def fail(*args, **kwargs):
        raise RuntimeError("something odd\nwith a second line")

    cli("init-db")
    monkeypatch.setattr(db, "list_batches", fail)
    status, _, err = cli("batches")
    assert status == 1
    assert err == (
        "error: unexpected RuntimeError: something odd (run again with SALESML_DEBUG=1 for the "
        "details, and please report it)\n"
    )


def test_ingest_takes_the_decimal_mark_and_the_encoding(cli, tmp_path):
    path = tmp_path / "eu.csv"
    path.write_bytes(
        "date;product;quantity;revenue\n2024-01-02;Kaffeemühle;1;1,234\n".encode("cp1252")
    )
    status, out, err = cli("ingest", str(path), "--decimal", ",", "--encoding", "cp1252")
    assert status == 0, err
    summary = json.loads(out)
    assert (summary["decimal_mark"], summary["encoding"]) == (",", "cp1252")


@pytest.mark.slow
def test_serve_refuses_an_unreachable_database_in_one_line_before_serving():
    done = python_m_salesml(
        "serve",
        "--port",
        "1",
        env={"SALESML_DATABASE_URL": "mysql+pymysql://sales:s3cret@127.0.0.1:1/sales"},
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: cannot reach the database")
    assert done.stderr.count("\n") == 1 and "s3cret" not in done.stderr


@pytest.mark.slow
def test_demo_loads_the_data_and_saves_a_ready_model(cli, database_url, tmp_path, monkeypatch):
    """`make run` runs `demo --if-empty`: the Forecast page has a model on the first visit."""
    monkeypatch.setenv("SALESML_MODEL_DIR", str(tmp_path / "models"))
    status, out, err = cli("demo", "--if-empty")
    assert status == 0
    assert json.loads(out.splitlines()[0])["rows_loaded"] > 0
    assert "demo model" in err
    models = registry.list_models(db.create_engine_for(database_url))
    assert [(m.level, m.freq, m.horizon) for m in models] == [("category", "M", 12)]
    status, out, _ = cli("demo", "--if-empty")
    assert (status, out.strip()) == (0, "the database already has sales; demo data not loaded")
    assert len(registry.list_models(db.create_engine_for(database_url))) == 1


@pytest.mark.slow
def test_demo_without_a_model(cli, database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SALESML_MODEL_DIR", str(tmp_path / "models"))
    status, _, _ = cli("demo", "--no-model")
    assert status == 0
    assert registry.list_models(db.create_engine_for(database_url)) == []


def test_ingest_records_the_currency_given_else_the_default(cli, tmp_path, monkeypatch):
    path = tmp_path / "jan.csv"
    path.write_bytes(csv_bytes(*GOOD))
    status, out, err = cli("ingest", str(path), "--currency", "gbp")
    assert status == 0, err
    assert json.loads(out)["currency"] == "GBP"
    monkeypatch.setenv("SALESML_CURRENCY", "CHF")
    other = tmp_path / "feb.csv"
    other.write_bytes(csv_bytes("2024-02-01,Pen,Office,1,2.00"))
    status, out, err = cli("ingest", str(other))
    assert status == 0, err
    assert json.loads(out)["currency"] == "CHF"
    status, out, _ = cli("batches", "--json")
    assert [json.loads(line)["currency"] for line in out.splitlines()] == ["CHF", "GBP"]


def test_ingest_refuses_a_currency_that_is_not_one_in_one_line(cli, tmp_path):
    path = tmp_path / "jan.csv"
    path.write_bytes(csv_bytes(*GOOD))
    status, _, err = cli("ingest", str(path), "--currency", "dollars!")
    assert status != 0
    assert "currency code or symbol" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--horizon", 100_000),
        ("--horizon", 0),
        ("--windows", training.WINDOWS_MAX + 1),
        ("--seed", -1),
    ],
)
def test_train_refuses_a_value_beyond_the_training_limits_in_one_line(cli, option, value):
    status, _, err = cli("train", "--horizon", "3", option, str(value))
    assert status == 1
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert f"not {value:,} ({option})" in err


def test_the_train_help_states_the_training_limits():
    import contextlib

    from salesml.cli import build_parser

    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    text = " ".join(out.getvalue().split())
    assert f"{training.HORIZON_MIN} to {training.HORIZON_MAX}" in text
    assert f"{training.WINDOWS_MIN} to {training.WINDOWS_MAX}" in text
