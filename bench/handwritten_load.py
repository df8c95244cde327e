"""The load an analyst writes by hand, the yardstick for `python -m salesml ingest` as a whole.

    .venv/bin/python bench/handwritten_load.py FILE DATABASE_URL

Reads a sales file with pandas (CSV, XLSX or Parquet), computes revenue as quantity times
unit price when there is no revenue column, and appends it with DataFrame.to_sql: no
validation, no duplicate or re-load detection, no rejection report. Time it against the
salesml command with farm-bench, each run on a new database, e.g.

    farm-bench --vs "sh -c 'rm -f /tmp/b.db; exec .venv/bin/python bench/handwritten_load.py \\
        ../shared/data/online_retail.parquet sqlite:////tmp/b.db'" -- \\
        sh -c 'rm -f /tmp/a.db; exec .venv/bin/python -m salesml \\
        --database-url sqlite:////tmp/a.db ingest ../shared/data/online_retail.parquet'
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import sqlalchemy as sa


def read(path: Path) -> pd.DataFrame:
    """The file as pandas reads it by default (the encoding given for CSV, as a user would)."""
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".xlsx":
        return pd.read_excel(path)
    return pd.read_csv(path, sep=None, engine="python", encoding="mac_roman")


def main(file: str, url: str) -> int:
    """Load the file into a sales table and print the row count."""
    frame = read(Path(file))
    if "UnitPrice" in frame.columns:
        frame["Revenue"] = frame["Quantity"] * frame["UnitPrice"]
    engine = sa.create_engine(url)
    frame.to_sql("sales", engine, if_exists="append", index=False, chunksize=10_000)
    print(len(frame))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
