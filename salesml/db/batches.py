"""Reading the ingest batches: what the database holds at a glance, each batch, its rejections."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from salesml.db.schema import (
    DailyCategoryTotals,
    IngestBatch,
    IngestRejection,
    MonthlyProductTotals,
)
from salesml.errors import BatchNotFoundError


@dataclass(frozen=True)
class Overview:
    """What is in the database at a glance."""

    rows: int
    products: int
    categories: int
    first_date: dt.date | None
    last_date: dt.date | None
    batches: int


def overview(engine: Engine) -> Overview:
    """Row counts and the date range of sales_data, from the rollups."""
    daily, monthly = DailyCategoryTotals.__table__.c, MonthlyProductTotals.__table__.c
    query = sa.select(
        sa.func.sum(daily.line_count),
        sa.func.count(sa.distinct(daily.category)),
        sa.func.min(daily.date),
        sa.func.max(daily.date),
    )
    with engine.connect() as conn:
        rows, categories, first, last = conn.execute(query).one()
        products = conn.execute(
            sa.select(sa.func.count(sa.distinct(monthly.product_name)))
        ).scalar_one()
        batches = conn.execute(sa.select(sa.func.count()).select_from(IngestBatch)).scalar_one()
    return Overview(int(rows or 0), products, categories, _as_date(first), _as_date(last), batches)


def _as_date(value: object) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def list_batches(engine: Engine) -> list[IngestBatch]:
    """Every ingest batch, newest first."""
    with Session(engine) as session:
        batches = session.scalars(sa.select(IngestBatch).order_by(IngestBatch.id.desc())).all()
        session.expunge_all()
    return list(batches)


def get_batch(engine: Engine, batch_id: int) -> IngestBatch:
    """One ingest batch by id."""
    with Session(engine) as session:
        batch = session.get(IngestBatch, batch_id)
        if batch is None:
            raise BatchNotFoundError(f"there is no ingest batch {batch_id}")
        session.expunge(batch)
    return batch


def batch_rejections(engine: Engine, batch_id: int) -> list[IngestRejection]:
    """The stored rejection report of one batch, in file order."""
    with Session(engine) as session:
        if session.get(IngestBatch, batch_id) is None:
            raise BatchNotFoundError(f"there is no ingest batch {batch_id}")
        rows = session.scalars(
            sa.select(IngestRejection)
            .where(IngestRejection.batch_id == batch_id)
            .order_by(IngestRejection.row_number, IngestRejection.id)
        ).all()
        session.expunge_all()
    return list(rows)
