"""The currency of each loaded batch.

ingest_batches gains the currency its amounts are in, a code or a symbol. Batches loaded
before it get the default currency (SALESML_CURRENCY when the migration runs), or "" (not
stated) without one.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from salesml.config import load_settings
from salesml.migrations import live

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE on both backends: SQLite's batch mode would copy ingest_batches, and
    # dropping the old copy deletes every sales row through the foreign key's cascade.
    if "currency" not in live.columns("ingest_batches"):
        op.add_column(
            "ingest_batches",
            sa.Column("currency", sa.String(8), nullable=False, server_default=""),
        )
    default = load_settings().currency
    if default:
        fill = "UPDATE ingest_batches SET currency = :currency WHERE currency = ''"
        op.execute(sa.text(fill).bindparams(currency=default))


def downgrade() -> None:
    if "currency" in live.columns("ingest_batches"):
        op.execute("ALTER TABLE ingest_batches DROP COLUMN currency")
