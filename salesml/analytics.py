"""Explorer and overview figures, aggregated in the database for a set of filters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from salesml.db import SalesData
from salesml.errors import SchemaError
from salesml.series import period_start

GRAINS = ("D", "W", "M")
MEASURES = ("revenue", "quantity")
_S = SalesData.__table__.c


@dataclass(frozen=True)
class Filters:
    """Which sales to look at: a date range, categories and products (empty means all)."""

    start: dt.date | None = None
    end: dt.date | None = None
    categories: Sequence[str] = field(default_factory=tuple)
    products: Sequence[str] = field(default_factory=tuple)

    def where(self) -> list[sa.ColumnElement]:
        """The SQL conditions for these filters."""
        conditions = []
        if self.start is not None:
            conditions.append(_S.date >= self.start)
        if self.end is not None:
            conditions.append(_S.date <= self.end)
        if self.categories:
            conditions.append(_S.category.in_(list(self.categories)))
        if self.products:
            conditions.append(_S.product_name.in_(list(self.products)))
        return conditions

    def shifted(self, *, days: int = 0, years: int = 0) -> Filters:
        """The same filters over an earlier date range."""
        if self.start is None or self.end is None:
            raise SchemaError("a comparison needs both ends of the date range")
        return Filters(
            _shift(self.start, days, years),
            _shift(self.end, days, years),
            tuple(self.categories),
            tuple(self.products),
        )


def _shift(day: dt.date, days: int, years: int) -> dt.date:
    day = day - dt.timedelta(days=days)
    if years:
        try:
            day = day.replace(year=day.year - years)
        except ValueError:  # 29 February
            day = day.replace(year=day.year - years, day=28)
    return day


def _frame(engine: Engine, query: sa.Select) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(query)
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def date_range(engine: Engine) -> tuple[dt.date, dt.date] | None:
    """The first and last sales dates, or None for an empty database."""
    first, last = _frame(engine, sa.select(sa.func.min(_S.date), sa.func.max(_S.date))).iloc[0]
    if first is None:
        return None
    return _as_date(first), _as_date(last)


def _as_date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def categories(engine: Engine) -> list[str]:
    """Every category, sorted."""
    query = sa.select(_S.category).distinct().order_by(_S.category)
    return _frame(engine, query)["category"].tolist()


def products(engine: Engine, categories: Sequence[str] = ()) -> list[str]:
    """Every product (of the given categories), sorted."""
    query = sa.select(_S.product_name).distinct().order_by(_S.product_name)
    if categories:
        query = query.where(_S.category.in_(list(categories)))
    return _frame(engine, query)["product_name"].tolist()


@dataclass(frozen=True)
class Kpis:
    """Headline figures for a date range."""

    revenue: float
    quantity: int
    lines: int

    @property
    def average_line_value(self) -> float:
        """Revenue per sales line (order line)."""
        return self.revenue / self.lines if self.lines else 0.0


def kpis(engine: Engine, filters: Filters) -> Kpis:
    """Revenue, quantity and number of sales lines under the filters."""
    query = sa.select(
        sa.func.coalesce(sa.func.sum(_S.revenue), 0),
        sa.func.coalesce(sa.func.sum(_S.quantity), 0),
        sa.func.count(),
    ).where(*filters.where())
    revenue, quantity, lines = _frame(engine, query).iloc[0]
    return Kpis(float(revenue), int(quantity), int(lines))


def growth(current: float, previous: float) -> float | None:
    """Relative change, or None when there is nothing to compare with."""
    return None if not previous else (current - previous) / abs(previous)


def over_time(
    engine: Engine,
    filters: Filters,
    *,
    grain: str = "W",
    measure: str = "revenue",
    rolling: int = 4,
) -> pd.DataFrame:
    """Totals per period (ds, value) with a rolling mean; empty periods are zeros."""
    _check(grain, GRAINS, "grain")
    _check(measure, MEASURES, "measure")
    period = period_start(_S.date, grain, engine.dialect.name).label("ds")
    query = (
        sa.select(period, sa.func.sum(_S[measure]).label("value"))
        .where(*filters.where())
        .group_by(period)
        .order_by(period)
    )
    frame = _frame(engine, query)
    if frame.empty:
        return frame.assign(rolling=pd.Series(dtype=float))
    frame["ds"] = pd.to_datetime(frame["ds"].astype(str))
    frame["value"] = frame["value"].astype(float)
    freq = {"D": "D", "W": "W-MON", "M": "MS"}[grain]
    full = pd.date_range(frame["ds"].min(), frame["ds"].max(), freq=freq)
    frame = frame.set_index("ds").reindex(full, fill_value=0.0).rename_axis("ds").reset_index()
    frame["rolling"] = frame["value"].rolling(rolling, min_periods=1).mean()
    return frame


def by_category(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Revenue, quantity and lines per category, largest revenue first."""
    query = (
        sa.select(
            _S.category,
            sa.func.sum(_S.revenue).label("revenue"),
            sa.func.sum(_S.quantity).label("quantity"),
            sa.func.count().label("lines"),
        )
        .where(*filters.where())
        .group_by(_S.category)
        .order_by(sa.desc("revenue"))
    )
    return _numeric(_frame(engine, query), "revenue", "quantity")


def top_products(
    engine: Engine, filters: Filters, *, n: int = 10, measure: str = "revenue"
) -> pd.DataFrame:
    """The n products with the largest total of a measure."""
    _check(measure, MEASURES, "measure")
    total = sa.func.sum(_S[measure]).label("value")
    query = (
        sa.select(_S.product_name, sa.func.min(_S.category).label("category"), total)
        .where(*filters.where())
        .group_by(_S.product_name)
        .order_by(sa.desc("value"), _S.product_name)
        .limit(n)
    )
    return _numeric(_frame(engine, query), "value")


def monthly_by_year(engine: Engine, filters: Filters, *, measure: str = "revenue") -> pd.DataFrame:
    """Totals per (year, month): the seasonality heatmap and the year-over-year lines."""
    _check(measure, MEASURES, "measure")
    month = period_start(_S.date, "M", engine.dialect.name).label("ds")
    query = (
        sa.select(month, sa.func.sum(_S[measure]).label("value"))
        .where(*filters.where())
        .group_by(month)
    )
    frame = _frame(engine, query)
    stamps = pd.to_datetime(frame["ds"].astype(str))
    return pd.DataFrame(
        {"year": stamps.dt.year, "month": stamps.dt.month, "value": frame["value"].astype(float)}
    ).sort_values(["year", "month"], ignore_index=True)


def weekday_profile(engine: Engine, filters: Filters, *, measure: str = "revenue") -> pd.DataFrame:
    """Totals per (week start, weekday) for the weekday × week heatmap."""
    daily = over_time(engine, filters, grain="D", measure=measure)
    if daily.empty:
        return pd.DataFrame(columns=["week", "weekday", "value"])
    return pd.DataFrame(
        {
            "week": daily["ds"] - pd.to_timedelta(daily["ds"].dt.weekday, unit="D"),
            "weekday": daily["ds"].dt.day_name().str.slice(0, 3),
            "value": daily["value"],
        }
    )


def returns_share(engine: Engine, filters: Filters) -> dict[str, float]:
    """Returns (negative quantities) as a share of gross sales revenue and of lines."""
    is_return = _S.quantity < 0
    query = sa.select(
        sa.func.coalesce(sa.func.sum(sa.case((is_return, -_S.revenue), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((is_return, 0), else_=_S.revenue)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((is_return, 1), else_=0)), 0),
        sa.func.count(),
    ).where(*filters.where())
    returned, gross, return_lines, lines = (float(v) for v in _frame(engine, query).iloc[0])
    return {
        "returned_revenue": returned,
        "gross_revenue": gross,
        "revenue_share": returned / gross if gross else 0.0,
        "return_lines": return_lines,
        "line_share": return_lines / lines if lines else 0.0,
    }


def sales_rows(engine: Engine, filters: Filters, *, limit: int | None = None) -> pd.DataFrame:
    """The sales lines under the filters, for download."""
    query = (
        sa.select(_S.date, _S.product_name, _S.category, _S.quantity, _S.revenue)
        .where(*filters.where())
        .order_by(_S.date, _S.transaction_id)
        .limit(limit)
    )
    return _numeric(_frame(engine, query), "revenue")


def _numeric(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for column in columns:
        frame[column] = frame[column].astype(float)
    return frame


def _check(value: str, choices: tuple[str, ...], name: str) -> None:
    if value not in choices:
        raise SchemaError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
