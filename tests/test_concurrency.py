"""Several processes sharing one database: loads and schema set-up take turns, none fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from salesml import db, rollups

ROOT = Path(__file__).resolve().parents[1]


def sales_file(path: Path, first: int, last: int) -> Path:
    """Sales lines numbered first..last-1 (the same number is the same sale in every file)."""
    numbers = pd.RangeIndex(first, last)
    pd.DataFrame(
        {
            "Order Date": (
                pd.Timestamp("2024-01-01") + pd.to_timedelta(numbers % 365, "D")
            ).strftime("%Y-%m-%d"),
            "Product Name": [f"Product {n % 97}" for n in numbers],
            "Category": [f"Category {n % 7}" for n in numbers],
            "Quantity": numbers % 5 + 1,
            "Sales": [f"{n}.{n % 100:02d}" for n in numbers],
        }
    ).to_csv(path, index=False)
    return path


def run_together(*commands: list[str]) -> list[subprocess.CompletedProcess]:
    """Start every command at once and wait for all of them."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "salesml", *command],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    results = []
    for command, process in zip(commands, processes, strict=True):
        out, err = process.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(command, process.returncode, out, err))
    return results


@pytest.mark.slow
def test_concurrent_loads_of_overlapping_files_end_with_the_rows_of_one_after_another(
    database_url, tmp_path
):
    # Large enough that the loads overlap in time (a few thousand lines ran one after another).
    ranges = [(0, 100_000), (50_000, 150_000), (100_000, 200_000), (0, 200_000)]
    files = [sales_file(tmp_path / f"part{i}.csv", *r) for i, r in enumerate(ranges)]
    assert run_together(["--database-url", database_url, "init-db"])[0].returncode == 0
    results = run_together(*(["--database-url", database_url, "ingest", str(f)] for f in files))
    for result in results:
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode == 0 or "nothing new to load" in result.stderr, result.stderr
    engine = db.create_engine_for(database_url)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT COUNT(*), SUM(revenue) FROM sales_data").one()
        loaded = conn.exec_driver_sql("SELECT SUM(rows_loaded) FROM ingest_batches").scalar()
        kept = conn.exec_driver_sql(
            "SELECT SUM(line_count), SUM(revenue) FROM sales_daily_category"
        ).one()
    differences = rollups.differences(engine)
    engine.dispose()
    expected = sum(float(f"{n}.{n % 100:02d}") for n in range(200_000))
    assert (rows[0], loaded) == (200_000, 200_000)
    assert float(rows[1]) == pytest.approx(expected, abs=0.01)
    assert kept[0] == 200_000 and float(kept[1]) == pytest.approx(expected, abs=0.01)
    assert differences == {"sales_daily_category": 0, "sales_monthly_product": 0}


@pytest.mark.slow
def test_loads_and_deletes_at_once_keep_the_rollups_equal_to_the_lines(database_url, tmp_path):
    files = [
        sales_file(tmp_path / f"part{i}.csv", i * 20_000, i * 20_000 + 40_000) for i in range(3)
    ]
    url = ["--database-url", database_url]
    run_together([*url, "init-db"])
    assert run_together([*url, "ingest", str(files[0])])[0].returncode == 0
    results = run_together(
        [*url, "ingest", str(files[1])],
        [*url, "delete-batch", "1"],
        [*url, "ingest", str(files[2])],
        [*url, "ingest", str(files[0])],
    )
    for result in results:
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode == 0 or "nothing new to load" in result.stderr, result.stderr
    engine = db.create_engine_for(database_url)
    differences = rollups.differences(engine)
    engine.dispose()
    assert differences == {"sales_daily_category": 0, "sales_monthly_product": 0}


@pytest.mark.slow
def test_init_db_run_by_four_processes_at_once_on_an_empty_database(database_url):
    results = run_together(*(["--database-url", database_url, "init-db"] for _ in range(4)))
    assert [r.returncode for r in results] == [0, 0, 0, 0], [r.stderr for r in results]
    engine = db.create_engine_for(database_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM alembic_version")).scalar() == 1
    engine.dispose()
