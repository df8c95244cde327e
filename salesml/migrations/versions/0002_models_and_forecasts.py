"""Saved models, and forecasts stored per series with bounds, model and run.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from salesml.migrations import live

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def name_type(length: int) -> sa.types.TypeEngine:
    # Names compare exactly (case, trailing spaces) on MySQL as they do on SQLite.
    return sa.String(length).with_variant(mysql.VARCHAR(length, collation="utf8mb4_bin"), "mysql")


BOUNDS = ("lower_80", "upper_80", "lower_95", "upper_95")
FOREIGN_KEY = "fk_prediction_results_model_id"
UNIQUE = "uq_prediction_results_model_series_period"
INDEXES = {
    "ix_prediction_results_run_id": ["run_id"],
    "ix_prediction_results_period": ["period_start"],
}


def new_columns() -> list[sa.Column]:
    return [
        sa.Column("model_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.String(36), nullable=True),
        sa.Column("level", sa.String(20), nullable=True),
        sa.Column("series", name_type(255), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        *(sa.Column(bound, sa.Numeric(18, 2), nullable=True) for bound in BOUNDS),
    ]


def upgrade() -> None:
    live.create_table(
        "models",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("freq", sa.String(2), nullable=False),
        sa.Column("target", sa.String(20), nullable=False),
        sa.Column("horizon", sa.Integer(), nullable=False),
        sa.Column("series_count", sa.Integer(), nullable=False),
        sa.Column("data_start", sa.Date(), nullable=False),
        sa.Column("data_end", sa.Date(), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("metadata_json", sa.Text(), nullable=False),
        sqlite_autoincrement=True,
        **MYSQL,
    )
    # Only what the live table still lacks: on MySQL each step below commits by itself.
    present = live.columns("prediction_results")
    missing = [column for column in new_columns() if column.name not in present]
    has_fk = FOREIGN_KEY in live.foreign_keys("prediction_results")
    indexes = live.indexes("prediction_results")
    with op.batch_alter_table("prediction_results") as batch:
        for column in missing:
            batch.add_column(column)
        if UNIQUE not in indexes:
            batch.create_unique_constraint(UNIQUE, ["model_id", "series", "period_start"])
        if not has_fk:
            batch.create_foreign_key(
                FOREIGN_KEY, "models", ["model_id"], ["id"], ondelete="CASCADE"
            )
        for name, fields in INDEXES.items():
            if name not in indexes:
                batch.create_index(name, fields)


def downgrade() -> None:
    with op.batch_alter_table("prediction_results") as batch:
        batch.drop_index("ix_prediction_results_period")
        batch.drop_index("ix_prediction_results_run_id")
        batch.drop_constraint("uq_prediction_results_model_series_period", type_="unique")
        batch.drop_constraint("fk_prediction_results_model_id", type_="foreignkey")
        for column in (
            "upper_95",
            "lower_95",
            "upper_80",
            "lower_80",
            "period_start",
            "series",
            "level",
            "run_id",
            "model_id",
        ):
            batch.drop_column(column)
    op.drop_table("models")
