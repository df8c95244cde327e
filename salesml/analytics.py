"""Explorer and overview figures, aggregated in the database for a set of filters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from salesml import periods
from salesml.db import DailyCategoryTotals, IngestBatch, MonthlyProductTotals, SalesData
from salesml.errors import SchemaError
from salesml.export import csv_bytes
from salesml.frequencies import FREQUENCIES

GRAINS = ("D", "W", "M")  # the frequencies the explorer offers
MEASURES = ("revenue", "quantity")
_S = SalesData.__table__.c
_DAILY = DailyCategoryTotals.__table__.c
_MONTHLY = MonthlyProductTotals.__table__.c
_MONTHLY_TOTALS_INDEX = "ix_sales_monthly_product_totals"
_ONE_DAY = dt.timedelta(days=1)
_ONE_MONTH = dt.timedelta(days=31)
# The per-(day, category) sums a Summary holds.
SUMMED = ("revenue", "quantity", "lines", "returned_revenue", "gross_revenue", "return_lines")


@dataclass(frozen=True)
class Filters:
    """Which sales to look at: a date range, categories, products, the currencies of the
    batches (as stored on them) and the batches (loaded files) by id, empty meaning all."""

    start: dt.date | None = None
    end: dt.date | None = None
    categories: Sequence[str] = field(default_factory=tuple)
    products: Sequence[str] = field(default_factory=tuple)
    currencies: Sequence[str] = field(default_factory=tuple)
    batches: Sequence[int] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        # Tuples keep the filters hashable (a cache key) whatever sequence the caller passed.
        for name in ("categories", "products", "currencies", "batches"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    @property
    def needs_lines(self) -> bool:
        """Whether only the sales lines can answer: the rollups know no product's day nor
        any batch (its currency, its lines)."""
        # The rollups add every batch's lines into the same totals, so a batch filter reads
        # the lines (by the index on batch_id); a view of every file keeps the fast path.
        return bool(self.products or self.currencies or self.batches)

    def where(self, date: sa.ColumnElement = _S.date) -> list[sa.ColumnElement]:
        """The SQL conditions for these filters on the table of a date column: sales_data,
        or a rollup (whose dates may be the first days of months)."""
        columns = date.table.c
        conditions = []
        if self.start is not None:
            conditions.append(date >= self.start)
        if self.end is not None:
            conditions.append(date <= self.end)
        if self.categories:
            conditions.append(columns.category.in_(list(self.categories)))
        if self.products:
            conditions.append(columns.product_name.in_(list(self.products)))
        if self.currencies:
            if date.table is not _S.date.table:
                raise SchemaError("the currency of a sale is known only on its line")
            batches = sa.select(IngestBatch.id).where(IngestBatch.currency.in_(self.currencies))
            conditions.append(_S.batch_id.in_(batches))
        if self.batches:
            if date.table is not _S.date.table:
                raise SchemaError("the file of a sale is known only on its line")
            conditions.append(_S.batch_id.in_(list(self.batches)))
        return conditions

    def previous(self) -> Filters:
        """The same filters over the period to compare this one with, calendar for calendar.

        A year to date (from 1 January, more than January) compares with the same days a
        year earlier; whole calendar months, or months counted back from a day (6 Dec - 5
        Mar), with as many months just before; any other range with as many days before.
        """
        start, end = self.start, self.end
        if start is None or end is None:
            raise SchemaError("a comparison needs both ends of the date range")
        months = periods.months_spanned(start, end)
        if start.month == start.day == 1 and end.year == start.year and months != 1:
            return self.shifted(years=1)
        if months is None:
            return self.shifted(days=(end - start).days + 1)
        if start.day == 1 and periods.is_month_end(end):
            return replace(self, start=periods.months_back(start, months), end=start - _ONE_DAY)
        return replace(
            self, start=periods.months_before(start - _ONE_DAY, months), end=start - _ONE_DAY
        )

    def shifted(self, *, days: int = 0, years: int = 0) -> Filters:
        """The same filters over an earlier date range."""
        if self.start is None or self.end is None:
            raise SchemaError("a comparison needs both ends of the date range")
        return replace(
            self,
            start=periods.shift(self.start, days, years),
            end=periods.shift(self.end, days, years),
        )


def _frame(engine: Engine, query: sa.Select) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(query)
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def date_range(engine: Engine, *, currencies: Sequence[str] = ()) -> tuple[dt.date, dt.date] | None:
    """The first and last sales dates (of the batches in those currencies, as stored), or
    None when there are none."""
    if currencies:  # only the lines know their batch's currency
        where = Filters(currencies=currencies).where()
        query = sa.select(sa.func.min(_S.date), sa.func.max(_S.date)).where(*where)
    else:
        query = sa.select(sa.func.min(_DAILY.date), sa.func.max(_DAILY.date))
    first, last = _frame(engine, query).iloc[0]
    if first is None:
        return None
    return _as_date(first), _as_date(last)


def _as_date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


@dataclass(frozen=True, eq=False)
class Catalogue:
    """Every (category, product) pair sold: what the category and product filters offer."""

    # category, product_name; sorted by both.
    pairs: pd.DataFrame

    def categories(self) -> list[str]:
        """Every category, sorted."""
        return self.pairs["category"].drop_duplicates().tolist()

    def products(self, categories: Sequence[str] = ()) -> list[str]:
        """Every product (of the given categories), sorted."""
        pairs = self.pairs[self.pairs["category"].isin(categories)] if categories else self.pairs
        return sorted(pairs["product_name"].drop_duplicates())


def catalogue(engine: Engine) -> Catalogue:
    """Every (category, product) pair sold, in one query."""
    query = (
        sa.select(_MONTHLY.category, _MONTHLY.product_name)
        .distinct()
        .order_by(_MONTHLY.category, _MONTHLY.product_name)
    )
    return Catalogue(_frame(engine, query))


def categories(engine: Engine) -> list[str]:
    """Every category, sorted (from the daily rollup, cheaper than the whole catalogue)."""
    query = sa.select(_DAILY.category).distinct().order_by(_DAILY.category)
    return _frame(engine, query)["category"].tolist()


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


@dataclass(frozen=True, eq=False)
class Summary:
    """The sales under one set of filters, totalled per (day, category).

    Every Explorer figure but the top products is a sum over these totals, so one
    GROUP BY in the database serves them all and the rest is pandas on a frame of at
    most days × categories rows: changing the grain or the rolling window queries nothing.
    """

    filters: Filters
    # ds (datetime64), category, then the SUMMED columns as floats.
    daily: pd.DataFrame

    def kpis(self) -> Kpis:
        """Revenue, quantity and number of sales lines."""
        totals = self.daily[["revenue", "quantity", "lines"]].sum()
        return Kpis(_money(totals["revenue"]), int(totals["quantity"]), int(totals["lines"]))

    def over_time(
        self, *, grain: str = "W", measure: str = "revenue", rolling: int = 4
    ) -> pd.DataFrame:
        """Totals per period (ds, value) with a rolling mean; empty periods are zeros.

        Periods run over the filters' date range (or the sales' own range where it is
        open); no sales at all gives an empty frame.
        """
        _check(grain, GRAINS, "grain")
        _check(measure, MEASURES, "measure")
        if rolling < 1:
            raise SchemaError(f"the rolling window must be at least 1 period, not {rolling}")
        if self.daily.empty:
            return pd.DataFrame(
                {"ds": pd.Series(dtype="datetime64[ns]"), "value": [], "rolling": []}
            )
        totals = self.daily.groupby(_period(self.daily["ds"], grain))[measure].sum()
        first, last = totals.index.min(), totals.index.max()
        if self.filters.start is not None:
            first = min(first, _period_floor(self.filters.start, grain))
        if self.filters.end is not None:
            last = max(last, _period_floor(self.filters.end, grain))
        full = pd.date_range(first, last, freq=FREQUENCIES[grain].pandas_alias)
        values = _rounded(totals.reindex(full, fill_value=0.0), measure)
        frame = values.rename("value").rename_axis("ds").reset_index()
        frame["rolling"] = frame["value"].rolling(rolling, min_periods=1).mean()
        return frame

    def by_category(self) -> pd.DataFrame:
        """Revenue, quantity and lines per category, largest revenue first."""
        frame = (
            self.daily.groupby("category", as_index=False)[["revenue", "quantity", "lines"]]
            .sum()
            .sort_values(["revenue", "category"], ascending=[False, True], ignore_index=True)
        )
        frame["revenue"] = frame["revenue"].round(2)
        frame["lines"] = frame["lines"].astype(int)
        return frame

    def monthly_by_year(self, *, measure: str = "revenue") -> pd.DataFrame:
        """Totals per (year, month) with sales: the seasonality heatmap and year over year."""
        _check(measure, MEASURES, "measure")
        totals = _rounded(
            self.daily.groupby(_period(self.daily["ds"], "M"))[measure].sum(), measure
        )
        return pd.DataFrame(
            {
                "year": totals.index.year.astype(int),
                "month": totals.index.month.astype(int),
                "value": totals.to_numpy(dtype=float),
            }
        )

    def weekday_profile(self, *, measure: str = "revenue") -> pd.DataFrame:
        """Totals per (week start, weekday) for the weekday × week heatmap."""
        daily = self.over_time(grain="D", measure=measure)
        if daily.empty:
            return pd.DataFrame(columns=["week", "weekday", "value"])
        return pd.DataFrame(
            {
                "week": _period(daily["ds"], "W"),
                "weekday": daily["ds"].dt.day_name().str.slice(0, 3),
                "value": daily["value"],
            }
        )

    def returns_share(self) -> dict[str, float]:
        """Returns (negative quantities) as a share of gross sales revenue and of lines."""
        totals = self.daily[["returned_revenue", "gross_revenue", "return_lines", "lines"]].sum()
        returned, gross = _money(totals["returned_revenue"]), _money(totals["gross_revenue"])
        return_lines, lines = int(totals["return_lines"]), int(totals["lines"])
        return {
            "returned_revenue": returned,
            "gross_revenue": gross,
            "revenue_share": returned / gross if gross else 0.0,
            "return_lines": return_lines,
            "line_share": return_lines / lines if lines else 0.0,
        }


def summarise(engine: Engine, filters: Filters) -> Summary:
    """The sales under the filters totalled per (day, category), in one query.

    Without a product filter this reads the daily rollup, whose rows are these totals;
    with one, it sums the products' lines.
    """
    if filters.needs_lines:
        query = _summary_of_lines(filters)
    else:
        query = sa.select(
            _DAILY.date.label("ds"),
            _DAILY.category,
            *(_DAILY[column] for column in ("revenue", "quantity")),
            _DAILY.line_count.label("lines"),
            *(_DAILY[column] for column in ("returned_revenue", "gross_revenue", "return_lines")),
        ).where(*filters.where(_DAILY.date))
    daily = _frame(engine, query)
    daily["ds"] = pd.to_datetime(daily["ds"].astype(str))
    for column in SUMMED:
        daily[column] = daily[column].astype(float)
    return Summary(filters, daily)


def _summary_of_lines(filters: Filters) -> sa.Select:
    is_return = _S.quantity < 0
    return (
        sa.select(
            _S.date.label("ds"),
            _S.category,
            sa.func.sum(_S.revenue).label("revenue"),
            sa.func.sum(_S.quantity).label("quantity"),
            sa.func.count().label("lines"),
            # Files differ in the sign they give a return's revenue; its size is what was
            # returned, and gross sales are the lines that are not returns.
            sa.func.sum(sa.case((is_return, sa.func.abs(_S.revenue)), else_=0)).label(
                "returned_revenue"
            ),
            sa.func.sum(sa.case((is_return, 0), else_=_S.revenue)).label("gross_revenue"),
            sa.func.sum(sa.case((is_return, 1), else_=0)).label("return_lines"),
        )
        .where(*filters.where())
        .group_by(_S.date, _S.category)
    )


def kpis(engine: Engine, filters: Filters) -> Kpis:
    """Revenue, quantity and number of sales lines under the filters."""
    return summarise(engine, filters).kpis()


def growth(current: float, previous: float) -> float | None:
    """Relative change, or None when there is nothing to compare with."""
    return None if not previous else (current - previous) / abs(previous)


@dataclass(frozen=True)
class Comparison:
    """Headline figures of an earlier period, to compare the headline period with."""

    label: str
    filters: Filters
    kpis: Kpis


@dataclass(frozen=True)
class Headline:
    """The latest full month (or the whole range when shorter), with its comparisons."""

    label: str
    filters: Filters
    kpis: Kpis
    previous: Comparison
    last_year: Comparison
    full_month: bool


def headline_period(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """The latest full calendar month between first and last, else the whole range."""
    end = last if (last + _ONE_DAY).day == 1 else last.replace(day=1) - _ONE_DAY
    start = end.replace(day=1)
    return (start, end) if start >= first else (first, last)


def headline(engine: Engine, *, currencies: Sequence[str] = ()) -> Headline | None:
    """KPIs of the latest full month vs the previous period and last year; None if empty.

    `currencies` keeps the batches in those currencies (as stored) only."""
    span = date_range(engine, currencies=currencies)
    if span is None:
        return None
    start, end = headline_period(*span)
    current = Filters(start, end, currencies=currencies)
    full_month = start.day == 1 and (end + _ONE_DAY).day == 1 and end - start < _ONE_MONTH
    if full_month:
        # A calendar month is compared with the calendar month before it.
        before = start - _ONE_DAY
        previous = replace(current, start=before.replace(day=1), end=before)
        describe = _month_label
    else:
        previous, describe = current.shifted(days=(end - start).days + 1), _span_label
    last_year = current.shifted(years=1)
    return Headline(
        describe(current),
        current,
        kpis(engine, current),
        Comparison(describe(previous), previous, kpis(engine, previous)),
        Comparison(describe(last_year), last_year, kpis(engine, last_year)),
        full_month,
    )


def _month_label(filters: Filters) -> str:
    return f"{filters.start:%b %Y}"


def _span_label(filters: Filters) -> str:
    return f"{filters.start:%d %b %Y} – {filters.end:%d %b %Y}"


def over_time(
    engine: Engine,
    filters: Filters,
    *,
    grain: str = "W",
    measure: str = "revenue",
    rolling: int = 4,
) -> pd.DataFrame:
    """Totals per period (ds, value) with a rolling mean: see Summary.over_time."""
    return summarise(engine, filters).over_time(grain=grain, measure=measure, rolling=rolling)


def _period_floor(day: dt.date, grain: str) -> pd.Timestamp:
    """The first day of the period (day, Monday-based week, month) containing a day."""
    stamp = pd.Timestamp(day)
    if grain == "W":
        return stamp - pd.Timedelta(days=stamp.weekday())
    if grain == "M":
        return stamp.replace(day=1)
    return stamp


def _period(days: pd.Series, grain: str) -> pd.Series:
    """The first day of each day's period (the day, its Monday-based week, its month)."""
    if grain == "W":
        return days - pd.to_timedelta(days.dt.weekday, unit="D")
    if grain == "M":
        return days.dt.to_period("M").dt.to_timestamp()
    return days


def top_products(
    engine: Engine, filters: Filters, *, n: int = 10, measure: str = "revenue"
) -> pd.DataFrame:
    """The n products with the largest total of a measure (ties by name).

    Whole months come from the monthly rollup; only the days of a month the date range
    cuts (and the lines of filtered products) are summed from the sales lines.
    """
    _check(measure, MEASURES, "measure")
    if n < 1:
        raise SchemaError(f"the number of products must be at least 1, not {n}")
    if filters.needs_lines:
        parts = [_product_totals(_S.date, filters, measure)]
    else:
        months, days = _whole_months(filters)
        parts = [_product_totals(_S.date, part, measure) for part in days]
        if months is not None:
            parts.append(_product_totals(_MONTHLY.month, months, measure))
    columns = ["product_name", "category", "value"]
    with engine.connect() as conn:
        frames = [pd.DataFrame(conn.execute(part).all(), columns=columns) for part in parts]
    totals = pd.concat(frames, ignore_index=True)
    totals["value"] = totals["value"].astype(float)
    totals = (
        # A product sold in several categories is shown in the first of them by name.
        totals.sort_values("category", kind="stable")
        .groupby("product_name", as_index=False)
        .agg(category=("category", "first"), value=("value", "sum"))
    )
    # Rounded back to cents before ranking: products tied to the cent go by name.
    totals["value"] = _rounded(totals["value"], measure)
    ranked = totals.sort_values(["value", "product_name"], ascending=[False, True], kind="stable")
    return ranked.head(n).reset_index(drop=True)


def _product_totals(date: sa.ColumnElement, filters: Filters, measure: str) -> sa.Select:
    """Per (product, category), the total of a measure in sales_data or the monthly rollup
    (whose dates are the months' first days)."""
    columns = date.table.c
    query = (
        sa.select(columns.product_name, columns.category, sa.func.sum(columns[measure]))
        .where(*filters.where(date))
        .group_by(columns.product_name, columns.category)
    )
    if date is _MONTHLY.month:
        # Read in product order from the covering index and summed as read: a bounded cost
        # (products × months) where a range of months by the key would sort its rows first.
        table, hint = MonthlyProductTotals.__table__, f"FORCE INDEX ({_MONTHLY_TOTALS_INDEX})"
        query = query.with_hint(table, hint, "mysql").with_hint(table, hint, "mariadb")
    return query


def _whole_months(filters: Filters) -> tuple[Filters | None, list[Filters]]:
    """Split the filters' dates into whole calendar months and the days left at either end.

    The months come as filters on the months' first days (None when the range holds no
    whole month), the days as filters on dates.
    """
    start, end, kept = filters.start, filters.end, filters.categories
    try:
        first = start if start is None or start.day == 1 else periods.next_month(start)
        last = None
        if end is not None:
            last = end.replace(day=1) if periods.is_month_end(end) else periods.previous_month(end)
        if first is not None and last is not None and first > last:
            return None, [filters]
    except OverflowError:  # a month before year 1 or after 9999: the lines serve it all
        return None, [filters]
    days = []
    if start is not None and first is not None and start < first:
        days.append(Filters(start, first - _ONE_DAY, kept))
    if end is not None and last is not None and not periods.is_month_end(end):
        days.append(Filters(periods.next_month(last), end, kept))
    return Filters(first, last, kept), days


def sales_rows(
    engine: Engine, filters: Filters, *, limit: int | None = None, default_currency: str = ""
) -> pd.DataFrame:
    """The sales lines under the filters, each with its batch's currency, for download.

    A batch loaded without a currency shows the default currency."""
    query = (
        sa.select(
            _S.date, _S.product_name, _S.category, _S.quantity, _S.revenue, IngestBatch.currency
        )
        .join_from(SalesData, IngestBatch, _S.batch_id == IngestBatch.id)
        .where(*filters.where())
        .order_by(_S.date, _S.transaction_id)
        .limit(limit)
    )
    rows = _numeric(_frame(engine, query), "revenue")
    rows["currency"] = rows["currency"].replace("", default_currency)
    return rows


def sales_csv(engine: Engine, filters: Filters, *, default_currency: str = "") -> bytes:
    """The sales lines under the filters as spreadsheet-safe CSV (formula cells escaped)."""
    return csv_bytes(sales_rows(engine, filters, default_currency=default_currency))


def currencies(engine: Engine, *, default: str = "") -> dict[str, tuple[str, ...]]:
    """The currencies the loaded batches are in, the one of most lines first: each as shown
    (a batch without one shows the default) with the values stored for it."""
    lines = sa.func.sum(IngestBatch.rows_loaded)
    query = (
        sa.select(IngestBatch.currency, lines.label("lines"))
        .where(IngestBatch.status == "loaded")
        .group_by(IngestBatch.currency)
    )
    found: dict[str, list] = {}
    for stored, count in _frame(engine, query).itertuples(index=False):
        shown = stored or default
        total, values = found.get(shown, (0, ()))
        found[shown] = [total + int(count or 0), (*values, stored)]
    ranked = sorted(found.items(), key=lambda item: (-item[1][0], item[0]))
    return {shown: tuple(sorted(values)) for shown, (_, values) in ranked}


@dataclass(frozen=True)
class LoadedFile:
    """A loaded file (an ingest batch), as the Explorer's Files filter offers it."""

    id: int
    name: str
    currency: str  # as stored: "" when none was stated

    def label(self, *, default: str = "") -> str:
        """Its name, id and currency (the default for a file loaded without one)."""
        unit = self.currency or default
        return f"{self.name} (#{self.id}{', ' + unit if unit else ''})"


def loaded_files(engine: Engine) -> list[LoadedFile]:
    """Every loaded file, oldest first (a load that adds no line keeps no batch)."""
    query = (
        sa.select(IngestBatch.id, IngestBatch.file_name, IngestBatch.currency)
        .where(IngestBatch.status == "loaded")
        .order_by(IngestBatch.id)
    )
    with engine.connect() as conn:
        return [LoadedFile(*row) for row in conn.execute(query)]


def database_currency(engine: Engine, *, default: str = "") -> str:
    """The currency of every batch (the default before any); "" when there are several."""
    found = currencies(engine, default=default)
    return "" if len(found) > 1 else next(iter(found), default)


def _numeric(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for column in columns:
        frame[column] = frame[column].astype(float)
    return frame


def _check(value: str, choices: tuple[str, ...], name: str) -> None:
    if value not in choices:
        raise SchemaError(f"{name} must be one of {', '.join(choices)}, not {value!r}")


def _money(value: float) -> float:
    # Money is stored in cents; sums of floats (SQLite's, pandas') are rounded back to them.
    return round(float(value), 2)


def _rounded(values: pd.Series, measure: str) -> pd.Series:
    return values.round(2) if measure == "revenue" else values
