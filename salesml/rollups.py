"""Rollups: per (day, category) and per (month, product) totals kept beside the sales lines.

The Explorer, the overview, the API's summary and the series read these instead of the
lines, so their cost follows the number of days, categories and products, not of lines.
Each load adds its batch's totals and each delete takes them away, in the same transaction
as the lines, so a reader sees both or neither. `rebuild` recomputes them from the lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from salesml import audit, db
from salesml.audit import Actor
from salesml.db import DailyCategoryTotals, MonthlyProductTotals, writing
from salesml.errors import DatabaseError

# What each rollup sums, as SQL over sales_data.
_IS_RETURN = "quantity < 0"
SUMS = {
    "revenue": "SUM(revenue)",
    "quantity": "SUM(quantity)",
    "line_count": "COUNT(*)",
    "returned_revenue": f"SUM(CASE WHEN {_IS_RETURN} THEN ABS(revenue) ELSE 0 END)",
    "gross_revenue": f"SUM(CASE WHEN {_IS_RETURN} THEN 0 ELSE revenue END)",
    "return_lines": f"SUM(CASE WHEN {_IS_RETURN} THEN 1 ELSE 0 END)",
}
MONEY = ("revenue", "returned_revenue", "gross_revenue")


# The first day of a line's month, per dialect.
_MONTH_OF_DATE = {
    "sqlite": "date(date, 'start of month')",
    "mysql": "DATE_SUB(date, INTERVAL DAYOFMONTH(date) - 1 DAY)",
}


@dataclass(frozen=True)
class Rollup:
    """A rollup table, its key columns, and those computed from a sales line's columns
    (per dialect) rather than copied from the column of the same name."""

    table: sa.Table
    keys: tuple[str, ...]
    computed: dict[str, dict[str, str]] = field(default_factory=dict)

    def key_sql(self, dialect: str) -> dict[str, str]:
        """The key columns' expressions over sales_data in a dialect."""
        dialect = dialect_name(dialect)
        return {key: self.computed.get(key, {}).get(dialect, key) for key in self.keys}


DAILY_CATEGORY = Rollup(DailyCategoryTotals.__table__, ("date", "category"))
MONTHLY_PRODUCT = Rollup(
    MonthlyProductTotals.__table__,
    ("month", "product_name", "category"),
    computed={"month": _MONTH_OF_DATE},
)
ROLLUPS = (DAILY_CATEGORY, MONTHLY_PRODUCT)


def dialect_name(name: str) -> str:
    """ "mysql" for MySQL and MariaDB (SQLAlchemy names a mariadb:// URL's dialect
    "mariadb"), else the dialect's own name."""
    return "mysql" if name in ("mysql", "mariadb") else name


def _totals_sql(rollup: Rollup, dialect: str, where: str, sign: str = "") -> str:
    """SELECT of the key and the sums of the sales lines matching `where`."""
    keys = rollup.key_sql(dialect)
    selected = [f"{sql} AS {name}" for name, sql in keys.items()]
    # Rounded to cents: SQLite sums money as binary floats.
    selected += [
        f"{sign}ROUND({sql}, 2) AS {name}" if name in MONEY else f"{sign}{sql} AS {name}"
        for name, sql in SUMS.items()
    ]
    group = ", ".join(keys.values())
    return f"SELECT {', '.join(selected)} FROM sales_data WHERE {where} GROUP BY {group}"


def _columns(rollup: Rollup) -> str:
    return ", ".join([*rollup.keys, *SUMS])


def merge_sql(
    rollup: Rollup, dialect: str, where: str = "batch_id = :batch", sign: str = ""
) -> str:
    """INSERT the totals of the matching lines, adding them to a key's totals already there."""
    dialect = dialect_name(dialect)
    totals = _totals_sql(rollup, dialect, where, sign)
    if dialect == "mysql":
        totals = f"SELECT * FROM ({totals}) AS batch"
    return (
        f"INSERT INTO {rollup.table.name} ({_columns(rollup)}) {totals} {_added(rollup, dialect)}"
    )


def _added(rollup: Rollup, dialect: str) -> str:
    """The clause of an INSERT that adds the new totals to those of a key already kept."""
    name = rollup.table.name
    if dialect_name(dialect) == "mysql":
        added = ", ".join(f"{name}.{c} = {name}.{c} + VALUES({c})" for c in SUMS)
        return f"ON DUPLICATE KEY UPDATE {added}"
    # SQLite keeps money as binary floats: each sum is rounded back to cents as it is kept.
    added = ", ".join(
        f"{column} = ROUND({column} + excluded.{column}, 2)"
        if column in MONEY
        else f"{column} = {column} + excluded.{column}"
        for column in SUMS
    )
    return f"ON CONFLICT ({', '.join(rollup.keys)}) DO UPDATE SET {added}"


def _kept(conn: sa.Connection) -> bool:
    # A schema before the rollups (a library call on an old database) has none to keep;
    # the migration that adds them computes them from every line there is.
    return sa.inspect(conn).has_table(DAILY_CATEGORY.table.name)


def add_batch(conn: sa.Connection, batch_id: int) -> None:
    """Add a batch's sales lines to the rollups (inside the caller's load transaction)."""
    if not _kept(conn):
        return
    for rollup in ROLLUPS:
        conn.execute(
            sa.text(merge_sql(rollup, conn.dialect.name, "batch_id = :batch")),
            {"batch": batch_id},
        )


def totals(rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Each rollup's totals of some sales lines, by rollup table name, in key order.

    The same totals as `add_batch` sums in SQL, summed here instead: a load whose every
    line was new (the usual case) saves a pass over its lines. `rows` has the columns of
    sales_data; dates are datetime64.
    """
    quantity, revenue = rows["quantity"].to_numpy(), rows["revenue"].to_numpy(dtype=float)
    is_return = quantity < 0
    days = rows["date"].to_numpy().astype("datetime64[D]")
    lines = pd.DataFrame(
        {
            "date": days,
            "month": days.astype("datetime64[M]").astype("datetime64[D]"),
            # As codes into the distinct names: light to group by, whatever the row count.
            "product_name": pd.Categorical(rows["product_name"]),
            "category": pd.Categorical(rows["category"]),
            "revenue": revenue,
            "quantity": quantity.astype("int64"),
            "line_count": 1,
            "returned_revenue": np.where(is_return, np.abs(revenue), 0.0),
            "gross_revenue": np.where(is_return, 0.0, revenue),
            "return_lines": is_return.astype("int64"),
        }
    )
    return {rollup.table.name: _summed(lines, rollup) for rollup in ROLLUPS}


def _summed(lines: pd.DataFrame, rollup: Rollup) -> pd.DataFrame:
    keys = list(rollup.keys)
    return lines.groupby(keys, sort=True, observed=True)[list(SUMS)].sum().reset_index()


class Totals:
    """The rollups' totals of a load's lines, added up part by part as they are prepared."""

    def __init__(self) -> None:
        self.parts: dict[str, list[pd.DataFrame]] = {r.table.name: [] for r in ROLLUPS}

    def add(self, rows: pd.DataFrame) -> None:
        for name, part in totals(rows).items():
            self.parts[name].append(part)
            if len(self.parts[name]) >= 8:  # a few parts at a time: memory stays small
                self.parts[name] = [self._joined(name)]

    def _joined(self, name: str) -> pd.DataFrame:
        rollup = next(r for r in ROLLUPS if r.table.name == name)
        joined = pd.concat(self.parts[name], ignore_index=True)
        for key in rollup.keys[1:]:  # each part's names are categories of its own
            joined[key] = joined[key].astype(object)
        return _summed(joined, rollup)

    def result(self) -> dict[str, pd.DataFrame]:
        """Every rollup's totals of all the lines added."""
        return {name: self._joined(name) for name, parts in self.parts.items() if parts}


def add_totals(conn: sa.Connection, found: dict[str, pd.DataFrame]) -> None:
    """Add totals (from `totals` or Totals) to the rollups kept."""
    if not _kept(conn):
        return
    dialect = conn.dialect.name
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    for rollup in ROLLUPS:
        if rollup.table.name not in found:
            continue
        keys = list(rollup.keys)
        # In key order: the rows go into the clustered index one after another.
        sums = found[rollup.table.name].copy()
        for column in MONEY:
            sums[column] = sums[column].round(2)
        sums[keys[0]] = sums[keys[0]].dt.strftime("%Y-%m-%d")  # the day or the month
        columns = [*keys, *SUMS]
        if dialect_name(dialect) == "mysql" and db.local_infile_enabled(conn):
            _merge_through_file(conn, rollup, sums[columns])
            continue
        marks = ", ".join([mark] * len(columns))
        sql = (
            f"INSERT INTO {rollup.table.name} ({_columns(rollup)}) VALUES ({marks}) "
            f"{_added(rollup, dialect)}"
        )
        # tolist() gives Python numbers, which every driver takes.
        conn.exec_driver_sql(sql, list(zip(*(sums[c].tolist() for c in columns), strict=True)))


def _merge_through_file(conn: sa.Connection, rollup: Rollup, totals: pd.DataFrame) -> None:
    """MySQL's bulk path for a batch's totals: LOAD DATA into a temporary table, then one
    INSERT ... SELECT that adds them to the totals already kept.

    A quarter of a million monthly totals sent as multi-row INSERTs cost seconds of
    escaping values in Python; as a file they cost a fraction of one. A temporary table
    does not end the load's transaction.
    """
    import pyarrow as pa

    name, staged, columns = rollup.table.name, f"{rollup.table.name}_batch", _columns(rollup)
    text = {column: totals[column].map("{:.2f}".format) for column in MONEY}  # no 1e+16
    text.update({key: totals[key].astype(str) for key in rollup.keys})  # not categories
    table = pa.Table.from_pandas(totals.assign(**text), preserve_index=False)
    conn.exec_driver_sql(f"DROP TEMPORARY TABLE IF EXISTS {staged}")
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {staged} SELECT {columns} FROM {name} LIMIT 0")
    try:
        staged_rows = db.load_data(conn, table, staged)
        if staged_rows != len(totals):  # LOAD DATA LOCAL skips a line it cannot take
            raise DatabaseError(
                f"the database took {staged_rows:,} of {len(totals):,} totals for {name}; "
                "nothing was loaded"
            )
        conn.exec_driver_sql(
            f"INSERT INTO {name} ({columns}) SELECT {columns} FROM {staged} "
            f"ORDER BY {', '.join(rollup.keys)} {_added(rollup, 'mysql')}"
        )
    finally:
        conn.exec_driver_sql(f"DROP TEMPORARY TABLE IF EXISTS {staged}")


def remove_batch(conn: sa.Connection, batch_id: int) -> None:
    """Take a batch's sales lines out of the rollups, before the lines themselves go."""
    if not _kept(conn):
        return
    for rollup in ROLLUPS:
        conn.execute(
            sa.text(merge_sql(rollup, conn.dialect.name, "batch_id = :batch", sign="-")),
            {"batch": batch_id},
        )
        conn.execute(sa.text(f"DELETE FROM {rollup.table.name} WHERE line_count = 0"))


def rebuild_in(conn: sa.Connection) -> None:
    """Recompute every rollup from the sales lines (inside the caller's transaction)."""
    for rollup in ROLLUPS:
        conn.execute(sa.text(f"DELETE FROM {rollup.table.name}"))
        totals = _totals_sql(rollup, conn.dialect.name, "1 = 1")
        conn.execute(sa.text(f"INSERT INTO {rollup.table.name} ({_columns(rollup)}) {totals}"))


def rebuild(engine: Engine, *, by: Actor | None = None) -> dict[str, int]:
    """Recompute every rollup from the sales lines, waiting for loads to finish first;
    return each rollup's number of rows."""
    with writing(engine, lock="sales") as conn:
        rebuild_in(conn)
        counts = {
            rollup.table.name: conn.execute(
                sa.select(sa.func.count()).select_from(rollup.table)
            ).scalar_one()
            for rollup in ROLLUPS
        }
        audit.record(conn, by, "rebuild rollups", "rollups", f"{sum(counts.values()):,} rows")
    return counts


def differences(engine: Engine) -> dict[str, int]:
    """Per rollup, how many keys' totals differ from the sales lines' (0 everywhere: agreed).

    Money is compared to the cent.
    """
    found = {}
    with engine.connect() as conn:
        dialect = conn.dialect.name
        for rollup in ROLLUPS:
            name, keys = rollup.table.name, list(rollup.keys)
            kept = f"SELECT {', '.join([*keys, *SUMS])} FROM {name}"
            fresh = _totals_sql(rollup, dialect, "1 = 1")
            joined = " AND ".join(f"k.{key} = f.{key}" for key in keys)
            differ = " OR ".join(
                f"ROUND(k.{column}, 2) <> ROUND(f.{column}, 2)"
                if column in MONEY
                else f"k.{column} <> f.{column}"
                for column in SUMS
            )
            # Keys on one side only, then keys on both whose totals differ.
            missing = (
                f"SELECT COUNT(*) FROM ({fresh}) AS f WHERE NOT EXISTS "
                f"(SELECT 1 FROM ({kept}) AS k WHERE {joined})"
            )
            extra = (
                f"SELECT COUNT(*) FROM ({kept}) AS k WHERE NOT EXISTS "
                f"(SELECT 1 FROM ({fresh}) AS f WHERE {joined})"
            )
            changed = (
                f"SELECT COUNT(*) FROM ({kept}) AS k JOIN ({fresh}) AS f ON {joined} WHERE {differ}"
            )
            found[name] = sum(
                conn.execute(sa.text(sql)).scalar_one() for sql in (missing, extra, changed)
            )
    return found
