"""Load a file as one batch, in one transaction: whole, or a block of lines at a time.

ingest_file and ingest_records are the entry points; load_prepared loads a file already
validated (the Data page shows it first), load_stream a large CSV file a block at a time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from salesml import audit, db, rollups
from salesml.audit import Actor
from salesml.choices import FIELDS
from salesml.errors import AlreadyLoadedError, FileFormatError, NothingToLoadError, SchemaError
from salesml.ingest.mapping import check_mapping, detect_mapping
from salesml.ingest.progress import Clock, LoadProgress
from salesml.ingest.reading import CsvStream, RawTable, open_stream, read_table
from salesml.ingest.repeats import Seen
from salesml.ingest.spill import Spill, date_order
from salesml.ingest.summary import IngestOptions, IngestSummary, PreparedBatch, summary_counts
from salesml.ingest.survey import survey
from salesml.ingest.validate import Notes, new_summary, prepare, prepare_part

CHUNK_ROWS = 100_000


def load_prepared(
    engine: Engine,
    prepared: PreparedBatch,
    *,
    progress: Callable[[LoadProgress], None] | None = None,
    by: Actor | None = None,
) -> IngestSummary:
    """Load a prepared batch in one transaction; raise NothingToLoadError if nothing is new.

    The batch and its audit entry name who loaded it (`by`)."""
    summary = prepared.summary
    rows = prepared.rows
    if rows.empty:
        raise _nothing_new(summary)
    clock = Clock(progress)
    with db.writing(engine, lock="sales") as conn:
        batch_id = _open_batch(conn, summary, by)
        loaded, order = 0, _insert_order(rows)
        for start in range(0, len(rows), CHUNK_ROWS):
            chunk = rows.iloc[order[start : start + CHUNK_ROWS]]
            loaded += db.insert_sales(conn, chunk, batch_id)
            clock.report(min(1.0, (start + CHUNK_ROWS) / len(rows)), start + len(chunk))
        db.insert_rejections(conn, batch_id, prepared.rejections)
        _close_batch(conn, batch_id, summary, loaded, len(rows), lambda: rollups.totals(rows), by)
    summary.batch_id = batch_id
    return summary


def _open_batch(conn: sa.Connection, summary: IngestSummary, by: Actor | None) -> int:
    """The ingest_batches row of a load starting, in its transaction; its id."""
    return db.insert_batch(
        conn,
        file_name=summary.file_name,
        sha256=summary.file_sha256,
        mapping=json.dumps(summary.mapping),
        loaded_by=by.name if by else None,
        currency=summary.currency,
    )


def _close_batch(
    conn: sa.Connection,
    batch_id: int,
    summary: IngestSummary,
    loaded: int,
    valid: int,
    totals: Callable[[], dict[str, pd.DataFrame]],
    by: Actor | None,
) -> None:
    """Count a load's lines, add them to the rollups, record the batch as done and audit it;
    raise NothingToLoadError (the transaction then keeps nothing) if no line was new.

    When every valid line went in, `totals` gives the rollups' totals without reading the
    lines back; otherwise only the batch's stored lines are summed.
    """
    summary.rows_loaded = loaded
    summary.rows_already_present = valid - loaded
    if loaded == 0:
        raise _nothing_new(summary)
    if loaded == valid:
        rollups.add_totals(conn, totals())
    else:  # only the lines not already there were inserted: read them back
        rollups.add_batch(conn, batch_id)
    db.finish_batch(conn, batch_id, summary_counts(summary))
    audit.record(
        conn, by, "load", f"batch {batch_id}: {summary.file_name}", f"{loaded:,} rows loaded"
    )


def _insert_order(rows: pd.DataFrame) -> np.ndarray:
    """The order a batch's rows are inserted in: file order, or for a batch of more than
    one chunk, by date and product.

    The database then adds each index's entries at the end of a few thousand places
    (a day, a product) instead of scattered over indexes far larger than its cache, which
    at millions of lines decides the speed; and a date range's lines sit together in the
    table, as they do after loads of one period at a time.
    """
    if len(rows) <= CHUNK_ROWS:
        return np.arange(len(rows))
    return date_order(rows)


def load_stream(
    engine: Engine,
    stream: CsvStream,
    mapping: Mapping[str, str] | None = None,
    options: IngestOptions | None = None,
    *,
    progress: Callable[[LoadProgress], None] | None = None,
    by: Actor | None = None,
) -> IngestSummary:
    """Validate, clean and load a large CSV file as one batch, a block of lines at a time.

    What holds for the whole file (date order, decimal mark, the means imputed) is decided
    by a first reading of the columns it depends on; then each block is cleaned and kept in
    a temporary file, and the kept lines go into sales_data a month at a time in date order,
    in one transaction as ever (see Spill). Memory holds a block or two, a month of lines,
    the keys of the lines before (16 bytes a line) and the rollups' totals.
    """
    options = options or IngestOptions()
    resolved = detect_mapping(stream.columns, mapping)
    check_mapping(resolved, stream.columns)
    summary = new_summary(stream.name, stream.sha256, stream.encoding, resolved)
    clock = Clock(progress)
    decisions, total = survey(stream, resolved, options, clock)
    summary.currency = decisions.currency
    clock.stage("loading", clock.base + clock.weight, 1 - clock.base - clock.weight)
    notes, seen, totals = Notes(), Seen(), rollups.Totals()
    with db.writing(engine, lock="sales") as conn:
        batch_id = _open_batch(conn, summary, by)
        spill = Spill(conn, batch_id)
        try:
            for frame, _ in stream.frames():
                rows, rejections = prepare_part(
                    frame, summary.rows_read, resolved, options, decisions, seen, summary, notes
                )
                totals.add(rows)
                spill.put(rows, rejections)
                clock.report(summary.rows_read / total * 0.4)
            if summary.rows_read != total:
                raise FileFormatError(
                    f"{stream.name}: the file changed while it was being loaded "
                    f"({total:,} rows, then {summary.rows_read:,}); nothing was loaded"
                )
            clock.stage("loading", clock.base + clock.weight * 0.4, clock.weight * 0.6)
            loaded = spill.merge(clock.report)
        finally:
            spill.close()  # the connection is free again, for the commit or the rollback
        notes.write(summary)
        valid = summary.rows_read - summary.rows_rejected - summary.rows_duplicate
        _close_batch(conn, batch_id, summary, loaded, valid, totals.result, by)
    summary.batch_id = batch_id
    return summary


def _nothing_new(summary: IngestSummary) -> NothingToLoadError:
    """The error of a load that adds nothing: a repeat (every valid row is there already)
    or a file of no valid row."""
    if summary.rows_already_present:
        return AlreadyLoadedError(
            f"{summary.file_name}: nothing new to load; all {summary.rows_already_present:,} "
            f"valid rows are already in the database ({summary.rows_rejected:,} rejected, "
            f"{summary.rows_duplicate:,} duplicate lines)",
            summary,
        )
    return NothingToLoadError(
        f"{summary.file_name}: no valid rows; all {summary.rows_read:,} rows were rejected "
        "(see the rejection report)",
        summary,
    )


def ingest_file(
    engine: Engine,
    source: str | Path | bytes,
    *,
    name: str | None = None,
    mapping: Mapping[str, str] | None = None,
    options: IngestOptions | None = None,
    max_bytes: int | None = None,
    encoding: str | None = None,
    progress: Callable[[LoadProgress], None] | None = None,
    by: Actor | None = None,
) -> IngestSummary:
    """Read, validate, clean and load one file as one batch; return how every row went.

    A large CSV file given by path is read a block at a time (load_stream) whatever its
    size; any other file is read whole, and only if at most `max_bytes`."""
    stream = open_stream(source, name=name, encoding=encoding)
    if stream is not None:
        return load_stream(engine, stream, mapping, options, progress=progress, by=by)
    table = read_table(source, name=name, max_bytes=max_bytes, encoding=encoding)
    resolved = detect_mapping(list(table.frame.columns), mapping)
    prepared = prepare(table, resolved, options or IngestOptions())
    return load_prepared(engine, prepared, progress=progress, by=by)


def records_table(records: list[Mapping[str, object]], *, name: str = "records") -> RawTable:
    """Rows given as mappings (field -> value, as an API client sends them) as a raw table.

    The values go through the same validation as a file's cells, and the digest is of the
    rows themselves, so the same rows sent twice are recognised like the same file.
    """
    if not records:
        raise SchemaError("there are no rows to load; send at least one")
    columns = list(dict.fromkeys(key for record in records for key in record))
    frame = pd.DataFrame([[record.get(c) for c in columns] for record in records], columns=columns)
    frame = frame.astype(object).where(frame.notna(), "")
    digest = hashlib.sha256(
        json.dumps([list(r.items()) for r in records], default=str).encode()
    ).hexdigest()
    return RawTable(name, digest, "records", frame)


def ingest_records(
    engine: Engine,
    records: list[Mapping[str, object]],
    *,
    name: str = "records",
    options: IngestOptions | None = None,
    by: Actor | None = None,
) -> IngestSummary:
    """Validate, clean and load rows given as mappings as one batch, like a file."""
    table = records_table(records, name=name)
    mapping = {column: column for column in table.frame.columns if column in FIELDS}
    prepared = prepare(table, mapping, options or IngestOptions())
    return load_prepared(engine, prepared, by=by)
