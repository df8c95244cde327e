"""Training runs: each comparison kept, saved or not, so its address reopens it anywhere.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from salesml.migrations import live

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def upgrade() -> None:
    live.create_table(
        "training_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("request_json", sa.Text(), nullable=False),
        sa.Column(
            "comparison_json", sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql"), nullable=False
        ),
        sa.Column(
            "model_id",
            sa.Integer(),
            sa.ForeignKey("models.id", ondelete="SET NULL", name="fk_training_runs_model_id"),
            nullable=True,
        ),
        sqlite_autoincrement=True,
        **MYSQL,
    )


def downgrade() -> None:
    live.drop_table("training_runs")
