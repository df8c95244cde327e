"""Kept browser sessions: a signed-in browser keeps its session across reloads and tabs.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa

from salesml.migrations import live

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def upgrade() -> None:
    live.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("token_sha256", sa.String(64), nullable=True),
        sa.Column("handoff_sha256", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("token_sha256"),
        sa.UniqueConstraint("handoff_sha256"),
        sqlite_autoincrement=True,
        **MYSQL,
    )
    live.create_index("ix_sessions_user_id", "sessions", ["user_id"])


def downgrade() -> None:
    live.drop_table("sessions")  # its index with it (MySQL keeps one its foreign key uses)
