"""The schema: SQLAlchemy 2 typed models of every salesml table, and their sizes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# The seed schema's sizes; product names are widened from 100 to 255 characters because real
# catalogues (Superstore has names of 127 characters) do not fit in 100.
PRODUCT_NAME_LENGTH = 255
CATEGORY_LENGTH = 100
DEFAULT_CATEGORY = "Uncategorized"
# DECIMAL(10, 2) holds values strictly below 10**8 in magnitude.
REVENUE_LIMIT = Decimal("99999999.99")
QUANTITY_LIMIT = 2_147_483_647
CURRENCY_LENGTH = 8


def name_type(length: int) -> sa.types.TypeEngine:
    """A name column that compares exactly (case and trailing spaces) on SQLite and MySQL alike."""
    return sa.String(length).with_variant(mysql.VARCHAR(length, collation="utf8mb4_bin"), "mysql")


class Base(DeclarativeBase):
    """Declarative base of every salesml table."""


class IngestBatch(Base):
    """One loaded file: where it came from and how its rows were accounted for."""

    __tablename__ = "ingest_batches"
    # Ids are never reused (SQLite would reuse the highest after a delete).
    __table_args__: ClassVar[dict] = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(sa.String(255))
    file_sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)
    rows_read: Mapped[int] = mapped_column(sa.Integer)
    rows_loaded: Mapped[int] = mapped_column(sa.Integer)
    rows_rejected: Mapped[int] = mapped_column(sa.Integer)
    rows_duplicate: Mapped[int] = mapped_column(sa.Integer)
    rows_already_present: Mapped[int] = mapped_column(sa.Integer)
    rows_imputed: Mapped[int] = mapped_column(sa.Integer)
    rows_returns: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(20))
    mapping: Mapped[str] = mapped_column(sa.Text)
    # Who loaded it: a user of the app or API, or the OS user of a command line.
    loaded_by: Mapped[str | None] = mapped_column(sa.String(100))
    # The currency of its amounts, a code or a symbol (currency.check); "" when not stated.
    currency: Mapped[str] = mapped_column(sa.String(CURRENCY_LENGTH), server_default="")


class IngestRejection(Base):
    """One reason a row of a batch's file was not loaded."""

    __tablename__ = "ingest_rejections"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ingest_batches.id", ondelete="CASCADE"), index=True
    )
    row_number: Mapped[int] = mapped_column(sa.Integer)
    column_name: Mapped[str] = mapped_column(sa.String(100))
    reason: Mapped[str] = mapped_column(sa.String(255))
    raw_value: Mapped[str] = mapped_column(sa.String(255))


class SalesData(Base):
    """One sales line: the seed paper's table plus category, batch and natural key.

    Aggregate figures are read from the rollups below; the lines themselves are read for
    a product's sales, a date range's lines and the days a monthly rollup cannot split.
    """

    __tablename__ = "sales_data"
    __table_args__ = (
        # A line's key is a hash of its values, date included: unique with its date, and in
        # date order in the index, where a load of one period adds its entries together.
        sa.Index("uq_sales_data_date_row_key", "date", "row_key", unique=True),
        sa.Index("ix_sales_data_product_date", "product_name", "date"),
    )

    transaction_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    date: Mapped[dt.date] = mapped_column(sa.Date)
    product_name: Mapped[str] = mapped_column(name_type(PRODUCT_NAME_LENGTH))
    category: Mapped[str] = mapped_column(
        name_type(CATEGORY_LENGTH), server_default=DEFAULT_CATEGORY
    )
    quantity: Mapped[int] = mapped_column(sa.Integer)
    revenue: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    batch_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ingest_batches.id", ondelete="CASCADE"), index=True
    )
    # A 64-bit hash of the source line and its occurrence number in the file: loading the
    # same line again is a no-op, so re-loads and overlapping files are idempotent.
    row_key: Mapped[int] = mapped_column(sa.BigInteger)


# Money totals of a rollup: DECIMAL(10, 2) lines summed over years fit in 18 digits.
TOTAL_TYPE = sa.Numeric(18, 2)


class _Totals:
    """The sums a rollup keeps for its key: what the Explorer and the series read."""

    revenue: Mapped[Decimal] = mapped_column(TOTAL_TYPE)
    quantity: Mapped[int] = mapped_column(sa.BigInteger)
    line_count: Mapped[int] = mapped_column(sa.Integer)
    # Returns are lines of negative quantity: the size of their revenue, and their count.
    returned_revenue: Mapped[Decimal] = mapped_column(TOTAL_TYPE)
    # The revenue of the lines that are not returns.
    gross_revenue: Mapped[Decimal] = mapped_column(TOTAL_TYPE)
    return_lines: Mapped[int] = mapped_column(sa.Integer)


class DailyCategoryTotals(_Totals, Base):
    """The sales of one category on one day, kept with every load and delete."""

    __tablename__ = "sales_daily_category"

    date: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    category: Mapped[str] = mapped_column(name_type(CATEGORY_LENGTH), primary_key=True)


class MonthlyProductTotals(_Totals, Base):
    """The sales of one product (in one category) in one month, kept with every load."""

    __tablename__ = "sales_monthly_product"
    # Covers the top products of a range of months: read in product order, summed as read.
    __table_args__ = (
        sa.Index(
            "ix_sales_monthly_product_totals",
            "product_name",
            "category",
            "month",
            "revenue",
            "quantity",
        ),
    )

    # The month's first day.
    month: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    product_name: Mapped[str] = mapped_column(name_type(PRODUCT_NAME_LENGTH), primary_key=True)
    category: Mapped[str] = mapped_column(name_type(CATEGORY_LENGTH), primary_key=True)


# Model titles and what-if scenario names.
TITLE_LENGTH = 100


class SavedModel(Base):
    """A trained model saved with joblib: what it was trained on and where its file is."""

    __tablename__ = "models"
    __table_args__: ClassVar[dict] = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    # A readable name people give it; None shows the model and what it forecasts instead.
    title: Mapped[str | None] = mapped_column(sa.String(TITLE_LENGTH))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)
    level: Mapped[str] = mapped_column(sa.String(20))
    freq: Mapped[str] = mapped_column(sa.String(2))
    target: Mapped[str] = mapped_column(sa.String(20))
    horizon: Mapped[int] = mapped_column(sa.Integer)
    series_count: Mapped[int] = mapped_column(sa.Integer)
    data_start: Mapped[dt.date] = mapped_column(sa.Date)
    data_end: Mapped[dt.date] = mapped_column(sa.Date)
    file_name: Mapped[str] = mapped_column(sa.String(255))
    file_sha256: Mapped[str] = mapped_column(sa.String(64))
    metadata_json: Mapped[str] = mapped_column(sa.Text)


class PredictionResult(Base):
    """A stored forecast value: the seed's columns plus series, bounds, model and run."""

    __tablename__ = "prediction_results"
    __table_args__ = (
        # One value per model, scenario, series and period: a what-if never replaces the base.
        sa.UniqueConstraint(
            "model_id",
            "scenario",
            "series",
            "period_start",
            name="uq_prediction_results_model_scenario_series_period",
        ),
        sa.Index("ix_prediction_results_run_id", "run_id"),
        sa.Index("ix_prediction_results_period", "period_start"),
    )

    prediction_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    prediction_date: Mapped[dt.date] = mapped_column(sa.Date)
    target_period: Mapped[str] = mapped_column(sa.String(50))
    predicted_sales: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))
    model_used: Mapped[str] = mapped_column(sa.String(100))
    model_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("models.id", ondelete="CASCADE", name="fk_prediction_results_model_id")
    )
    run_id: Mapped[str | None] = mapped_column(sa.String(36))
    # The what-if this forecast was saved as; "" is the model's own (base) forecast.
    scenario: Mapped[str] = mapped_column(name_type(TITLE_LENGTH), default="", server_default="")
    level: Mapped[str | None] = mapped_column(sa.String(20))
    series: Mapped[str | None] = mapped_column(name_type(PRODUCT_NAME_LENGTH))
    period_start: Mapped[dt.date | None] = mapped_column(sa.Date)
    lower_80: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))
    upper_80: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))
    lower_95: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))
    upper_95: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))


# Who ran a training, as the audit log names them.
RUN_BY_LENGTH = 100


class TrainingRun(Base):
    """A training's comparison, saved or not, kept so its address reopens it anywhere."""

    __tablename__ = "training_runs"
    __table_args__: ClassVar[dict] = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)
    created_by: Mapped[str] = mapped_column(sa.String(RUN_BY_LENGTH))
    request_json: Mapped[str] = mapped_column(sa.Text)
    # Bounded by salesml.runs (about a megabyte at most), beyond MySQL's TEXT.
    comparison_json: Mapped[str] = mapped_column(
        sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql")
    )
    model_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("models.id", ondelete="SET NULL", name="fk_training_runs_model_id")
    )


USER_NAME_LENGTH = 64


class User(Base):
    """Someone who may sign in, with the role that says what they may do."""

    __tablename__ = "users"
    __table_args__: ClassVar[tuple] = (
        sa.Index("uq_users_name_key", "name_key", unique=True),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Signs in exactly as written; see name_key for what makes two names the same.
    name: Mapped[str] = mapped_column(name_type(USER_NAME_LENGTH), unique=True)
    # Names are unique whatever their case ('Ana' and 'ana' would be two people who look like
    # one): computed by the database, so every writer is held to it.
    name_key: Mapped[str] = mapped_column(
        name_type(USER_NAME_LENGTH), sa.Computed("lower(name)", persisted=False)
    )
    # The address an OpenID Connect provider vouches for, when the user signs in that way:
    # matched exactly (accents and all) as auth.email_key writes it.
    email: Mapped[str | None] = mapped_column(name_type(255), unique=True)
    role: Mapped[str] = mapped_column(sa.String(20))
    # An argon2id hash; None for a user who signs in only through the identity provider.
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    disabled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)


class ApiToken(Base):
    """An API token: only its SHA-256 is kept, with a short prefix to recognise it by."""

    __tablename__ = "api_tokens"
    __table_args__: ClassVar[dict] = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    token_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    label: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)


class BrowserSession(Base):
    """A signed-in browser's kept session: only the SHA-256 of its cookie is stored, so one
    read from the database (a backup, a log) signs nobody in."""

    __tablename__ = "sessions"
    __table_args__: ClassVar[dict] = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Set when the browser takes its cookie, from then on the session's only key.
    token_sha256: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # The one-time token the signed-in page hands the browser to fetch the cookie with.
    handoff_sha256: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)


class AuditEntry(Base):
    """Who changed what, and when: loads, deletes, trainings, saves and user changes."""

    __tablename__ = "audit_log"
    __table_args__: ClassVar[dict] = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime, index=True)
    actor: Mapped[str] = mapped_column(sa.String(100))
    via: Mapped[str] = mapped_column(sa.String(10))
    action: Mapped[str] = mapped_column(sa.String(40))
    target: Mapped[str] = mapped_column(sa.String(255))
    detail: Mapped[str] = mapped_column(sa.String(255))
