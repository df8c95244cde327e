"""Users with roles, API tokens, the audit log, and who loaded each batch.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from salesml.migrations import live

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def name_type(length: int) -> sa.types.TypeEngine:
    # Names compare exactly (case, trailing spaces) on MySQL as they do on SQLite.
    return sa.String(length).with_variant(mysql.VARCHAR(length, collation="utf8mb4_bin"), "mysql")


def upgrade() -> None:
    live.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", name_type(64), nullable=False),
        sa.Column("email", sa.String(255), nullable=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("email"),
        sqlite_autoincrement=True,
        **MYSQL,
    )
    live.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("token_sha256"),
        sqlite_autoincrement=True,
        **MYSQL,
    )
    live.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    live.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("via", sa.String(10), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("detail", sa.String(255), nullable=False),
        sqlite_autoincrement=True,
        **MYSQL,
    )
    live.create_index("ix_audit_log_at", "audit_log", ["at"])
    # Plain ALTER TABLE on both backends: SQLite's batch mode would copy ingest_batches, and
    # dropping the old copy deletes every sales row through the foreign key's cascade.
    if "loaded_by" not in live.columns("ingest_batches"):
        op.add_column("ingest_batches", sa.Column("loaded_by", sa.String(100), nullable=True))


def downgrade() -> None:
    if "loaded_by" in live.columns("ingest_batches"):
        op.execute("ALTER TABLE ingest_batches DROP COLUMN loaded_by")
    for table in ("audit_log", "api_tokens", "users"):
        op.drop_table(table)
