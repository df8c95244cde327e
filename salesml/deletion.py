"""Deleting a loaded batch: its sales lines, rejections and rollup totals go together, and the
audit log says who deleted it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from salesml import audit, rollups
from salesml.audit import Actor
from salesml.db import IngestBatch, IngestRejection, SalesData, writing
from salesml.errors import BatchNotFoundError


def delete_batch(engine: Engine, batch_id: int, *, by: Actor | None = None) -> int:
    """Delete a batch with its sales rows and rejections; return the number of sales rows."""
    with writing(engine, lock="sales") as conn:
        found = conn.execute(
            sa.select(IngestBatch.file_name).where(IngestBatch.id == batch_id)
        ).scalar_one_or_none()
        if found is None:
            raise BatchNotFoundError(f"there is no ingest batch {batch_id}")
        rollups.remove_batch(conn, batch_id)
        deleted = conn.execute(sa.delete(SalesData).where(SalesData.batch_id == batch_id))
        conn.execute(sa.delete(IngestRejection).where(IngestRejection.batch_id == batch_id))
        conn.execute(sa.delete(IngestBatch).where(IngestBatch.id == batch_id))
        audit.record(
            conn, by, "delete batch", f"batch {batch_id}: {found}", f"{deleted.rowcount:,} rows"
        )
    return deleted.rowcount
