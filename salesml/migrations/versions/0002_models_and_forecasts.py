"""Saved models, and forecasts stored per series with bounds, model and run.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def name_type(length: int) -> sa.types.TypeEngine:
    # Names compare exactly (case, trailing spaces) on MySQL as they do on SQLite.
    return sa.String(length).with_variant(mysql.VARCHAR(length, collation="utf8mb4_bin"), "mysql")


def upgrade() -> None:
    op.create_table(
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
    with op.batch_alter_table("prediction_results") as batch:
        batch.add_column(sa.Column("model_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("run_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("level", sa.String(20), nullable=True))
        batch.add_column(sa.Column("series", name_type(255), nullable=True))
        batch.add_column(sa.Column("period_start", sa.Date(), nullable=True))
        for bound in ("lower_80", "upper_80", "lower_95", "upper_95"):
            batch.add_column(sa.Column(bound, sa.Numeric(18, 2), nullable=True))
        batch.create_foreign_key(
            "fk_prediction_results_model_id", "models", ["model_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_unique_constraint(
            "uq_prediction_results_model_series_period", ["model_id", "series", "period_start"]
        )
        batch.create_index("ix_prediction_results_run_id", ["run_id"])
        batch.create_index("ix_prediction_results_period", ["period_start"])


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
