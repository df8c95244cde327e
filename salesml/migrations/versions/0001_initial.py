"""Initial schema: sales data, ingest batches with rejections, prediction results.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from salesml.migrations import live

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def name_type(length: int) -> sa.types.TypeEngine:
    # Names compare exactly (case, trailing spaces) on MySQL as they do on SQLite.
    return sa.String(length).with_variant(mysql.VARCHAR(length, collation="utf8mb4_bin"), "mysql")


def upgrade() -> None:
    live.create_table(
        "ingest_batches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_loaded", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("rows_duplicate", sa.Integer(), nullable=False),
        sa.Column("rows_already_present", sa.Integer(), nullable=False),
        sa.Column("rows_imputed", sa.Integer(), nullable=False),
        sa.Column("rows_returns", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("mapping", sa.Text(), nullable=False),
        sqlite_autoincrement=True,
        **MYSQL,
    )
    live.create_index("ix_ingest_batches_file_sha256", "ingest_batches", ["file_sha256"])
    live.create_table(
        "ingest_rejections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "batch_id",
            sa.Integer(),
            sa.ForeignKey("ingest_batches.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("column_name", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(255), nullable=False),
        sa.Column("raw_value", sa.String(255), nullable=False),
        **MYSQL,
    )
    live.create_index("ix_ingest_rejections_batch_id", "ingest_rejections", ["batch_id"])
    live.create_table(
        "sales_data",
        sa.Column("transaction_id", sa.Integer(), primary_key=True),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("product_name", name_type(255), nullable=False),
        sa.Column("category", name_type(100), server_default="Uncategorized", nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.Numeric(10, 2), nullable=False),
        sa.Column(
            "batch_id",
            sa.Integer(),
            sa.ForeignKey("ingest_batches.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("row_key", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("row_key"),
        **MYSQL,
    )
    live.create_index("ix_sales_data_date", "sales_data", ["date"])
    live.create_index("ix_sales_data_category_date", "sales_data", ["category", "date"])
    live.create_index("ix_sales_data_product_date", "sales_data", ["product_name", "date"])
    live.create_index("ix_sales_data_batch_id", "sales_data", ["batch_id"])
    live.create_table(
        "prediction_results",
        sa.Column("prediction_id", sa.Integer(), primary_key=True),
        sa.Column("prediction_date", sa.Date(), nullable=False),
        sa.Column("target_period", sa.String(50), nullable=False),
        sa.Column("predicted_sales", sa.Numeric(18, 2), nullable=False),
        sa.Column("model_used", sa.String(100), nullable=False),
        **MYSQL,
    )


def downgrade() -> None:
    for table in ("prediction_results", "sales_data", "ingest_rejections", "ingest_batches"):
        live.drop_table(table)
