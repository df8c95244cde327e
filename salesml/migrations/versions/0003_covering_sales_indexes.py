"""Sales indexes that cover the explorer's and the series' aggregate queries.

A query filtered by date range (or by category and date range) that sums quantity and
revenue per day, category or product reads the index alone, never the table rows.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from salesml.migrations import live

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COVERED = ["product_name", "quantity", "revenue"]


# New indexes are built before the old ones go, so a failed build (MySQL cannot roll back
# DDL) leaves the table indexed as before; each step is skipped when the live schema already
# has it, so the migration can run again after being killed between two of them.


def upgrade() -> None:
    live.create_index("ix_sales_data_date_totals", "sales_data", ["date", "category", *COVERED])
    live.create_index(
        "ix_sales_data_category_date_totals", "sales_data", ["category", "date", *COVERED]
    )
    live.drop_index("ix_sales_data_date", "sales_data")
    live.drop_index("ix_sales_data_category_date", "sales_data")


def downgrade() -> None:
    live.create_index("ix_sales_data_date", "sales_data", ["date"])
    live.create_index("ix_sales_data_category_date", "sales_data", ["category", "date"])
    live.drop_index("ix_sales_data_category_date_totals", "sales_data")
    live.drop_index("ix_sales_data_date_totals", "sales_data")
