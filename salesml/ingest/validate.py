"""Validate and clean a file's rows: each one ends up to be loaded or rejected with a reason.

The checks run column by column: dates, names, quantities, amounts; then the gaps are
filled (or the rows rejected), and lines repeating one before them are set aside.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesml import currency, db
from salesml.ingest import identity, numbers
from salesml.ingest.dates import parse_dates
from salesml.ingest.mapping import check_mapping
from salesml.ingest.reading import RawTable
from salesml.ingest.repeats import Seen, identify
from salesml.ingest.summary import IngestOptions, IngestSummary, PreparedBatch

MISSING = {"", "na", "n/a", "nan", "null", "none", "-", "?"}
NUMERIC_FIELDS = ("quantity", "revenue", "unit_price")


class Report:
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
    return text.astype(str).str.strip().str.lower().isin(MISSING).to_numpy()


def is_missing(values: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return values.isna().to_numpy()
    return _per_value(values, _is_missing_text, True)


def _numbers(values: pd.Series, decimal: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse a column as numbers: (values with NaN where missing, mask of unparsable text)."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        missing = is_missing(values)
        parsed = values.to_numpy(dtype=float, na_value=np.nan)
    else:
        parsed = _plain_numbers(values, decimal)
        missing = np.zeros(len(values), dtype=bool)
        other = np.isnan(parsed)  # a plain number is never missing
        missing[other] = is_missing(values[other])
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
    summary = new_summary(table.name, table.sha256, table.encoding, mapping)
    decisions = Decisions(decimal=_decimal_mark(frame, mapping, options))
    summary.currency = decide_currency(*currency_evidence(frame, mapping), options)
    notes = Notes()
    rows, rejections = prepare_part(frame, 0, mapping, options, decisions, Seen(), summary, notes)
    notes.write(summary)
    return PreparedBatch(summary, rows, rejections)


def new_summary(name: str, sha256: str, encoding: str | None, mapping) -> IngestSummary:
    summary = IngestSummary(name, sha256, mapping=dict(mapping))
    summary.encoding = encoding or ""
    if "quantity" not in mapping:
        summary.notes.append("the file has no quantity column: quantity is recorded as 0")
    return summary


def prepare_part(
    frame: pd.DataFrame,
    offset: int,
    mapping: Mapping[str, str],
    options: IngestOptions,
    decisions: Decisions,
    seen: Seen,
    summary: IngestSummary,
    notes: Notes,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate and clean rows `offset`.. of a file: the rows to load and the rejections.

    The summary's counts grow by this part's; `seen` carries the lines of the parts before,
    so that a line repeating one of an earlier part is a duplicate as within one part.
    """
    report = Report(frame, offset)
    dates, product, category, quantity, money = checked(
        frame, mapping, options, decisions, report, summary
    )
    # Every check that can reject a row has run: the means come from accepted rows only.
    quantity, revenue = _impute(quantity, money, mapping, options, report, summary, decisions)
    _reject_large(np.nan_to_num(revenue), mapping, report)
    cents = np.zeros(len(frame), dtype=np.int64)
    cents[~report.bad] = identity.cents(revenue[~report.bad])
    values = (dates, product, category, quantity, cents)
    keep, duplicate, keys = identify(frame, ~report.bad, options, values, seen)
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


def checked(frame, mapping, options, decisions: Decisions, report: Report, summary):
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


def _check_dates(frame, mapping, options, order, report: Report, summary) -> np.ndarray:
    column = mapping["date"]
    dates, summary.date_order, bad_dates = parse_dates(frame[column], options.date_format, order)
    report.reject(is_missing(frame[column]), column, "date is missing")
    hint = f" (expected {options.date_format})" if options.date_format else ""
    report.reject(bad_dates, column, f"not a valid date{hint}")
    return dates


def _check_name(frame, mapping, field_name: str, limit: int, report: Report) -> np.ndarray:
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


def currency_evidence(frame: pd.DataFrame, mapping: Mapping[str, str]) -> tuple[set, set]:
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


def decide_currency(named: set, signs: set, options: IngestOptions) -> str:
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
        found[field_name] = column_evidence(mapping[field_name], values)
    return found


def column_evidence(column: str, values: pd.Series) -> numbers.Evidence:
    return numbers.evidence(column, pd.Series(pd.unique(values[~is_missing(values)]), dtype=object))


def _check_quantity(frame, mapping, decimal: str, report: Report) -> np.ndarray:
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


def money_label(mapping: Mapping[str, str]) -> str:
    return "revenue" if "revenue" in mapping else "unit price"


def _check_money(frame, mapping, quantity, decimal: str, report: Report) -> np.ndarray:
    """Revenue (or unit price) as numbers; amounts too large for the database rejected."""
    column = mapping.get("revenue") or mapping["unit_price"]
    money, bad = _numbers(frame[column], decimal)
    report.reject(bad, column, f"{money_label(mapping)} is not a number")
    revenue = money if "revenue" in mapping else quantity * money
    _reject_large(np.nan_to_num(revenue), mapping, report)
    return money


def _reject_large(revenue: np.ndarray, mapping: Mapping[str, str], report: Report) -> None:
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
        (money_label(mapping), money, money_column),
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


class Notes:
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
