"""A large file's lines on their way into sales_data: kept in temporary files, then inserted
a month at a time in date order."""

from __future__ import annotations

import concurrent.futures
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO

import numpy as np
import pandas as pd
import sqlalchemy as sa

from salesml import db, rollups


def date_order(rows: pd.DataFrame) -> np.ndarray:
    """Positions of the rows by date, then product."""
    products = pd.factorize(rows["product_name"], sort=True)[0]
    days = rows["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    return np.lexsort((products, days))


class Spill:
    """A load's lines on their way into sales_data, a month at a time in date order.

    Each prepared part is written, sorted by date and product, to a temporary Arrow file in
    batches of one month. Then the months go into sales_data one after another, each with
    its lines from every part, sorted again: the indexes take their insertions at a few
    places at a time (a day, a product's latest day), as when a whole file is sorted before
    it is written. Parts inserted one after another would sweep the indexes once each,
    reading them from disk over and over once they outgrow the database's cache.
    On MySQL a month is sent from a thread of its own while the next one is read.
    """

    def __init__(self, conn: sa.Connection, batch_id: int) -> None:
        self.conn, self.batch_id, self.staged, self.loaded = conn, batch_id, 0, 0
        # Files without a name (on Linux): a process killed mid-load leaves nothing behind.
        self.parts: list[tuple[BinaryIO, dict[np.datetime64, range]]] = []  # month -> batches
        threaded = rollups.dialect_name(conn.dialect.name) == "mysql"
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="store") if threaded else None
        self.pending: Future | None = None

    def put(self, rows: pd.DataFrame, rejections: pd.DataFrame) -> None:
        """Keep a prepared part's lines for later, store its rejections now."""
        import pyarrow as pa

        db.insert_rejections(self.conn, self.batch_id, rejections)
        if rows.empty:
            return
        rows = rows.iloc[date_order(rows)].reset_index(drop=True)
        months = rows["date"].to_numpy().astype("datetime64[M]")
        starts = np.flatnonzero(np.append(True, months[1:] != months[:-1]))
        ends = np.append(starts[1:], len(rows))
        table = pa.Table.from_pandas(rows, preserve_index=False)
        handle = tempfile.TemporaryFile(prefix="salesml-load-")  # noqa: SIM115 - closed by close()
        self.parts.append((handle, {}))
        index = self.parts[-1][1]
        sink = pa.PythonFile(handle, mode="w")
        with pa.ipc.new_file(sink, table.schema) as writer:
            for start, end in zip(starts, ends, strict=True):
                first = writer.stats.num_record_batches
                writer.write_table(table.slice(start, end - start))
                index[months[start]] = range(first, writer.stats.num_record_batches)
        handle.flush()
        self.staged += len(rows)

    def merge(self, report: Callable[[float, int], None]) -> int:
        """Insert the lines not already in sales_data, month by month; return how many."""
        import pyarrow as pa

        months = sorted(set().union(*(index for _, index in self.parts)))
        files = [(pa.PythonFile(handle, mode="r"), index) for handle, index in self.parts]
        try:
            readers = [(pa.ipc.open_file(file), index) for file, index in files]
            for done, month in enumerate(months):
                batches = [
                    reader.get_batch(number)
                    for reader, index in readers
                    for number in index.get(month, ())
                ]
                rows = pa.Table.from_batches(batches).to_pandas()
                rows = rows.iloc[date_order(rows)]
                self._wait()
                if self.pool is None:
                    self._store(rows)
                else:
                    self.pending = self.pool.submit(self._store, rows)
                report(done / len(months), self.loaded)
            self._wait()
            report(1.0, self.loaded)
        finally:
            for file, _ in files:
                file.close()
        return self.loaded

    def _store(self, rows: pd.DataFrame) -> None:
        self.loaded += db.insert_sales(self.conn, rows, self.batch_id)

    def _wait(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()  # the month's error, if it failed, raised here

    def close(self) -> None:
        """Wait for any month still being stored, then remove the files."""
        try:
            if self.pending is not None:
                concurrent.futures.wait([self.pending])
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True)
            for handle, _ in self.parts:
                handle.close()
