"""Bulk loading: a batch's record, its sales lines (LOAD DATA on MySQL) and its rejections.

These write inside the caller's transaction and never commit by themselves.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import sqlalchemy as sa

from salesml.choices import BATCH_COUNTERS
from salesml.db.schema import IngestBatch, IngestRejection

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

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
