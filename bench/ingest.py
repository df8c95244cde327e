"""Benchmark the ingest pipeline against pandas.to_sql and LOAD DATA, on SQLite and MariaDB.

    .venv/bin/python bench/ingest.py [--repeat N] [--mysql-url URL]

Loads ../shared/data/online_retail.parquet (541,909 invoice lines) with salesml's pipeline and
with baselines measured in the same run, and prints seconds, rows/s, peak memory and the
ratios the ingest targets are stated in. Every measurement runs in its own process on an
empty, freshly migrated database, so a peak RSS belongs to that measurement alone.

The MySQL database named in the URL is emptied (every table dropped) before each
measurement: point it at a database that holds nothing else (its name must contain "bench").
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# `make bench` runs this file as a script, so the project root is not on sys.path by itself.
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

import pandas as pd  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402

from salesml import db  # noqa: E402
from salesml.ingest import (  # noqa: E402
    IngestOptions,
    detect_mapping,
    ingest_file,
    load_prepared,
    prepare,
)
from salesml.ingest.reading import read_table  # noqa: E402

DATA_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "online_retail.parquet"
EXPECTED_ROWS = 541_909
DEFAULT_MYSQL_URL = "mysql+pymysql://root@127.0.0.1:3306/salesml_bench"
BARE_TABLE = "bench_bare_sales"
# Databases the benchmark must never empty, whatever URL it is given.
PROTECTED_DATABASES = {"test", "mysql", "information_schema", "performance_schema", "sys"}
# The statement and file format salesml itself uses for its MySQL bulk path.
LOAD_DATA_SQL = db.LOAD_DATA_SQL.format(table="sales_data", columns=", ".join(db.SALES_COLUMNS))

# The targets: pipeline rows/s over to_sql rows/s, per backend; over LOAD DATA on MySQL;
# and the pipeline's peak resident memory.
TO_SQL_TARGET = {"sqlite": 1.0, "mysql": 2.0}
LOAD_DATA_TARGET = 0.5
MEMORY_TARGET_MB = 1.5 * 1024

METHODS = {
    "pipeline": "salesml ingest_file (read+validate+clean+load)",
    "to_sql": "baseline: pandas to_sql into sales_data",
    "to_sql_bare": "secondary: to_sql into a new bare table",
    "load_data": "ceiling: LOAD DATA LOCAL INFILE",
}


# --------------------------------------------------------------------------- child side
# Each measurement runs in a child process and prints one JSON line.


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (ru_maxrss is in KB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def stopwatch(result: dict[str, object]) -> Iterator[None]:
    """Record the memory before and the wall-clock seconds of the block into result."""
    result["start_mb"] = peak_rss_mb()
    start = time.perf_counter()
    yield
    result["seconds"] = time.perf_counter() - start


def empty_database(url: str) -> Engine:
    """An engine on an empty database migrated to the newest schema."""
    engine = db.create_engine_for(url)
    if engine.dialect.name == "mysql":
        drop_all_tables(engine)
    db.init_db(engine)
    return engine


def drop_all_tables(engine: Engine) -> None:
    """Drop every table of the engine's MySQL database (the bench database only)."""
    with engine.begin() as conn:
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
        for (table,) in conn.exec_driver_sql("SHOW TABLES").all():
            conn.exec_driver_sql(f"DROP TABLE `{table}`")
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")


def count_rows(engine: Engine, table: str) -> int:
    """The number of rows in one of our own tables."""
    with engine.connect() as conn:
        return int(conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one())


def prepared_rows(engine: Engine) -> tuple[pd.DataFrame, int]:
    """The rows the pipeline would load, and the id of a new ingest_batches row for them."""
    table = read_table(DATA_FILE)
    mapping = detect_mapping(list(table.frame.columns))
    rows = prepare(table, mapping, IngestOptions()).rows
    with engine.begin() as conn:
        batch_id = db.insert_batch(conn, file_name=table.name, sha256=table.sha256, mapping="{}")
    return rows, batch_id


def measure_pipeline(engine: Engine) -> dict[str, object]:
    """The full pipeline: read, validate, clean and load the file as one batch."""
    result: dict[str, object] = {}
    with stopwatch(result):
        summary = ingest_file(engine, DATA_FILE)
    result["written"] = summary.rows_loaded
    result["in_table"] = count_rows(engine, "sales_data")
    result["summary"] = {
        key: getattr(summary, f"rows_{key}")
        for key in ("read", "loaded", "rejected", "duplicate", "already_present")
    }
    return result


def measure_to_sql(engine: Engine) -> dict[str, object]:
    """pandas to_sql of the prepared rows into the migrated sales_data table."""
    rows, batch_id = prepared_rows(engine)
    result: dict[str, object] = {"written": len(rows)}
    with stopwatch(result):
        rows.assign(batch_id=batch_id).to_sql("sales_data", engine, if_exists="append", index=False)
    result["in_table"] = count_rows(engine, "sales_data")
    return result


def measure_to_sql_bare(engine: Engine) -> dict[str, object]:
    """pandas to_sql of the prepared rows into a new table with pandas' default types."""
    rows, batch_id = prepared_rows(engine)
    result: dict[str, object] = {"written": len(rows)}
    with stopwatch(result):
        rows.assign(batch_id=batch_id).to_sql(BARE_TABLE, engine, if_exists="replace", index=False)
    result["in_table"] = count_rows(engine, BARE_TABLE)
    return result


def measure_load_data(engine: Engine) -> dict[str, object]:
    """LOAD DATA LOCAL INFILE of the prepared rows: the server's own bulk-load ceiling."""
    rows, batch_id = prepared_rows(engine)
    result: dict[str, object] = {"written": len(rows)}
    with tempfile.TemporaryDirectory(prefix="salesml-bench-") as tmp:
        path = Path(tmp) / "sales.tsv"
        db.write_load_file(rows, batch_id, path)
        del rows
        with stopwatch(result), engine.begin() as conn:
            conn.exec_driver_sql(LOAD_DATA_SQL, (str(path),))
    result["in_table"] = count_rows(engine, "sales_data")
    return result


def measure_stages(engine: Engine) -> dict[str, object]:
    """The pipeline's stages timed one by one, to show where its time goes."""
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    table = read_table(DATA_FILE)
    seconds["read"] = time.perf_counter() - start
    start = time.perf_counter()
    prepared = prepare(table, detect_mapping(list(table.frame.columns)), IngestOptions())
    seconds["validate+clean"] = time.perf_counter() - start
    start = time.perf_counter()
    load_prepared(engine, prepared)
    seconds["load"] = time.perf_counter() - start
    return {"stages": seconds}


MEASUREMENTS: dict[str, Callable[[Engine], dict[str, object]]] = {
    "pipeline": measure_pipeline,
    "to_sql": measure_to_sql,
    "to_sql_bare": measure_to_sql_bare,
    "load_data": measure_load_data,
    "stages": measure_stages,
}


def run_one(what: str, url: str) -> None:
    """Child entry point: one measurement on an empty database, printed as a JSON line."""
    engine = empty_database(url)
    try:
        result = MEASUREMENTS[what](engine)
    finally:
        engine.dispose()
    result["peak_mb"] = peak_rss_mb()
    print(json.dumps(result))


# --------------------------------------------------------------------------- parent side


@dataclass
class Figures:
    """The best of N runs of one method on one backend."""

    method: str
    seconds: float = float("inf")
    written: int = 0
    in_table: list[int] = field(default_factory=list)
    start_mb: float = 0.0
    peak_mb: float = 0.0
    summary: dict[str, int] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        """Rows written to the table per second of the best run."""
        return self.written / self.seconds

    def add(self, run: dict) -> None:
        """Fold one run in: the fastest time, the highest memory, every table count."""
        self.seconds = min(self.seconds, run["seconds"])
        self.written = run["written"]
        self.in_table.append(run["in_table"])
        self.start_mb = max(self.start_mb, run["start_mb"])
        self.peak_mb = max(self.peak_mb, run["peak_mb"])
        self.summary = run.get("summary", {})


def run_child(what: str, url: str) -> dict:
    """Run one measurement in a fresh Python process and return its JSON result."""
    command = [sys.executable, str(Path(__file__).resolve()), "--one", what, "--url", url]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(
            f"measurement {what!r} failed (exit {completed.returncode}):\n{completed.stderr}"
        )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def best_of(what: str, urls: Callable[[], str], repeat: int) -> Figures:
    """Run a measurement `repeat` times, each on a new empty database."""
    figures = Figures(what)
    for attempt in range(1, repeat + 1):
        run = run_child(what, urls())
        figures.add(run)
        note(f"  {what} run {attempt}/{repeat}: {run['seconds']:.2f} s, {run['peak_mb']:.0f} MB")
    return figures


def note(message: str) -> None:
    """Progress on stderr, so stdout holds only the report."""
    print(message, file=sys.stderr, flush=True)


def sqlite_urls(directory: Path) -> Callable[[], str]:
    """A factory of URLs of new SQLite files, removing the previous run's files first."""
    counter = itertools.count()

    def next_url() -> str:
        for old in directory.glob("run-*"):
            old.unlink()
        return f"sqlite:///{directory / f'run-{next(counter)}.db'}"

    return next_url


@dataclass
class BackendResults:
    """Every method's figures on one backend, and one run's pipeline stage times."""

    figures: dict[str, Figures]
    stages: dict[str, float]


def bench_backend(backend: str, urls: Callable[[], str], repeat: int) -> BackendResults:
    """Every measurement of one backend, best of `repeat` each."""
    methods = ["pipeline", "to_sql", "to_sql_bare"] + (["load_data"] if backend == "mysql" else [])
    figures = {what: best_of(what, urls, repeat) for what in methods}
    return BackendResults(figures, run_child("stages", urls())["stages"])


# --------------------------------------------------------------------------- MySQL setup


def mysql_database(url: str) -> tuple[str | None, str]:
    """Create the bench database if missing: (server version, "") or (None, why not)."""
    parsed = make_url(url)
    name = parsed.database or ""
    if name.lower() in PROTECTED_DATABASES or "bench" not in name.lower():
        return None, f"refusing database {name!r}: the benchmark drops its tables"
    if not re.fullmatch(r"\w+", name):
        return None, f"database name {name!r} is not a plain identifier"
    # URL.set() ignores None, so drop the database with the named tuple's own _replace.
    server_url = parsed._replace(database=None)
    server = db.create_engine_for(server_url.render_as_string(hide_password=False))
    try:
        with server.begin() as conn:
            version = conn.exec_driver_sql("SELECT VERSION()").scalar_one()
            conn.exec_driver_sql(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")
    except sa.exc.SQLAlchemyError as exc:
        return None, str(getattr(exc, "orig", exc)).splitlines()[0]
    finally:
        server.dispose()
    return str(version), ""


# --------------------------------------------------------------------------- report


def environment(mysql_version: str | None) -> list[str]:
    """A few lines on the machine and the software measured."""
    cpus = f"{os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable)"
    model = next(
        (line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")),
        "unknown model",
    )
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    names = ("pandas", "SQLAlchemy", "pyarrow", "PyMySQL")
    packages = ", ".join(f"{name} {metadata.version(name)}" for name in names)
    return [
        f"machine:  {cpus}, {model}, {platform.system()} {platform.release()}; load {load}",
        f"python:   {platform.python_version()}; {packages}",
        f"sqlite:   {sqlite3.sqlite_version}",
        f"mariadb:  {mysql_version or 'not reachable'}",
    ]


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def verdict(ok: bool) -> str:
    """The word the targets are reported in."""
    return "meets" if ok else "misses"


def method_table(results: dict[str, Figures]) -> list[str]:
    """One line per method: seconds, rows/s, memory before the timed part and at peak."""
    lines = [f"  {'method':<50} {'seconds':>8} {'rows/s':>10} {'start MB':>9} {'peak MB':>8}"]
    for what, label in METHODS.items():
        if what in results:
            f = results[what]
            lines.append(
                f"  {label:<50} {f.seconds:>8.2f} {f.rows_per_second:>10,.0f} "
                f"{f.start_mb:>9.0f} {f.peak_mb:>8.0f}"
            )
    return lines


def row_checks(results: dict[str, Figures]) -> list[str]:
    """Whether every row read is accounted for and every table holds what was written."""
    pipe = results["pipeline"]
    s = pipe.summary
    total = s["loaded"] + s["rejected"] + s["duplicate"] + s["already_present"]
    ok = total == s["read"] == EXPECTED_ROWS
    lines = [
        f"  rows: read {s['read']:,} = loaded {s['loaded']:,} + rejected {s['rejected']:,} "
        f"+ duplicate {s['duplicate']:,} + already present {s['already_present']:,} "
        f"= {total:,}; expected {EXPECTED_ROWS:,}: {'ok' if ok else 'MISMATCH'}"
    ]
    for what, f in results.items():
        ok = all(n == f.written == s["loaded"] for n in f.in_table)
        counts = ", ".join(f"{n:,}" for n in f.in_table)
        lines.append(
            f"  table rows after {what}: {counts} (wrote {f.written:,}): "
            f"{'ok' if ok else 'MISMATCH'}"
        )
    return lines


def target_lines(backend: str, results: dict[str, Figures]) -> list[str]:
    """The ratios the targets are stated in, each with meets / misses."""
    pipe = results["pipeline"]
    ratio = pipe.rows_per_second / results["to_sql"].rows_per_second
    goal = TO_SQL_TARGET[backend]
    lines = [
        f"    {'pipeline rows/s ÷ to_sql rows/s':<36} {ratio:>7.2f}×  "
        f"{f'target ≥ {goal:g}×':<18} {verdict(ratio >= goal)}"
    ]
    if "load_data" in results:
        ratio = pipe.rows_per_second / results["load_data"].rows_per_second
        lines.append(
            f"    {'pipeline rows/s ÷ LOAD DATA rows/s':<36} {ratio:>7.2f}×  "
            f"{f'target ≥ {LOAD_DATA_TARGET:g}×':<18} {verdict(ratio >= LOAD_DATA_TARGET)}"
        )
    lines.append(
        f"    {'pipeline peak RSS':<36} {pipe.peak_mb:>5.0f} MB  "
        f"{f'target < {MEMORY_TARGET_MB:,.0f} MB':<18} {verdict(pipe.peak_mb < MEMORY_TARGET_MB)}"
    )
    return lines


def report(title: str, backend: str, results: BackendResults) -> None:
    """Print one backend's table, row checks, stage times and targets."""
    stages = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in results.stages.items())
    print(f"\n{title}")
    print("\n".join(method_table(results.figures)))
    print(f"  pipeline stages (one extra run): {stages}")
    print("\n".join(row_checks(results.figures)))
    print("  targets:")
    print("\n".join(target_lines(backend, results.figures)))


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs (default 1)")
    parser.add_argument(
        "--mysql-url",
        default=os.environ.get("SALESML_BENCH_MYSQL_URL", DEFAULT_MYSQL_URL),
        help="bench database, emptied before each run (env SALESML_BENCH_MYSQL_URL)",
    )
    parser.add_argument("--one", choices=sorted(MEASUREMENTS), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat must be 1 or more, not {args.repeat}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run every measurement on SQLite, then on MySQL when it is reachable, and report."""
    args = parse_args(argv)
    if args.one:
        run_one(args.one, args.url)
        return 0
    mysql_version, why_not = mysql_database(args.mysql_url)
    print(f"salesml ingest benchmark: {DATA_FILE.name} ({EXPECTED_ROWS:,} rows)")
    print("\n".join(environment(mysql_version)))
    print(
        f"best of {args.repeat} run(s) per method, each in a new process on an empty migrated "
        "database;\nrows/s counts the rows written to the table (the same rows for every method); "
        "peak MB is the process's\npeak RSS (for the baselines it includes their untimed "
        "preparation), start MB the RSS before the timed part"
    )
    with tempfile.TemporaryDirectory(prefix="salesml-bench-") as tmp:
        results = bench_backend("sqlite", sqlite_urls(Path(tmp)), args.repeat)
    report(f"SQLite {sqlite3.sqlite_version} (a new file per run)", "sqlite", results)
    shown = make_url(args.mysql_url).render_as_string(hide_password=True)
    if mysql_version is None:
        print(f"\nMySQL skipped: {shown} is not usable: {why_not}")
        return 0
    results = bench_backend("mysql", lambda: args.mysql_url, args.repeat)
    report(f"MariaDB {mysql_version} ({shown})", "mysql", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
