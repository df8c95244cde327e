"""Numbers written as text: the decimal mark decided from the data, then parsed exactly.

'1.234,56' and '1,234.56' are the same amount in two conventions; '12,50' is twelve and a
half wherever a comma is the decimal mark. The mark is worked out from values that show it
(a separator followed by other than three digits, or both separators in one value) and a
file whose values disagree, or that holds only values such as '1,234' that read either way,
is refused with a request to state it, as for ambiguous dates.
"""

from __future__ import annotations

import decimal as decimal_numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesml.errors import AmbiguousNumberError, SchemaError

MARKS = {".": "decimal point", ",": "decimal comma"}
_CURRENCY = r"[$£€¥]"
# Besides the other mark, a space (no-break and thin ones in French) or the Swiss
# apostrophe may group thousands: only between groups of three digits, the same throughout.
_GROUP_SPACES = " \u00a0\u202f'"
_EXPONENT = r"(?:[eE][+-]?\d+)?"


@dataclass(frozen=True)
class Evidence:
    """Values of one column that show which decimal mark the file uses."""

    column: str
    point: str | None = None  # first value read only with a decimal point
    comma: str | None = None  # first value read only with a decimal comma
    either: str | None = None  # first value that reads both ways ('1,234')


def check_mark(decimal: str | None) -> str | None:
    """Validate a decimal mark given by the user ('.' or ',', or None to detect)."""
    if decimal in (None, "", "auto"):
        return None
    if decimal not in MARKS:
        raise SchemaError(
            f"the decimal mark must be '.' or ',', not {decimal!r}", setting="decimal"
        )
    return decimal


def evidence(column: str, values: pd.Series) -> Evidence:
    """What a column's distinct text values say about the decimal mark."""
    core = _core(_texts(values))
    core = core[core.str.contains(r"[.,]", regex=True)]
    if core.empty:
        return Evidence(column)
    point, comma, either = _classify(core)
    return Evidence(
        column,
        point=_first(core, point),
        comma=_first(core, comma),
        either=_first(core, either),
    )


def merge(first: Evidence, then: Evidence) -> Evidence:
    """The evidence of two parts of a column, the first part's values first."""
    return Evidence(
        first.column,
        point=first.point or then.point,
        comma=first.comma or then.comma,
        either=first.either or then.either,
    )


def decide(found: Mapping[str, Evidence]) -> str:
    """The file's decimal mark from its columns' evidence; refuse when it cannot be told."""
    points = [e for e in found.values() if e.point]
    commas = [e for e in found.values() if e.comma]
    if points and commas:
        p, c = points[0], commas[0]
        raise AmbiguousNumberError(
            f"the numbers mix decimal marks: {p.point!r} (column {p.column!r}) has a decimal "
            f"point but {c.comma!r} (column {c.column!r}) a decimal comma; choose the decimal "
            "mark",
            setting="decimal",
        )
    if commas:
        return ","
    if points:
        return "."
    unclear = [e for e in found.values() if e.either]
    if unclear:
        e = unclear[0]
        raise AmbiguousNumberError(
            f"numbers such as {e.either!r} (column {e.column!r}) could have a decimal point or "
            "a decimal comma and no value in the file decides; choose the decimal mark",
            setting="decimal",
        )
    return "."


def parse(values: pd.Series, decimal: str) -> np.ndarray:
    """Distinct values as floats (NaN where a value is not a number in this convention)."""
    result = np.full(len(values), np.nan)
    native = values.map(_is_native_number).to_numpy(dtype=bool)
    if native.any():
        result[native] = values[native].astype(float).to_numpy()
    text = values[~native]
    if len(text):
        result[~native] = _parse_text(_texts(text), decimal)
    return result


def _parse_text(text: pd.Series, decimal: str) -> np.ndarray:
    bracketed, sign, core = _split(text)
    group = "," if decimal == "." else "."
    d, g = re.escape(decimal), f"[{re.escape(group)}{_GROUP_SPACES}]"
    plain = core.str.fullmatch(rf"(?:\d+{d}?\d*|{d}\d+){_EXPONENT}")
    grouped = core.str.fullmatch(rf"\d{{1,3}}({g})\d{{3}}(?:\1\d{{3}})*(?:{d}\d*)?{_EXPONENT}")
    valid = (plain | grouped).fillna(False).to_numpy(dtype=bool)
    valid &= ~(bracketed & (sign != "").to_numpy())  # '(-5)' has two signs: not a number
    digits = core.str.replace(g, "", regex=True).str.replace(decimal, ".", regex=False)
    parsed = pd.to_numeric((sign + digits).where(valid), errors="coerce").to_numpy(dtype=float)
    return np.where(bracketed, -parsed, parsed)


def _split(text: pd.Series) -> tuple[np.ndarray, pd.Series, pd.Series]:
    """Each value as (negative in brackets?, sign, digits with their separators)."""
    text = text.str.strip()
    bracketed = (text.str.startswith("(") & text.str.endswith(")")).to_numpy(dtype=bool)
    body = text.where(~bracketed, text.str.slice(1, -1)).str.strip()
    body = body.str.replace(rf"^{_CURRENCY}\s*|\s*{_CURRENCY}$", "", regex=True)
    sign = body.str.extract(r"^([+-]?)", expand=False).fillna("")
    core = body.str.replace(rf"^[+-]\s*(?:{_CURRENCY}\s*)?", "", regex=True)
    return bracketed, sign, core


def _classify(core: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Masks of values read only with a point, only with a comma, or either way."""
    dots, commas = core.str.count(r"\."), core.str.count(",")
    last_dot, last_comma = core.str.rfind("."), core.str.rfind(",")
    both = (dots > 0) & (commas > 0)
    only_comma = (commas > 0) & (dots == 0)
    only_dot = (dots > 0) & (commas == 0)
    # one separator with three digits after it and a short, non-zero part before it
    thousands_like = core.str.fullmatch(r"[1-9]\d{0,2}[.,]\d{3}").fillna(False)
    # several of one separator: thousands groups, if they are groups of three digits
    comma_groups = core.str.fullmatch(r"\d{1,3}(?:,\d{3}){2,}").fillna(False)
    dot_groups = core.str.fullmatch(r"\d{1,3}(?:\.\d{3}){2,}").fillna(False)
    point = (both & (last_dot > last_comma)) | (only_comma & comma_groups)
    point |= only_dot & (dots == 1) & ~thousands_like
    comma = (both & (last_comma > last_dot)) | (only_dot & dot_groups)
    comma |= only_comma & (commas == 1) & ~thousands_like
    either = thousands_like & ~point & ~comma
    return point, comma, either


def _first(core: pd.Series, mask: pd.Series) -> str | None:
    chosen = core[mask.fillna(False).to_numpy(dtype=bool)]
    return None if chosen.empty else str(chosen.iloc[0])


def _core(text: pd.Series) -> pd.Series:
    """The values that are digits and separators once sign, brackets and currency are gone."""
    _, _, core = _split(text)
    allowed = rf"[\d.,{_GROUP_SPACES}]*\d[\d.,{_GROUP_SPACES}]*(?:[eE][+-]?\d+)?"
    return core[core.str.fullmatch(allowed).fillna(False)]


def _texts(values: pd.Series) -> pd.Series:
    """The text values of a column of distinct values (native numbers left out)."""
    values = values[~values.map(_is_native_number).to_numpy(dtype=bool)]
    return values.astype(str).reset_index(drop=True)


def _is_native_number(value: object) -> bool:
    numeric = int | float | np.number | decimal_numbers.Decimal
    return isinstance(value, numeric) and not isinstance(value, bool | np.bool_)
