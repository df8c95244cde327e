"""Benchmark salesml at scale: loads and Explorer queries at 1M, 5M or 10M sales lines.

    .venv/bin/python bench/scale.py [--rows 1000000,5000000] [--backends sqlite,mysql]
                                    [--mysql-url URL] [--buffer-pool-mb MB]

Generates deterministic synthetic sales (5,000 products in 20 categories over four years,
with yearly seasonality, price differences and about 1.5% returns) as a CSV file, then for
each backend and size, in the same run:

- the load through `python -m salesml ingest` as a whole process, against the baseline a
  user would otherwise pick: `LOAD DATA LOCAL INFILE` into a bare table (MariaDB) or
  `read_csv` + `to_sql` into a bare table (SQLite), each in a process of its own, with
  wall seconds, rows/s and peak memory;
- each Explorer query behind a filter change (the per-(day, category) summary and the top
  products) for all sales, one category, one product, one year and the last 30 days,
  against the bare `GROUP BY date, category` on the raw table;
- building the training series at category and at product level (monthly).

The MySQL database in the URL is dropped and created again for each size: its name must
contain "bench".
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# `make bench` runs this file as a script, so the project root is not on sys.path by itself.
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from salesml import analytics, db  # noqa: E402
from salesml.analytics import Filters  # noqa: E402
from salesml.series import load_series  # noqa: E402

PRODUCTS, CATEGORIES = 5_000, 20
FIRST_DAY, DAYS = dt.date(2021, 1, 1), 4 * 365 + 1
RETURN_SHARE = 0.015
DEFAULT_MYSQL_URL = "mysql+pymysql://root@127.0.0.1:3306/salesml_bench_scale"
BARE_TABLE = "bare_sales"
QUERY_REPEAT = 3

SQLITE_BASELINE = """
import sys, pandas as pd, sqlalchemy as sa
frame = pd.read_csv(sys.argv[2])
engine = sa.create_engine(sys.argv[1])
frame.to_sql("bare_sales", engine, if_exists="replace", index=False, chunksize=50_000)
"""
MYSQL_BASELINE = """
import sys, pymysql
connection = pymysql.connect(host="127.0.0.1", port=3306, user="root", database=sys.argv[1],
                             local_infile=True, autocommit=True)
with connection.cursor() as cursor:
    cursor.execute("DROP TABLE IF EXISTS bare_sales")
    cursor.execute(
        "CREATE TABLE bare_sales (`Date` DATE, Product VARCHAR(255), Category VARCHAR(255),"
        " Quantity INT, Revenue DECIMAL(12, 2))"
    )
    cursor.execute(
        "LOAD DATA LOCAL INFILE %s INTO TABLE bare_sales FIELDS TERMINATED BY ','"
        " OPTIONALLY ENCLOSED BY '\\"' LINES TERMINATED BY '\\n' IGNORE 1 LINES",
        (sys.argv[2],),
    )
"""


def generate(rows: int, path: Path, seed: int = 11) -> None:
    """Write `rows` synthetic sales lines as CSV: Date, Product, Category, Quantity, Revenue."""
    rng = np.random.default_rng(seed)
    product = rng.integers(0, PRODUCTS, rows)
    category = product % CATEGORIES
    price = np.round(rng.lognormal(3.0, 0.8, PRODUCTS), 2)
    day = rng.integers(0, DAYS, rows)
    season = 1 + 0.3 * np.sin(2 * np.pi * (day % 365) / 365 + category)
    quantity = rng.poisson(2.0 * season).astype(np.int64) + 1
    returned = rng.random(rows) < RETURN_SHARE
    quantity[returned] = -quantity[returned]
    # A few cents of noise per line, so that equal lines (loaded once by salesml) stay rare.
    revenue = np.round(quantity * price[product] * (1 + rng.normal(0, 0.02, rows)), 2)
    frame = pd.DataFrame(
        {
            "Date": (pd.Timestamp(FIRST_DAY) + pd.to_timedelta(day, unit="D")).strftime("%Y-%m-%d"),
            "Product": np.char.add("Product ", (product + 1).astype(str)),
            "Category": np.char.add("Category ", (category + 1).astype(str)),
            "Quantity": quantity,
            "Revenue": revenue,
        }
    )
    frame.to_csv(path, index=False, lineterminator="\n")


# Linux counts a forked child's peak memory from its parent's at the fork: the command is
# started from this small launcher, so its peak is its own, not this process's.
LAUNCHER = """
import resource, subprocess, sys
status = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(status)
"""


def run_process(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run a command to its end: wall seconds and its peak resident memory in MiB."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-S", "-c", LAUNCHER, *command],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{command[:4]} failed:\n{done.stderr[-2000:]}")
    return seconds, int(done.stdout.split()[-1]) / 1024


def median_ms(action: Callable[[], object]) -> float:
    """The median wall milliseconds of QUERY_REPEAT runs of an action."""
    times = []
    for _ in range(QUERY_REPEAT):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def fresh_mysql(url: str) -> None:
    """Drop and create the bench database named in the URL."""
    name = sa.engine.make_url(url).database
    if not name or "bench" not in name:
        raise SystemExit(f"the MySQL database must be named *bench* (not {name!r})")
    server = sa.create_engine(sa.engine.make_url(url).set(database="test"))
    with server.begin() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    server.dispose()


def explorer_queries(engine: sa.Engine, first: dt.date, last: dt.date) -> dict[str, float]:
    """Milliseconds of the Explorer's queries for each kind of filter change, and the bare
    GROUP BY date, category on the raw table."""
    figures: dict[str, float] = {}
    catalogue = analytics.catalogue(engine)
    category = catalogue.categories()[0]
    product = catalogue.products([category])[0]
    year = dt.date(last.year, 1, 1)
    for label, filters in (
        ("all sales", Filters(first, last)),
        ("one category", Filters(first, last, [category])),
        ("one product", Filters(first, last, [category], [product])),
        ("one year", Filters(year, last)),
        # Days of a month cut by the range are summed from the lines, not the monthly rollup.
        ("last 30 days", Filters(last - dt.timedelta(days=29), last)),
    ):
        figures[label] = median_ms(
            lambda f=filters: (analytics.summarise(engine, f), analytics.top_products(engine, f))
        )
    bare = f"SELECT Date, Category, SUM(Revenue) FROM {BARE_TABLE} GROUP BY Date, Category"
    with engine.connect() as conn:
        figures["baseline: bare GROUP BY"] = median_ms(lambda: conn.exec_driver_sql(bare).all())
    return figures


def series_seconds(engine: sa.Engine) -> dict[str, float]:
    """Seconds to build the monthly training series at category and at product level."""
    figures = {}
    for level in ("category", "product"):
        start = time.perf_counter()
        found = load_series(engine, level=level, freq="M", target="revenue")
        figures[f"{level} level ({len(found.ids):,} series)"] = time.perf_counter() - start
    return figures


def bench_backend(backend: str, rows: int, csv: Path, url: str) -> list[str]:
    """Load the file both ways and time the queries; the report lines of one backend."""
    python = sys.executable
    # 10M lines make a 415 MB file, over the default upload limit.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "SALESML_MAX_UPLOAD_MB": "4000"}
    load_s, load_mib = run_process(
        [python, "-m", "salesml", "--database-url", url, "ingest", str(csv)], env=env
    )
    if backend == "sqlite":
        base_s, base_mib = run_process([python, "-c", SQLITE_BASELINE, url, str(csv)], env=env)
        base_label = "read_csv + to_sql, bare table"
    else:
        name = sa.engine.make_url(url).database
        base_s, base_mib = run_process([python, "-c", MYSQL_BASELINE, name, str(csv)], env=env)
        base_label = "LOAD DATA into a bare table"
    engine = db.create_engine_for(url)
    try:
        if backend == "mysql":
            with engine.connect() as conn:
                pool = conn.exec_driver_sql("SELECT @@innodb_buffer_pool_size").scalar_one()
            print(f"  MariaDB innodb_buffer_pool_size {int(pool) / 2**20:,.0f} MiB")
        overview = db.overview(engine)
        queries = explorer_queries(engine, overview.first_date, overview.last_date)
        series = series_seconds(engine)
    finally:
        engine.dispose()
    lines = [
        f"{backend}, {rows:,} lines ({overview.rows:,} loaded)",
        f"  {'load: python -m salesml ingest':<44} {load_s:>8.1f} s {rows / load_s:>10,.0f} rows/s"
        f" {load_mib:>7,.0f} MiB",
        f"  {'baseline: ' + base_label:<44} {base_s:>8.1f} s {rows / base_s:>10,.0f} rows/s"
        f" {base_mib:>7,.0f} MiB",
        f"  {'load / baseline':<44} {load_s / base_s:>8.2f} x",
    ]
    lines += [f"  Explorer filter change, {k:<26} {v:>9,.0f} ms" for k, v in queries.items()]
    lines += [f"  series, {k:<43} {v:>6.1f} s" for k, v in series.items()]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000000", help="comma-separated sizes")
    parser.add_argument("--backends", default="sqlite,mysql", help="sqlite, mysql or both")
    parser.add_argument("--mysql-url", default=DEFAULT_MYSQL_URL)
    parser.add_argument(
        "--buffer-pool-mb",
        type=int,
        help="set MariaDB's innodb_buffer_pool_size for the run (SET GLOBAL), then restore it",
    )
    args = parser.parse_args()
    if args.buffer_pool_mb and "mysql" in args.backends:
        with buffer_pool(args.mysql_url, args.buffer_pool_mb * 2**20):
            run(args)
    else:
        run(args)


@contextmanager
def buffer_pool(url: str, size: int) -> Iterator[None]:
    """MariaDB's buffer pool resized for the block, then back to its size before."""
    server = sa.create_engine(sa.engine.make_url(url).set(database="test"))
    with server.connect() as conn:
        before = conn.exec_driver_sql("SELECT @@innodb_buffer_pool_size").scalar_one()
        conn.exec_driver_sql(f"SET GLOBAL innodb_buffer_pool_size = {int(size)}")
    try:
        yield
    finally:
        with server.connect() as conn:
            conn.exec_driver_sql(f"SET GLOBAL innodb_buffer_pool_size = {int(before)}")
        server.dispose()


def run(args: argparse.Namespace) -> None:
    """Every size on every backend asked for."""
    print(
        f"salesml scale benchmark: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}"
    )
    for rows in (int(n) for n in args.rows.split(",")):
        with tempfile.TemporaryDirectory(prefix="salesml-scale-") as tmp:
            csv = Path(tmp) / f"sales_{rows}.csv"
            start = time.perf_counter()
            generate(rows, csv)
            print(
                f"generated {rows:,} lines in {time.perf_counter() - start:.1f} s "
                f"({csv.stat().st_size / 2**20:,.0f} MiB)",
                flush=True,
            )
            for backend in args.backends.split(","):
                if backend == "sqlite":
                    url = f"sqlite:///{Path(tmp) / 'scale.db'}"
                else:
                    fresh_mysql(args.mysql_url)
                    url = args.mysql_url
                for line in bench_backend(backend, rows, csv, url):
                    print(line, flush=True)


if __name__ == "__main__":
    main()
