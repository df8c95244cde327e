"""Model titles, and what-if forecasts stored as runs of their own beside the base forecast.

models gains a title people can edit. prediction_results gains the scenario a forecast was
saved as ("" for the model's own forecast), and its unique key takes the scenario in, so a
saved what-if no longer replaces the base forecast of the same periods.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from salesml.migrations import live

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OLD_UNIQUE = "uq_prediction_results_model_series_period"
NEW_UNIQUE = "uq_prediction_results_model_scenario_series_period"
OLD_KEY = ["model_id", "series", "period_start"]
NEW_KEY = ["model_id", "scenario", "series", "period_start"]


def name_type(length: int) -> sa.types.TypeEngine:
    # Names compare exactly (case, trailing spaces) on MySQL as they do on SQLite.
    return sa.String(length).with_variant(mysql.VARCHAR(length, collation="utf8mb4_bin"), "mysql")


def upgrade() -> None:
    # Plain ALTER TABLE: SQLite's batch mode would copy models, and dropping the old copy
    # deletes every stored forecast through the foreign key's cascade.
    if "title" not in live.columns("models"):
        op.add_column("models", sa.Column("title", sa.String(100), nullable=True))
    # Batch mode copies prediction_results on SQLite, which is safe: no table refers to it.
    # On MySQL each step commits by itself, so only what the live table still lacks is done,
    # the new key before the old one goes (the foreign key on model_id needs one of them).
    present = live.columns("prediction_results")
    indexes = live.indexes("prediction_results")
    with op.batch_alter_table("prediction_results") as batch:
        if "scenario" not in present:
            batch.add_column(
                sa.Column("scenario", name_type(100), nullable=False, server_default="")
            )
        if NEW_UNIQUE not in indexes:
            batch.create_unique_constraint(NEW_UNIQUE, NEW_KEY)
        if OLD_UNIQUE in indexes:
            batch.drop_constraint(OLD_UNIQUE, type_="unique")


def downgrade() -> None:
    # The old key holds one forecast per model, series and period: the base forecasts stay,
    # the what-ifs (which it cannot tell from them) go.
    present = live.columns("prediction_results")
    if "scenario" in present:
        op.execute("DELETE FROM prediction_results WHERE scenario <> ''")
    indexes = live.indexes("prediction_results")
    with op.batch_alter_table("prediction_results") as batch:
        if OLD_UNIQUE not in indexes:
            batch.create_unique_constraint(OLD_UNIQUE, OLD_KEY)
        if NEW_UNIQUE in indexes:
            batch.drop_constraint(NEW_UNIQUE, type_="unique")
        if "scenario" in present:
            batch.drop_column("scenario")
    if "title" in live.columns("models"):
        op.execute("ALTER TABLE models DROP COLUMN title")
