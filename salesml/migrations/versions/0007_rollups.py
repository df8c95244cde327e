"""Rollups: per (day, category) and per (month, product) totals, kept with every load.

The aggregate figures read the rollups from now on, so the two wide indexes that covered
their queries on sales_data go, and loads no longer maintain them; a plain date index
serves the reads of lines by date that remain.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from salesml.migrations import live

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
COVERED = ["product_name", "quantity", "revenue"]


def name_type(length: int) -> sa.types.TypeEngine:
    # Names compare exactly (case, trailing spaces) on MySQL as they do on SQLite.
    return sa.String(length).with_variant(mysql.VARCHAR(length, collation="utf8mb4_bin"), "mysql")


def totals() -> list[sa.Column]:
    return [
        sa.Column("revenue", sa.Numeric(18, 2), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("returned_revenue", sa.Numeric(18, 2), nullable=False),
        sa.Column("gross_revenue", sa.Numeric(18, 2), nullable=False),
        sa.Column("return_lines", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    from salesml import db, rollups

    live.create_table(
        "sales_daily_category",
        sa.Column("date", sa.Date(), primary_key=True),
        sa.Column("category", name_type(100), primary_key=True),
        *totals(),
        **MYSQL,
    )
    live.create_table(
        "sales_monthly_product",
        sa.Column("month", sa.Date(), primary_key=True),
        sa.Column("product_name", name_type(255), primary_key=True),
        sa.Column("category", name_type(100), primary_key=True),
        *totals(),
        **MYSQL,
    )
    live.create_index(
        "ix_sales_monthly_product_totals",
        "sales_monthly_product",
        ["product_name", "category", "month", "revenue", "quantity"],
    )
    # Filled in one go whatever a killed run left in them (deleted, then inserted again),
    # while no load adds to them.
    with db.sales_lock(op.get_bind()):
        rollups.rebuild_in(op.get_bind())
    # The new index is built before the old ones go (MySQL cannot roll back DDL).
    live.create_index("ix_sales_data_date", "sales_data", ["date"])
    live.drop_index("ix_sales_data_category_date_totals", "sales_data")
    live.drop_index("ix_sales_data_date_totals", "sales_data")


def downgrade() -> None:
    live.create_index("ix_sales_data_date_totals", "sales_data", ["date", "category", *COVERED])
    live.create_index(
        "ix_sales_data_category_date_totals", "sales_data", ["category", "date", *COVERED]
    )
    live.drop_index("ix_sales_data_date", "sales_data")
    live.drop_table("sales_monthly_product")
    live.drop_table("sales_daily_category")
