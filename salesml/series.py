"""SQL-side aggregation of sales_data into (series, period, value) frames for forecasting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from salesml.analytics import Filters
from salesml.choices import LEVELS, TARGETS
from salesml.db import DailyCategoryTotals, MonthlyProductTotals, SalesData
from salesml.errors import SchemaError
from salesml.frequencies import FREQUENCIES
from salesml.periods import is_month_end

# Views of salesml.frequencies kept for the modules and benchmarks that import them from here.
FREQS = tuple(FREQUENCIES)
PANDAS_FREQ = {code: f.pandas_alias for code, f in FREQUENCIES.items()}
SEASON_LENGTH = {code: f.season_length for code, f in FREQUENCIES.items()}
TOTAL_ID = "Total"
_LINES = SalesData.__table__
_DAILY = DailyCategoryTotals.__table__
_MONTHLY = MonthlyProductTotals.__table__


@dataclass
class SeriesSet:
    """Series in long format (unique_id, ds, y, category) and what was done to build them."""

    frame: pd.DataFrame
    level: str
    freq: str
    target: str
    dropped_partial: dt.date | None = None
    aggregated_input: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        """The series identifiers, sorted."""
        return sorted(self.frame["unique_id"].unique())


def period_start(column: sa.ColumnElement, freq: str, dialect: str) -> sa.ColumnElement:
    """A SQL expression for the first day of the period containing a DATE column."""
    if freq == "D":
        return column
    if dialect == "sqlite":
        if freq == "W":
            return sa.func.date(
                column, "-" + sa.cast((sa.func.strftime("%w", column) + 6) % 7, sa.String) + " days"
            )
        if freq == "M":
            return sa.func.strftime("%Y-%m-01", column)
        month = (sa.cast(sa.func.strftime("%m", column), sa.Integer) - 1) // 3 * 3 + 1
        return sa.func.printf("%s-%02d-01", sa.func.strftime("%Y", column), month)
    name = column.name  # a column of ours, never text from outside
    if freq == "W":
        return sa.func.date_sub(column, sa.text(f"INTERVAL WEEKDAY({name}) DAY"))
    if freq == "M":
        return sa.func.date_format(column, "%Y-%m-01")
    return sa.func.makedate(sa.func.year(column), 1) + sa.text(
        f"INTERVAL QUARTER({name}) - 1 QUARTER"
    )


def _source(level, freq, start, end, products) -> tuple[sa.Table, sa.ColumnElement]:
    """The table the series sum (a rollup where one holds their periods) and its date column.

    The daily rollup serves every total and category series; the monthly one serves
    product series by month or quarter over whole months; the lines serve the rest.
    """
    if level != "product" and not products:
        return _DAILY, _DAILY.c.date
    whole_months = (start is None or start.day == 1) and (end is None or is_month_end(end))
    if freq in ("M", "Q") and whole_months:
        return _MONTHLY, _MONTHLY.c.month
    return _LINES, _LINES.c.date


def load_series(
    engine: Engine,
    *,
    level: str = "total",
    freq: str = "M",
    target: str = "revenue",
    start: dt.date | None = None,
    end: dt.date | None = None,
    categories: Sequence[str] | None = None,
    products: Sequence[str] | None = None,
    keep_partial: bool = False,
) -> SeriesSet:
    """Aggregate sales into series in the database; fill empty periods with zeros."""
    _check_choice("level", level, LEVELS)
    _check_choice("freq", freq, FREQS)
    _check_choice("target", target, TARGETS)
    raw = _query(engine, level, freq, target, start, end, categories, products)
    series = SeriesSet(_empty_frame(), level, freq, target)
    if raw.empty:
        series.notes.append("no sales match the filters")
        return series
    frame = _fill_gaps(raw, freq)
    covered_to = _covered_to(engine, start, end)
    series.aggregated_input = _looks_aggregated(engine, freq, start, end, categories, products)
    last = frame["ds"].max()
    period_end = (last + FREQUENCIES[freq].offset).date()
    partial = covered_to < period_end - dt.timedelta(days=1)
    if partial and not series.aggregated_input and not keep_partial:
        frame = frame[frame["ds"] < last]
        series.dropped_partial = last.date()
        series.notes.append(
            f"the last period ({last.date()}) is only covered up to {covered_to} and is left out"
        )
    series.frame = frame.reset_index(drop=True)
    return series


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise SchemaError(f"{name} must be one of {', '.join(choices)}, not {value!r}")


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame({"unique_id": [], "ds": pd.to_datetime([]), "y": [], "category": []})


def _filters(date: sa.ColumnElement, start, end, categories, products) -> list[sa.ColumnElement]:
    return Filters(start, end, categories or (), products or ()).where(date)


def _query(engine, level, freq, target, start, end, categories, products) -> pd.DataFrame:
    table, date = _source(level, freq, start, end, products)
    s = table.c
    period = period_start(date, freq, engine.dialect.name).label("ds")
    value = sa.func.sum(s[target]).label("y")
    if level == "total":
        keys = [sa.literal(TOTAL_ID).label("unique_id"), sa.literal("All").label("category")]
        group = [period]
    elif level == "category":
        keys = [s.category.label("unique_id"), s.category.label("category")]
        group = [s.category, period]
    else:
        keys = [s.product_name.label("unique_id"), sa.func.min(s.category).label("category")]
        group = [s.product_name, period]
    query = (
        sa.select(*keys, period, value)
        .where(*_filters(date, start, end, categories, products))
        .group_by(*group)
    )
    with engine.connect() as conn:
        frame = pd.DataFrame(
            conn.execute(query).all(), columns=["unique_id", "category", "ds", "y"]
        )
    frame["ds"] = pd.to_datetime(frame["ds"].astype(str))
    frame["y"] = frame["y"].astype(float)
    return frame


def _fill_gaps(raw: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Periods with no sales become zeros, from each series' first sale to the last period."""
    from utilsforecast.preprocessing import fill_gaps  # only when building series, not on import

    sums = raw.groupby(["unique_id", "ds"], as_index=False, sort=True)["y"].sum()
    full = fill_gaps(sums, freq=FREQUENCIES[freq].pandas_alias, start="per_serie", end="global")
    full["y"] = full["y"].fillna(0.0)
    full["category"] = full["unique_id"].map(_main_category(raw))
    return full


def _main_category(raw: pd.DataFrame) -> pd.Series:
    """Each series' most frequent category; a tie goes to the first by name (as Series.mode)."""
    counts = raw.groupby(["unique_id", "category"], as_index=False).size()
    ranked = counts.sort_values(["unique_id", "size", "category"], ascending=[True, False, True])
    return ranked.drop_duplicates("unique_id").set_index("unique_id")["category"]


def _covered_to(engine, start, end) -> dt.date:
    """The last day the data covers: the newest sale overall (any product), within the range."""
    date = _DAILY.c.date
    query = sa.select(sa.func.max(date)).where(*_filters(date, start, None, None, None))
    with engine.connect() as conn:
        last = _date(conn.execute(query).scalar_one())
    return min(last, end) if end is not None else last


def _date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _looks_aggregated(engine, freq, start, end, categories, products) -> bool:
    """True when every date sits at the same place in its period: the data is per period."""
    if freq == "D":
        return False
    date = (_LINES if products else _DAILY).c.date
    query = (
        sa.select(date)
        .where(*_filters(date, start, end, categories, products))
        .group_by(date)
        .limit(5000)
    )
    with engine.connect() as conn:
        dates = pd.to_datetime(pd.Series([str(d) for (d,) in conn.execute(query)]))
    if len(dates) < 2:
        return False
    if freq == "W":
        return dates.dt.weekday.nunique() == 1
    period = dates.dt.to_period(FREQUENCIES[freq].period_alias)
    at_start = (dates == period.dt.start_time).all()
    at_end = (dates.dt.normalize() == period.dt.end_time.dt.normalize()).all()
    return bool(at_start or at_end)


def season_length(freq: str) -> int:
    """The seasonal period used by baselines and scaling for a frequency."""
    return FREQUENCIES[freq].season_length


# --------------------------------------------------------------------------- gaps

GAP_DAYS = 90  # a stretch without any sale at least this long is a gap, not a quiet spell


@dataclass(frozen=True)
class SalesGap:
    """The longest run of whole periods without any sale inside the data's range."""

    freq: str
    first: dt.date  # the first period without a sale (its first day)
    last: dt.date  # the last period without a sale (its first day)
    periods: int
    before: dt.date  # the last day with sales before the gap
    after: dt.date  # the first day with sales after it

    def describe(self) -> str:
        """The gap in a sentence every face completes with its own way out."""
        unit = FREQUENCIES[self.freq].unit + ("s" if self.periods != 1 else "")
        first, last = _period_name(self.first, self.freq), _period_name(self.last, self.freq)
        return (
            f"No sales between {first} and {last} ({self.periods:,} {unit}): training treats "
            "them as zero sales"
        )


def find_gap(
    engine: Engine,
    *,
    freq: str = "M",
    start: dt.date | None = None,
    end: dt.date | None = None,
    min_days: int = GAP_DAYS,
) -> SalesGap | None:
    """The longest stretch of periods with no sale at all (any product) between the first and
    the last sale, when it lasts at least min_days; None otherwise."""
    _check_choice("freq", freq, FREQS)
    date = _DAILY.c.date
    period = period_start(date, freq, engine.dialect.name).label("ds")
    query = sa.select(period).where(*_filters(date, start, end, None, None)).group_by(period)
    with engine.connect() as conn:
        starts = pd.to_datetime(pd.Series([str(d) for (d,) in conn.execute(query)]))
    if len(starts) < 2:
        return None
    periods = pd.PeriodIndex(starts, freq=FREQUENCIES[freq].period_alias).sort_values()
    steps = periods.asi8[1:] - periods.asi8[:-1]
    widest = int(steps.argmax())
    first, after = periods[widest] + 1, periods[widest + 1]
    if steps[widest] < 2 or (after.start_time - first.start_time).days < min_days:
        return None
    before, resumes = _sales_around(engine, first.start_time.date(), after.start_time.date())
    return SalesGap(
        freq=freq,
        first=first.start_time.date(),
        last=(after - 1).start_time.date(),
        periods=int(steps[widest]) - 1,
        before=before,
        after=resumes,
    )


def _sales_around(engine: Engine, first: dt.date, after: dt.date) -> tuple[dt.date, dt.date]:
    """The last day with sales before `first` and the first day with sales from `after` on."""
    date = _DAILY.c.date
    with engine.connect() as conn:
        before = conn.execute(sa.select(sa.func.max(date)).where(date < first)).scalar_one()
        resumes = conn.execute(sa.select(sa.func.min(date)).where(date >= after)).scalar_one()
    return _date(before), _date(resumes)


def _period_name(day: dt.date, freq: str) -> str:
    """A period named by its start as people say it: Jan 2018, Q1 2018, 1 Jan 2018."""
    if freq == "M":
        return f"{day:%b %Y}"
    if freq == "Q":
        return f"Q{(day.month - 1) // 3 + 1} {day.year}"
    named = f"{day.day} {day:%b %Y}"
    return f"the week of {named}" if freq == "W" else named
