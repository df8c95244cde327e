"""Ingest pipeline: read -> map columns -> validate -> clean -> load, one batch at a time."""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import re
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from salesml import audit, currency, dates, db, identity, numbers, rollups
from salesml.audit import Actor
from salesml.choices import FIELDS
from salesml.dates import parse_dates
from salesml.errors import (
    AlreadyLoadedError,
    FileFormatError,
    NothingToLoadError,
    SalesMLError,
    SchemaError,
)
from salesml.reading import CsvStream, RawTable, open_stream, read_table

REQUIRED = ("date", "product_name")
# Header names recognised for each field, compared after lower-casing and dropping
# spaces, underscores and dashes.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "date": ("date", "orderdate", "invoicedate", "transactiondate", "saledate", "day", "month"),
    "product_name": ("productname", "product", "description", "item", "itemname", "sku"),
    "category": ("category", "productcategory", "department", "dept", "industry"),
    "quantity": ("quantity", "qty", "units", "unitssold", "quantitysold"),
    "revenue": ("revenue", "sales", "amount", "total", "turnover", "weeklysales", "salesamount"),
    "unit_price": ("unitprice", "price", "priceeach"),
    "currency": ("currency", "currencycode", "curr"),
}
_MISSING = {"", "na", "n/a", "nan", "null", "none", "-", "?"}
NUMERIC_FIELDS = ("quantity", "revenue", "unit_price")
CHUNK_ROWS = 100_000


@dataclass(frozen=True)
class IngestOptions:
    """How to clean a file: the choices a user can make, with the seed's defaults."""

    date_format: str | None = None
    impute_missing: bool = True
    drop_returns: bool = False
    keep_duplicates: bool = False
    decimal: str | None = None  # '.' or ','; None: decided from the data
    currency: str | None = None  # the amounts' currency; None: the file's, else the default
    default_currency: str = ""  # when neither the user nor the file says (SALESML_CURRENCY)


@dataclass
class IngestSummary:
    """How every row read was accounted for; read = loaded + rejected + duplicate + present."""

    file_name: str
    file_sha256: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    rows_already_present: int = 0
    rows_imputed: int = 0
    imputed_quantity: int = 0
    imputed_revenue: int = 0
    rows_returns: int = 0
    rows_sign_mismatch: int = 0
    rows_rounded: int = 0
    batch_id: int | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    encoding: str = ""
    date_order: str = ""
    decimal_mark: str = ""
    currency: str = ""
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """The summary as plain JSON-ready values."""
        return asdict(self)


@dataclass
class PreparedBatch:
    """A validated, cleaned file ready to load, with its row-level rejection report."""

    summary: IngestSummary
    rows: pd.DataFrame  # date, product_name, category, quantity, revenue, row_key
    rejections: pd.DataFrame  # row_number, column_name, reason, raw_value


# --------------------------------------------------------------------------- mapping


def _normalise(name: str) -> str:
    return re.sub(r"[\s_\-.]", "", name.lower())


def detect_mapping(
    columns: list[str], overrides: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Map salesml fields to the file's columns: overrides first, then known header names."""
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(FIELDS))
    if unknown:
        raise SchemaError(
            f"unknown field(s) {', '.join(unknown)} in the mapping; use {', '.join(FIELDS)}",
            setting="mapping",
        )
    missing = {f: c for f, c in overrides.items() if c not in columns}
    if missing:
        field_name, column = next(iter(missing.items()))
        raise SchemaError(
            f"mapping {field_name}={column!r}: the file has no column {column!r} "
            f"(columns: {', '.join(columns)})",
            setting="mapping",
        )
    mapping = dict(overrides)
    taken = set(mapping.values())
    by_name = {_normalise(c): c for c in reversed(columns)}
    for field_name in FIELDS:
        if field_name in mapping:
            continue
        for synonym in SYNONYMS[field_name]:
            column = by_name.get(synonym)
            if column is not None and column not in taken:
                mapping[field_name] = column
                taken.add(column)
                break
    if "revenue" in mapping and "unit_price" in mapping and "unit_price" not in overrides:
        del mapping["unit_price"]
    return mapping


def missing_fields(mapping: Mapping[str, str]) -> list[tuple[str, ...]]:
    """The required fields a mapping lacks, each as its alternatives (revenue or unit_price)."""
    absent: list[tuple[str, ...]] = [(f,) for f in REQUIRED if f not in mapping]
    if "revenue" not in mapping and "unit_price" not in mapping:
        absent.append(("revenue", "unit_price"))
    elif "revenue" not in mapping and "quantity" not in mapping:
        absent.append(("quantity",))  # revenue is then quantity × unit price
    return absent


def check_mapping(mapping: Mapping[str, str], columns: list[str]) -> None:
    """Raise SchemaError naming each required field the file lacks."""
    absent = missing_fields(mapping)
    if absent:
        shown = ", ".join(repr(c) for c in columns[:12])
        if len(columns) == 1:
            shown += " (one column: is the delimiter one of , ; tab |?)"
        names = ", ".join(" or ".join(group) for group in absent)
        raise SchemaError(
            f"missing required column(s): {names}. The file has {shown}; "
            "map them to the file's columns",
            setting="mapping",
        )


# --------------------------------------------------------------------------- validation


class _Report:
    """Collects row-level problems as (row position, column, reason, raw value)."""

    def __init__(self, frame: pd.DataFrame, offset: int = 0) -> None:
        self.frame = frame
        self.offset = offset  # rows of the file before this frame
        self.parts: list[pd.DataFrame] = []
        self.bad = np.zeros(len(frame), dtype=bool)

    def reject(self, mask: np.ndarray, column: str, reason: str) -> None:
        mask = np.asarray(mask, dtype=bool) & ~self.bad
        if not mask.any():
            return
        positions = np.flatnonzero(mask)
        raw = ""
        if column in self.frame:
            # Cut each value before anything else: a text column of one 900,000-character
            # value would otherwise become a fixed-width array of that width for every row.
            values = self.frame[column].iloc[positions].astype(object)
            raw = values.map(lambda value: str(value)[:255]).to_numpy(dtype=object)
        self.parts.append(
            pd.DataFrame(
                {
                    "row_number": positions + self.offset + 2,  # row 1 is the header
                    "column_name": column[:100],
                    "reason": reason[:255],
                    "raw_value": raw,
                }
            )
        )
        self.bad |= mask

    def table(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=["row_number", "column_name", "reason", "raw_value"])
        return pd.concat(self.parts, ignore_index=True).sort_values(
            "row_number", kind="stable", ignore_index=True
        )


def _per_value(values: pd.Series, compute: Callable[[pd.Series], np.ndarray], na) -> np.ndarray:
    """Apply a column function once per distinct value (sales files repeat values heavily)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    result = np.asarray(compute(pd.Series(uniques, dtype=object)))
    return np.append(result, np.array([na], dtype=result.dtype))[codes]


def _is_missing_text(text: pd.Series) -> np.ndarray:
    return text.astype(str).str.strip().str.lower().isin(_MISSING).to_numpy()


def _missing(values: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return values.isna().to_numpy()
    return _per_value(values, _is_missing_text, True)


def _numbers(values: pd.Series, decimal: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse a column as numbers: (values with NaN where missing, mask of unparsable text)."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        missing = _missing(values)
        parsed = values.to_numpy(dtype=float, na_value=np.nan)
    else:
        parsed = _plain_numbers(values, decimal)
        missing = np.zeros(len(values), dtype=bool)
        other = np.isnan(parsed)  # a plain number is never missing
        missing[other] = _missing(values[other])
        rest = other & ~missing
        if rest.any():
            parse = lambda uniques: numbers.parse(uniques, decimal)  # noqa: E731
            parsed[rest] = _per_value(values[rest], parse, np.nan)
    invalid = ~missing & ~np.isfinite(parsed)
    parsed = np.where(missing | invalid, np.nan, parsed)
    return parsed, invalid


_PLAIN_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"


def _plain_numbers(values: pd.Series, decimal: str) -> np.ndarray:
    """Text such as '-12.50' as numbers, parsed by pyarrow (NaN for any other value, left
    to numbers.parse): a sales file's amounts are mostly this, and numerous."""
    result = np.full(len(values), np.nan)
    if decimal != "." or not isinstance(values.dtype, pd.ArrowDtype):
        return result
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(values.array)
    plain = pc.fill_null(pc.match_substring_regex(text, _PLAIN_NUMBER), False)
    plain = plain.to_numpy(zero_copy_only=False)
    if plain.any():
        result[plain] = pc.cast(pc.filter(text, plain), pa.float64()).to_numpy()
    return result


def _clean_text(values: pd.Series) -> np.ndarray:
    # Control characters (tabs, line breaks) inside a name are never meaningful.
    text = values.map(_as_text).str.replace(r"[\x00-\x1f]+", " ", regex=True).str.strip()
    return text.to_numpy(dtype=object)


def _as_text(value: object) -> str:
    """A cell as text; a spreadsheet's 12345.0 is the code 12345."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Decisions:
    """What is decided once for a whole file, before any of its rows is cleaned.

    None means: decided from the rows at hand, the whole file when it is read whole.
    """

    date_order: str | None = None
    decimal: str | None = None
    means: dict[str, float | None] | None = None  # field -> mean (None: none to impute from)
    currency: str = ""


def prepare(table: RawTable, mapping: Mapping[str, str], options: IngestOptions) -> PreparedBatch:
    """Validate and clean a raw table; every row ends up loaded-to-be or rejected with a reason."""
    frame = table.frame
    check_mapping(mapping, list(frame.columns))
    summary = _new_summary(table.name, table.sha256, table.encoding, mapping)
    decisions = Decisions(decimal=_decimal_mark(frame, mapping, options))
    summary.currency = _currency(*_currency_evidence(frame, mapping), options)
    notes = _Notes()
    rows, rejections = _prepare_part(frame, 0, mapping, options, decisions, _Seen(), summary, notes)
    notes.write(summary)
    return PreparedBatch(summary, rows, rejections)


def _new_summary(name: str, sha256: str, encoding: str | None, mapping) -> IngestSummary:
    summary = IngestSummary(name, sha256, mapping=dict(mapping))
    summary.encoding = encoding or ""
    if "quantity" not in mapping:
        summary.notes.append("the file has no quantity column: quantity is recorded as 0")
    return summary


def _prepare_part(
    frame: pd.DataFrame,
    offset: int,
    mapping: Mapping[str, str],
    options: IngestOptions,
    decisions: Decisions,
    seen: _Seen,
    summary: IngestSummary,
    notes: _Notes,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate and clean rows `offset`.. of a file: the rows to load and the rejections.

    The summary's counts grow by this part's; `seen` carries the lines of the parts before,
    so that a line repeating one of an earlier part is a duplicate as within one part.
    """
    report = _Report(frame, offset)
    dates, product, category, quantity, money = _checked(
        frame, mapping, options, decisions, report, summary
    )
    # Every check that can reject a row has run: the means come from accepted rows only.
    quantity, revenue = _impute(quantity, money, mapping, options, report, summary, decisions)
    _reject_large(np.nan_to_num(revenue), mapping, report)
    cents = np.zeros(len(frame), dtype=np.int64)
    cents[~report.bad] = identity.cents(revenue[~report.bad])
    values = (dates, product, category, quantity, cents)
    keep, duplicate, keys = _identify(frame, ~report.bad, options, values, seen)
    rows = pd.DataFrame(
        {
            "date": dates[keep],
            "product_name": product[keep],
            "category": category[keep],
            "quantity": quantity[keep].astype(np.int64),
            "revenue": cents[keep] / 100,
            "row_key": keys,
        }
    )
    notes.add(revenue, cents, quantity, keep, offset)
    summary.rows_read += len(frame)
    summary.rows_rejected += int(report.bad.sum())
    summary.rows_duplicate += int(duplicate.sum())
    summary.rows_returns += int((rows["quantity"] < 0).sum())
    assert int(report.bad.sum()) + int(duplicate.sum()) + len(rows) == len(frame)
    return rows, report.table()


def _checked(frame, mapping, options, decisions: Decisions, report: _Report, summary):
    """Every check of a row before imputation: dates, names, numbers, returns."""
    dates = _check_dates(frame, mapping, options, decisions.date_order, report, summary)
    product = _check_name(frame, mapping, "product_name", db.PRODUCT_NAME_LENGTH, report)
    category = _check_name(frame, mapping, "category", db.CATEGORY_LENGTH, report)
    summary.decimal_mark = decisions.decimal
    quantity = _check_quantity(frame, mapping, decisions.decimal, report)
    money = _check_money(frame, mapping, quantity, decisions.decimal, report)
    if options.drop_returns and "quantity" in mapping:
        report.reject(
            np.nan_to_num(quantity) < 0, mapping["quantity"], "return (negative quantity) dropped"
        )
    return dates, product, category, quantity, money


def _check_dates(frame, mapping, options, order, report: _Report, summary) -> np.ndarray:
    column = mapping["date"]
    dates, summary.date_order, bad_dates = parse_dates(frame[column], options.date_format, order)
    report.reject(_missing(frame[column]), column, "date is missing")
    hint = f" (expected {options.date_format})" if options.date_format else ""
    report.reject(bad_dates, column, f"not a valid date{hint}")
    return dates


def _check_name(frame, mapping, field_name: str, limit: int, report: _Report) -> np.ndarray:
    """Product or category names: required product, default category, bounded length."""
    if field_name not in mapping:
        return np.full(len(frame), db.DEFAULT_CATEGORY, dtype=object)
    column = mapping[field_name]
    # Each distinct name once: a file repeats a few thousand names over millions of lines.
    codes, uniques = pd.factorize(frame[column], use_na_sentinel=True)
    names = np.append(_clean_text(pd.Series(uniques, dtype=object)), "")
    if field_name == "category":
        names[names == ""] = db.DEFAULT_CATEGORY
    lengths = np.fromiter(map(len, names), dtype=np.int64, count=len(names))
    label = field_name.replace("_name", "").replace("_", " ")
    report.reject((names == "")[codes], column, f"{label} name is missing")
    report.reject((lengths > limit)[codes], column, f"{label} name longer than {limit} characters")
    return names[codes]


def _decimal_mark(frame: pd.DataFrame, mapping: Mapping[str, str], options: IngestOptions) -> str:
    """The decimal mark given by the user, else the one the numeric columns show."""
    return numbers.check_mark(options.decimal) or numbers.decide(_decimal_evidence(frame, mapping))


def _currency_evidence(frame: pd.DataFrame, mapping: Mapping[str, str]) -> tuple[set, set]:
    """The currencies a part of a file names in its currency column, and the signs its
    amounts carry."""
    named = set()
    if "currency" in mapping:
        named = currency.named(frame[mapping["currency"]], mapping["currency"])
    signs = set()
    for field_name in ("revenue", "unit_price"):
        if field_name in mapping:
            signs |= currency.signs(frame[mapping[field_name]])
    return named, signs


def _currency(named: set, signs: set, options: IngestOptions) -> str:
    return currency.decide(
        stated=options.currency, named=named, signs=signs, default=options.default_currency
    )


def _decimal_evidence(frame: pd.DataFrame, mapping: Mapping[str, str]) -> dict:
    """What each numeric column's text values say of the decimal mark, by field."""
    found = {}
    for field_name in NUMERIC_FIELDS:
        values = frame[mapping[field_name]] if field_name in mapping else None
        if values is None or pd.api.types.is_numeric_dtype(values):
            continue
        found[field_name] = _column_evidence(mapping[field_name], values)
    return found


def _column_evidence(column: str, values: pd.Series) -> numbers.Evidence:
    return numbers.evidence(column, pd.Series(pd.unique(values[~_missing(values)]), dtype=object))


def _check_quantity(frame, mapping, decimal: str, report: _Report) -> np.ndarray:
    """Whole numbers within the column's range; zero when the file has no quantity at all."""
    if "quantity" not in mapping:
        return np.zeros(len(frame))
    column = mapping["quantity"]
    quantity, bad = _numbers(frame[column], decimal)
    report.reject(bad, column, "quantity is not a number")
    whole = np.isnan(quantity) | (np.abs(quantity - np.round(quantity)) < 1e-9)
    report.reject(~whole, column, "quantity is not a whole number")
    report.reject(
        np.abs(np.nan_to_num(quantity)) > db.QUANTITY_LIMIT,
        column,
        f"quantity outside ±{db.QUANTITY_LIMIT:,}",
    )
    return quantity


def _label(mapping: Mapping[str, str]) -> str:
    return "revenue" if "revenue" in mapping else "unit price"


def _check_money(frame, mapping, quantity, decimal: str, report: _Report) -> np.ndarray:
    """Revenue (or unit price) as numbers; amounts too large for the database rejected."""
    column = mapping.get("revenue") or mapping["unit_price"]
    money, bad = _numbers(frame[column], decimal)
    report.reject(bad, column, f"{_label(mapping)} is not a number")
    revenue = money if "revenue" in mapping else quantity * money
    _reject_large(np.nan_to_num(revenue), mapping, report)
    return money


def _reject_large(revenue: np.ndarray, mapping: Mapping[str, str], report: _Report) -> None:
    column = mapping.get("revenue") or mapping["unit_price"]
    report.reject(
        np.abs(revenue) >= float(db.REVENUE_LIMIT) + 0.005,
        column,
        f"revenue outside ±{db.REVENUE_LIMIT:,} (too large for DECIMAL(10,2))",
    )


def _impute(quantity, money, mapping, options, report, summary, decisions: Decisions):
    """Fill missing quantity / revenue with the mean of the accepted rows (the seed's method):
    of these rows, or of the whole file's as decided before its first part."""
    imputed = np.zeros(len(quantity), dtype=bool)
    money_column = mapping.get("revenue") or mapping["unit_price"]
    for name, values, column in (
        ("quantity", quantity, mapping.get("quantity")),
        (_label(mapping), money, money_column),
    ):
        valid = ~report.bad
        gap = np.isnan(values) & valid
        if not gap.any():
            continue
        if decisions.means is not None:
            mean = decisions.means.get(name)
        else:
            observed = values[valid & ~np.isnan(values)]
            mean = float(observed.mean()) if observed.size else None
        if not options.impute_missing or mean is None:
            why = "imputation is off" if not options.impute_missing else "no value to impute from"
            report.reject(gap, column, f"{name} is missing ({why})")
            continue
        values[gap] = round(mean) if name == "quantity" else mean
        imputed |= gap
        counter = "imputed_quantity" if name == "quantity" else "imputed_revenue"
        setattr(summary, counter, getattr(summary, counter) + int(gap.sum()))
    summary.rows_imputed += int((imputed & ~report.bad).sum())
    revenue = money if "revenue" in mapping else quantity * money
    return quantity, revenue


def _identify(frame, accepted: np.ndarray, options: IngestOptions, values: tuple, seen: _Seen):
    """Which accepted lines load, which repeat an earlier line exactly, and the loaded keys.

    A line repeats another when every cell of it is the same, as in the file; the key of a
    loaded line is its normalised values and their occurrence (salesml.identity).
    """
    positions = np.flatnonzero(accepted)
    dates, product, category, quantity, cents = (np.asarray(v)[positions] for v in values)
    ident = identity.identities(dates, product, category, quantity.astype(np.int64), cents)
    duplicate = np.zeros(len(frame), dtype=bool)
    if not options.keep_duplicates:
        repeat = seen.repeats(_line_hash(frame.iloc[positions]))
        duplicate[positions[repeat]] = True
        ident = ident[~repeat]
    keep = accepted & ~duplicate
    return keep, duplicate, identity.row_keys(ident, seen.occurrences(ident))


def _line_hash(frame: pd.DataFrame) -> np.ndarray:
    """A hash of each line's cells as text: equal for equal lines, wherever in the file."""
    hashes = {}
    for index, column in enumerate(frame.columns):
        codes, uniques = pd.factorize(frame[column], use_na_sentinel=True)
        text = pd.Series(uniques, dtype=object).astype(str)
        hashed = pd.util.hash_pandas_object(text, index=False).to_numpy()
        hashes[f"c{index}"] = np.append(hashed, np.uint64(0))[codes]
    return pd.util.hash_pandas_object(pd.DataFrame(hashes), index=False).to_numpy()


class _Seen:
    """The lines of a file's parts prepared so far: the hashes of their cells, and how often
    each identity occurred (8 bytes a line each)."""

    def __init__(self) -> None:
        self.lines = _HashSet()
        self.identities = _HashSet()
        self.more: dict[int, int] = {}  # identities seen more than once: how often

    def repeats(self, hashes: np.ndarray) -> np.ndarray:
        """Which lines repeat one before them, in this part or an earlier one."""
        repeat = pd.Series(hashes).duplicated().to_numpy() | self.lines.contains(hashes)
        self.lines.add(hashes)
        return repeat

    def occurrences(self, ident: np.ndarray) -> np.ndarray:
        """Each identity's number among the equal ones before it (0, 1, ...) in the file."""
        before = self.identities.contains(ident).astype(np.int64)
        if self.more:
            before += pd.Series(ident).map(self.more).fillna(1).astype(np.int64).to_numpy() - 1
        within = identity.occurrences(ident)
        occurrence = before + within
        if (before > 0).any() or (within > 0).any():
            totals = pd.Series(occurrence + 1, index=ident).groupby(level=0).max()
            self.more.update({int(k): int(v) for k, v in totals[totals > 1].items()})
        self.identities.add(ident)
        return occurrence


class _HashSet:
    """Distinct 64-bit hashes, as a few sorted arrays that merge as they grow (each about
    half the one before), so that adding a part's hashes costs about its own size."""

    def __init__(self) -> None:
        self.runs: list[np.ndarray] = []

    def contains(self, values: np.ndarray) -> np.ndarray:
        found = np.zeros(len(values), dtype=bool)
        if not self.runs or not len(values):
            return found
        # Sorted needles: each search starts where the one before ended.
        order = np.argsort(values, kind="stable")
        needles = values[order]
        hit = np.zeros(len(values), dtype=bool)
        for run in self.runs:
            position = np.minimum(np.searchsorted(run, needles), run.size - 1)
            hit |= run[position] == needles
        found[order] = hit
        return found

    def add(self, values: np.ndarray) -> None:
        self.runs.append(_distinct_sorted(values))
        while len(self.runs) > 1 and self.runs[-1].size * 2 >= self.runs[-2].size:
            newer, older = self.runs.pop(), self.runs.pop()
            # Two sorted runs: the stable (merge) sort joins them in one pass.
            self.runs.append(_distinct_sorted(np.concatenate([older, newer]), kind="stable"))


def _distinct_sorted(values: np.ndarray, kind: str = "quicksort") -> np.ndarray:
    ordered = np.sort(values, kind=kind)
    return ordered[np.append(True, ordered[1:] != ordered[:-1])] if ordered.size else ordered


class _Notes:
    """Loaded values that may not mean what they seem, counted over a file's parts."""

    def __init__(self) -> None:
        self.counts = {"sign_mismatch": 0, "rounded": 0}
        self.first: dict[str, tuple] = {}  # kind -> (row number, value, cents)

    def add(self, revenue, cents, quantity, keep, offset: int) -> None:
        positions = np.flatnonzero(keep)
        q, r, c = quantity[positions], revenue[positions], cents[positions]
        found = {
            "sign_mismatch": (((q > 0) & (c < 0)) | ((q < 0) & (c > 0)), q),
            "rounded": (np.round(np.abs(r) * 100, 6) != np.abs(c), r),
        }
        for kind, (mask, values) in found.items():
            if mask.any():
                at = int(np.flatnonzero(mask)[0])
                self.counts[kind] += int(mask.sum())
                self.first.setdefault(kind, (positions[at] + offset + 2, values[at], c[at]))

    def write(self, summary: IngestSummary) -> None:
        """Tell the user, in the summary's notes."""
        if "sign_mismatch" in self.first:
            row, q, c = self.first["sign_mismatch"]
            summary.rows_sign_mismatch = self.counts["sign_mismatch"]
            summary.notes.append(
                f"{summary.rows_sign_mismatch:,} loaded line(s) have quantity and revenue of "
                f"opposite signs (first: row {row}, quantity {q:,.0f}, "
                f"revenue {c / 100:,.2f}); they are loaded as given: check whether they "
                "are refunds, returns or errors"
            )
        if "rounded" in self.first:
            row, r, c = self.first["rounded"]
            summary.rows_rounded = self.counts["rounded"]
            summary.notes.append(
                f"{summary.rows_rounded:,} revenue value(s) had fractions of a cent and were "
                f"rounded to cents, the database's precision (first: row {row}, "
                f"{r:.6g} -> {c / 100:.2f})"
            )


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class LoadProgress:
    """How far a load has come: its stage, the share of it done, lines stored, time taken."""

    stage: str  # "checking" (reading the file for what holds for all of it) or "loading"
    share: float
    rows: int
    seconds: float

    @property
    def seconds_left(self) -> float | None:
        """The time left at the pace so far (None until there is a pace)."""
        if self.share <= 0.02 or self.seconds < 1:
            return None
        return self.seconds * (1 - self.share) / self.share

    def describe(self) -> str:
        """One line: 'loading: 45%, 120,000 rows/s, about 38 s left'."""
        parts = [f"{self.stage}: {self.share:.0%}"]
        if self.rows and self.seconds > 0:
            parts.append(f"{self.rows / self.seconds:,.0f} rows/s")
        left = self.seconds_left
        if left is not None and self.share < 1:
            parts.append(f"about {left:,.0f} s left")
        return ", ".join(parts)


class _Clock:
    """Reports progress: each stage's share of the whole load given by `stage`."""

    def __init__(self, progress: Callable[[LoadProgress], None] | None) -> None:
        self.progress = progress
        self.started = time.monotonic()
        self.name, self.base, self.weight = "loading", 0.0, 1.0

    def stage(self, name: str, base: float, weight: float) -> None:
        self.name, self.base, self.weight = name, base, weight

    def report(self, share: float, rows: int = 0) -> None:
        if self.progress:
            done = min(1.0, self.base + self.weight * share)
            elapsed = time.monotonic() - self.started
            self.progress(LoadProgress(self.name, done, rows, elapsed))


def load_prepared(
    engine: Engine,
    prepared: PreparedBatch,
    *,
    progress: Callable[[LoadProgress], None] | None = None,
    by: Actor | None = None,
) -> IngestSummary:
    """Load a prepared batch in one transaction; raise NothingToLoadError if nothing is new.

    The batch and its audit entry name who loaded it (`by`)."""
    summary = prepared.summary
    rows = prepared.rows
    if rows.empty:
        raise _nothing_new(summary)
    clock = _Clock(progress)
    with db.writing(engine, lock="sales") as conn:
        batch_id = _open_batch(conn, summary, by)
        loaded, order = 0, _insert_order(rows)
        for start in range(0, len(rows), CHUNK_ROWS):
            chunk = rows.iloc[order[start : start + CHUNK_ROWS]]
            loaded += db.insert_sales(conn, chunk, batch_id)
            clock.report(min(1.0, (start + CHUNK_ROWS) / len(rows)), start + len(chunk))
        db.insert_rejections(conn, batch_id, prepared.rejections)
        _close_batch(conn, batch_id, summary, loaded, len(rows), lambda: rollups.totals(rows), by)
    summary.batch_id = batch_id
    return summary


def _open_batch(conn: sa.Connection, summary: IngestSummary, by: Actor | None) -> int:
    """The ingest_batches row of a load starting, in its transaction; its id."""
    return db.insert_batch(
        conn,
        file_name=summary.file_name,
        sha256=summary.file_sha256,
        mapping=json.dumps(summary.mapping),
        loaded_by=by.name if by else None,
        currency=summary.currency,
    )


def _close_batch(
    conn: sa.Connection,
    batch_id: int,
    summary: IngestSummary,
    loaded: int,
    valid: int,
    totals: Callable[[], dict[str, pd.DataFrame]],
    by: Actor | None,
) -> None:
    """Count a load's lines, add them to the rollups, record the batch as done and audit it;
    raise NothingToLoadError (the transaction then keeps nothing) if no line was new.

    When every valid line went in, `totals` gives the rollups' totals without reading the
    lines back; otherwise only the batch's stored lines are summed.
    """
    summary.rows_loaded = loaded
    summary.rows_already_present = valid - loaded
    if loaded == 0:
        raise _nothing_new(summary)
    if loaded == valid:
        rollups.add_totals(conn, totals())
    else:  # only the lines not already there were inserted: read them back
        rollups.add_batch(conn, batch_id)
    db.finish_batch(conn, batch_id, summary_counts(summary))
    audit.record(
        conn, by, "load", f"batch {batch_id}: {summary.file_name}", f"{loaded:,} rows loaded"
    )


def _date_order(rows: pd.DataFrame) -> np.ndarray:
    """Positions of the rows by date, then product."""
    products = pd.factorize(rows["product_name"], sort=True)[0]
    days = rows["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    return np.lexsort((products, days))


def _insert_order(rows: pd.DataFrame) -> np.ndarray:
    """The order a batch's rows are inserted in: file order, or for a batch of more than
    one chunk, by date and product.

    The database then adds each index's entries at the end of a few thousand places
    (a day, a product) instead of scattered over indexes far larger than its cache, which
    at millions of lines decides the speed; and a date range's lines sit together in the
    table, as they do after loads of one period at a time.
    """
    if len(rows) <= CHUNK_ROWS:
        return np.arange(len(rows))
    return _date_order(rows)


def load_stream(
    engine: Engine,
    stream: CsvStream,
    mapping: Mapping[str, str] | None = None,
    options: IngestOptions | None = None,
    *,
    progress: Callable[[LoadProgress], None] | None = None,
    by: Actor | None = None,
) -> IngestSummary:
    """Validate, clean and load a large CSV file as one batch, a block of lines at a time.

    What holds for the whole file (date order, decimal mark, the means imputed) is decided
    by a first reading of the columns it depends on; then each block is cleaned and kept in
    a temporary file, and the kept lines go into sales_data a month at a time in date order,
    in one transaction as ever (see _Spill). Memory holds a block or two, a month of lines,
    the keys of the lines before (16 bytes a line) and the rollups' totals.
    """
    options = options or IngestOptions()
    resolved = detect_mapping(stream.columns, mapping)
    check_mapping(resolved, stream.columns)
    summary = _new_summary(stream.name, stream.sha256, stream.encoding, resolved)
    clock = _Clock(progress)
    decisions, total = _survey(stream, resolved, options, clock)
    summary.currency = decisions.currency
    clock.stage("loading", clock.base + clock.weight, 1 - clock.base - clock.weight)
    notes, seen, totals = _Notes(), _Seen(), rollups.Totals()
    with db.writing(engine, lock="sales") as conn:
        batch_id = _open_batch(conn, summary, by)
        spill = _Spill(conn, batch_id)
        try:
            for frame, _ in stream.frames():
                rows, rejections = _prepare_part(
                    frame, summary.rows_read, resolved, options, decisions, seen, summary, notes
                )
                totals.add(rows)
                spill.put(rows, rejections)
                clock.report(summary.rows_read / total * 0.4)
            if summary.rows_read != total:
                raise FileFormatError(
                    f"{stream.name}: the file changed while it was being loaded "
                    f"({total:,} rows, then {summary.rows_read:,}); nothing was loaded"
                )
            clock.stage("loading", clock.base + clock.weight * 0.4, clock.weight * 0.6)
            loaded = spill.merge(clock.report)
        finally:
            spill.close()  # the connection is free again, for the commit or the rollback
        notes.write(summary)
        valid = summary.rows_read - summary.rows_rejected - summary.rows_duplicate
        _close_batch(conn, batch_id, summary, loaded, valid, totals.result, by)
    summary.batch_id = batch_id
    return summary


def _survey(
    stream: CsvStream, mapping, options: IngestOptions, clock: _Clock
) -> tuple[Decisions, int]:
    """Read the columns the whole file's decisions depend on: its date order, its decimal
    mark and, when it has gaps to fill, the means to fill them with; and count its rows."""
    clock.stage("checking", 0.0, 0.1)
    numeric = {f: mapping[f] for f in NUMERIC_FIELDS if f in mapping}
    found_dates: dict[str, str] = {}
    found_numbers: dict[str, numbers.Evidence] = {}
    gaps, rows, given = False, 0, numbers.check_mark(options.decimal)
    named, signs = set(), set()
    read = [
        mapping["date"],
        *numeric.values(),
        *([mapping["currency"]] if "currency" in mapping else []),
    ]
    for frame, share in stream.frames(list(dict.fromkeys(read))):
        rows += len(frame)
        if not options.currency:
            found = _currency_evidence(frame, mapping)
            named, signs = named | found[0], signs | found[1]
        if not options.date_format:
            found_dates = dates.merge(found_dates, dates.evidence(frame[mapping["date"]]))
        gaps = gaps or any(_any_missing(frame[column]) for column in numeric.values())
        for field_name, column in ({} if given else numeric).items():
            earlier = found_numbers.get(field_name)
            if earlier and _settled(earlier, frame[column]):
                continue
            evidence = _column_evidence(column, frame[column])
            found_numbers[field_name] = numbers.merge(earlier, evidence) if earlier else evidence
        clock.report(share)
    if rows == 0:
        raise FileFormatError(f"{stream.name}: the file has a header but no data rows")
    order = None if options.date_format else dates.decide_order(found_dates)
    decimal = given or numbers.decide(found_numbers)
    unit = _currency(named, signs, options)
    decisions = Decisions(order, decimal, {}, unit)
    if gaps and options.impute_missing:
        clock.stage("checking", 0.1, 0.2)
        means = _means(stream, mapping, options, decisions, clock)
        decisions = Decisions(order, decimal, means, unit)
    return decisions, rows


def _any_missing(values: pd.Series) -> bool:
    if isinstance(values.dtype, pd.ArrowDtype):  # in pyarrow, without a Python string
        return bool(values.str.strip().str.lower().isin(list(_MISSING)).any())
    return bool(_missing(values).any())


def _settled(earlier: numbers.Evidence, values: pd.Series) -> bool:
    """Whether a column's values can add nothing to the decimal mark its earlier values
    showed: they have one mark and these values never show the other."""
    if bool(earlier.point) == bool(earlier.comma):
        return False
    other = "," if earlier.point else "."
    return not values.str.contains(other, regex=False).any()


def _means(stream: CsvStream, mapping, options, decisions: Decisions, clock) -> dict:
    """The means the whole file's gaps are filled with: of the accepted rows' values, as
    _impute takes them from a file read whole."""
    money = _label(mapping)
    sums = dict.fromkeys(("quantity", money, "money where quantity is known"), (0.0, 0))
    scratch = _new_summary("", "", None, mapping)

    def add(name: str, values: np.ndarray) -> None:
        total, count = sums[name]
        sums[name] = (total + float(values.sum()), count + values.size)

    for frame, share in stream.frames():
        report = _Report(frame)
        _, _, _, quantity, amount = _checked(frame, mapping, options, decisions, report, scratch)
        known = ~report.bad & ~np.isnan(amount)
        add("quantity", quantity[~report.bad & ~np.isnan(quantity)])
        add(money, amount[known])
        add("money where quantity is known", amount[known & ~np.isnan(quantity)])
        clock.report(share)

    def mean(name: str) -> float | None:
        total, count = sums[name]
        return total / count if count else None

    quantity_mean = mean("quantity")
    # With no quantity to impute from, rows missing one are rejected before the money's mean.
    money_mean = mean(money if quantity_mean is not None else "money where quantity is known")
    return {"quantity": quantity_mean, money: money_mean}


class _Spill:
    """A load's lines on their way into sales_data, a month at a time in date order.

    Each prepared part is written, sorted by date and product, to a temporary Arrow file in
    batches of one month. Then the months go into sales_data one after another, each with
    its lines from every part, sorted again: the indexes take their insertions at a few
    places at a time (a day, a product's latest day), as when a whole file is sorted before
    it is written. Parts inserted one after another would sweep the indexes once each,
    reading them from disk over and over once they outgrow the database's cache.
    On MySQL a month is sent from a thread of its own while the next one is read.
    """

    def __init__(self, conn: sa.Connection, batch_id: int) -> None:
        self.conn, self.batch_id, self.staged, self.loaded = conn, batch_id, 0, 0
        # Files without a name (on Linux): a process killed mid-load leaves nothing behind.
        self.parts: list[tuple[BinaryIO, dict[np.datetime64, range]]] = []  # month -> batches
        threaded = rollups.dialect_name(conn.dialect.name) == "mysql"
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="store") if threaded else None
        self.pending: Future | None = None

    def put(self, rows: pd.DataFrame, rejections: pd.DataFrame) -> None:
        """Keep a prepared part's lines for later, store its rejections now."""
        import pyarrow as pa

        db.insert_rejections(self.conn, self.batch_id, rejections)
        if rows.empty:
            return
        rows = rows.iloc[_date_order(rows)].reset_index(drop=True)
        months = rows["date"].to_numpy().astype("datetime64[M]")
        starts = np.flatnonzero(np.append(True, months[1:] != months[:-1]))
        ends = np.append(starts[1:], len(rows))
        table = pa.Table.from_pandas(rows, preserve_index=False)
        handle = tempfile.TemporaryFile(prefix="salesml-load-")  # noqa: SIM115 - closed by close()
        self.parts.append((handle, {}))
        index = self.parts[-1][1]
        sink = pa.PythonFile(handle, mode="w")
        with pa.ipc.new_file(sink, table.schema) as writer:
            for start, end in zip(starts, ends, strict=True):
                first = writer.stats.num_record_batches
                writer.write_table(table.slice(start, end - start))
                index[months[start]] = range(first, writer.stats.num_record_batches)
        handle.flush()
        self.staged += len(rows)

    def merge(self, report: Callable[[float, int], None]) -> int:
        """Insert the lines not already in sales_data, month by month; return how many."""
        import pyarrow as pa

        months = sorted(set().union(*(index for _, index in self.parts)))
        files = [(pa.PythonFile(handle, mode="r"), index) for handle, index in self.parts]
        try:
            readers = [(pa.ipc.open_file(file), index) for file, index in files]
            for done, month in enumerate(months):
                batches = [
                    reader.get_batch(number)
                    for reader, index in readers
                    for number in index.get(month, ())
                ]
                rows = pa.Table.from_batches(batches).to_pandas()
                rows = rows.iloc[_date_order(rows)]
                self._wait()
                if self.pool is None:
                    self._store(rows)
                else:
                    self.pending = self.pool.submit(self._store, rows)
                report(done / len(months), self.loaded)
            self._wait()
            report(1.0, self.loaded)
        finally:
            for file, _ in files:
                file.close()
        return self.loaded

    def _store(self, rows: pd.DataFrame) -> None:
        self.loaded += db.insert_sales(self.conn, rows, self.batch_id)

    def _wait(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()  # the month's error, if it failed, raised here

    def close(self) -> None:
        """Wait for any month still being stored, then remove the files."""
        try:
            if self.pending is not None:
                concurrent.futures.wait([self.pending])
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True)
            for handle, _ in self.parts:
                handle.close()


class BackgroundLoad:
    """A load in a thread of its own: the page that started it may be left and come back to.

    The load is one transaction as ever, so a server stopped mid-way keeps none of it.
    """

    def __init__(
        self,
        engine: Engine,
        prepared: PreparedBatch,
        *,
        by: Actor | None = None,
        on_finish: Callable[[], None] | None = None,
    ) -> None:
        self.file_name = prepared.summary.file_name
        self.progress = 0.0
        self.latest: LoadProgress | None = None
        self.summary: IngestSummary | None = None
        self.error: SalesMLError | None = None
        self._done = threading.Event()
        work = (engine, prepared, by, on_finish)
        threading.Thread(target=self._run, args=work, name="load", daemon=True).start()

    def _run(self, engine, prepared, by, on_finish) -> None:
        try:
            self.summary = load_prepared(engine, prepared, progress=self._advance, by=by)
            self.progress = 1.0
        except SalesMLError as exc:
            self.error = exc
        except sa.exc.SQLAlchemyError as exc:
            self.error = db.database_error(exc, engine)
        except Exception as exc:  # one line for the user, never a thread's traceback
            self.error = SalesMLError(f"the load failed: {type(exc).__name__}: {exc}")
        finally:
            try:
                if on_finish:
                    on_finish()
            finally:
                self._done.set()

    def _advance(self, latest: LoadProgress) -> None:
        self.progress, self.latest = latest.share, latest

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to `timeout` seconds for the load to end; True once it has."""
        return self._done.wait(timeout)


def summary_counts(summary: IngestSummary) -> dict[str, int]:
    """The counters stored on the ingest_batches row."""
    return {name: getattr(summary, name) for name in db.BATCH_COUNTERS}


def _nothing_new(summary: IngestSummary) -> NothingToLoadError:
    """The error of a load that adds nothing: a repeat (every valid row is there already)
    or a file of no valid row."""
    if summary.rows_already_present:
        return AlreadyLoadedError(
            f"{summary.file_name}: nothing new to load; all {summary.rows_already_present:,} "
            f"valid rows are already in the database ({summary.rows_rejected:,} rejected, "
            f"{summary.rows_duplicate:,} duplicate lines)",
            summary,
        )
    return NothingToLoadError(
        f"{summary.file_name}: no valid rows; all {summary.rows_read:,} rows were rejected "
        "(see the rejection report)",
        summary,
    )


def ingest_file(
    engine: Engine,
    source: str | Path | bytes,
    *,
    name: str | None = None,
    mapping: Mapping[str, str] | None = None,
    options: IngestOptions | None = None,
    max_bytes: int | None = None,
    encoding: str | None = None,
    progress: Callable[[LoadProgress], None] | None = None,
    by: Actor | None = None,
) -> IngestSummary:
    """Read, validate, clean and load one file as one batch; return how every row went.

    A large CSV file given by path is read a block at a time (load_stream) whatever its
    size; any other file is read whole, and only if at most `max_bytes`."""
    stream = open_stream(source, name=name, encoding=encoding)
    if stream is not None:
        return load_stream(engine, stream, mapping, options, progress=progress, by=by)
    table = read_table(source, name=name, max_bytes=max_bytes, encoding=encoding)
    resolved = detect_mapping(list(table.frame.columns), mapping)
    prepared = prepare(table, resolved, options or IngestOptions())
    return load_prepared(engine, prepared, progress=progress, by=by)


def records_table(records: list[Mapping[str, object]], *, name: str = "records") -> RawTable:
    """Rows given as mappings (field -> value, as an API client sends them) as a raw table.

    The values go through the same validation as a file's cells, and the digest is of the
    rows themselves, so the same rows sent twice are recognised like the same file.
    """
    if not records:
        raise SchemaError("there are no rows to load; send at least one")
    columns = list(dict.fromkeys(key for record in records for key in record))
    frame = pd.DataFrame([[record.get(c) for c in columns] for record in records], columns=columns)
    frame = frame.astype(object).where(frame.notna(), "")
    digest = hashlib.sha256(
        json.dumps([list(r.items()) for r in records], default=str).encode()
    ).hexdigest()
    return RawTable(name, digest, "records", frame)


def ingest_records(
    engine: Engine,
    records: list[Mapping[str, object]],
    *,
    name: str = "records",
    options: IngestOptions | None = None,
    by: Actor | None = None,
) -> IngestSummary:
    """Validate, clean and load rows given as mappings as one batch, like a file."""
    table = records_table(records, name=name)
    mapping = {column: column for column in table.frame.columns if column in FIELDS}
    prepared = prepare(table, mapping, options or IngestOptions())
    return load_prepared(engine, prepared, by=by)
