"""Date parsing that infers day-first or month-first order from the data, or refuses to guess."""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesml.errors import AmbiguousDateError, SchemaError

# year-month-day, or day/month/year in either order, with an optional time that is ignored.
_NUMERIC = (
    r"^\s*(?P<a>\d{1,4})[-/.](?P<b>\d{1,2})[-/.](?P<c>\d{2,4})"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp][Mm])?)?\s*$"
)
EARLIEST = pd.Timestamp("1900-01-01")
LATEST = pd.Timestamp("2100-12-31")


def parse_dates(
    values: pd.Series, date_format: str | None = None, order: str | None = None
) -> tuple[np.ndarray, str, np.ndarray]:
    """Parse a column to dates: (datetime64[D] values, order used, mask of unparsable values).

    The order is the date format when given, else `order` when the whole file's values
    have decided it already (see `evidence`), else the one these values show.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.Series(pd.to_datetime(values).dt.tz_localize(None).to_numpy())
        return _checked(parsed, values.isna().to_numpy(), "native")
    # Sales files repeat the same few thousand dates: parse each distinct value once.
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    text = pd.Series(uniques, dtype=object).astype(str).str.strip()
    if date_format:
        parsed = _with_format(text, date_format)
        order = date_format
    else:
        order = order or decide_order(evidence(text))
        parsed = _in_order(text, order)
    blank = np.append(text.eq("").to_numpy(), True)[codes]
    expanded = np.append(parsed.to_numpy(), np.datetime64("NaT"))[codes]
    return _checked(pd.Series(expanded), blank, order)


def evidence(values: pd.Series) -> dict[str, str]:
    """The first value of each kind that bears on the date order, by kind.

    Kinds: "year-first" (2024-01-31), "day/month-first" (31/01/2024 or 01/31/2024), and of
    those "day-first" (first number over 12) and "month-first" (second number over 12).
    The evidence of a file's parts, merged keeping each kind's first value, decides as the
    whole file's would.
    """
    distinct = pd.Series(pd.unique(values.dropna()), dtype=object)
    text = pd.Series(pd.unique(distinct.astype(str).str.strip()), dtype=object)
    parts = text.str.extract(_NUMERIC)
    matched = parts["a"].notna().to_numpy()
    a = pd.to_numeric(parts["a"]).to_numpy()
    b = pd.to_numeric(parts["b"]).to_numpy()
    year_first = matched & (parts["a"].str.len() == 4).to_numpy()
    other = matched & ~year_first
    kinds = {
        "year-first": year_first,
        "day/month-first": other,
        "day-first": other & (a > 12),
        "month-first": other & (b > 12),
    }
    return {kind: text[mask].iloc[0] for kind, mask in kinds.items() if mask.any()}


def merge(first: dict[str, str], then: dict[str, str]) -> dict[str, str]:
    """The evidence of two parts of a file, the first part's first."""
    return {**then, **first}


def decide_order(found: dict[str, str]) -> str:
    """The date order the evidence shows; refuse a mix of orders or an undecided one."""
    if "year-first" not in found and "day/month-first" not in found:
        return "text"  # month names and other spelled-out forms are never ambiguous
    if "year-first" in found and "day/month-first" in found:
        _refuse_mixed(found, "year-first", "day/month-first")
    if "year-first" in found:
        return "year-month-day"
    if "day-first" in found and "month-first" in found:
        _refuse_mixed(found, "day-first", "month-first")
    if "month-first" in found:
        return "month-day-year"
    if "day-first" in found:
        return "day-month-year"
    raise AmbiguousDateError(
        f"dates such as {found['day/month-first']!r} could be day-first or month-first and no "
        "value in the file decides; give the date format, e.g. '%d/%m/%Y' or '%m/%d/%Y'",
        setting="date_format",
    )


def _with_format(text: pd.Series, date_format: str) -> pd.Series:
    try:
        return pd.to_datetime(text, format=date_format, errors="coerce")
    except ValueError as exc:
        raise SchemaError(
            f"date format {date_format!r} is not valid ({exc}); use strftime codes such as "
            "%d/%m/%Y or %Y-%m-%d",
            setting="date_format",
        ) from None


def _checked(parsed: pd.Series, blank: np.ndarray, order: str):
    parsed = parsed.where((parsed >= EARLIEST) & (parsed <= LATEST))
    bad = parsed.isna().to_numpy() & ~blank
    return parsed.to_numpy().astype("datetime64[D]"), order, bad


def _in_order(text: pd.Series, order: str) -> pd.Series:
    """Distinct date texts parsed in a decided order (NaT where a value does not fit it)."""
    if order == "text":
        return pd.to_datetime(text, format="mixed", errors="coerce")
    parts = text.str.extract(_NUMERIC)
    matched = parts["a"].notna()
    a = pd.to_numeric(parts["a"]).to_numpy()
    b = pd.to_numeric(parts["b"]).to_numpy()
    c = pd.to_numeric(parts["c"]).to_numpy()
    if order == "year-month-day":
        matched &= parts["a"].str.len() == 4
        return _assemble(a, b, c, matched)
    matched &= parts["a"].str.len() != 4
    if order == "month-day-year":
        return _assemble(_full_year(c), a, b, matched)
    return _assemble(_full_year(c), b, a, matched)


def _refuse_mixed(found: dict[str, str], first: str, second: str) -> None:
    raise AmbiguousDateError(
        f"the dates mix formats: {found[first]!r} is {first} but {found[second]!r} is {second}; "
        "make the column consistent, or give the date format to reject the rows that do not "
        "match",
        setting="date_format",
    )


def _full_year(year: np.ndarray) -> np.ndarray:
    # Two-digit years follow the strptime convention: 69-99 -> 19xx, 00-68 -> 20xx.
    return np.where(year < 100, np.where(year < 69, 2000 + year, 1900 + year), year)


def _assemble(year, month, day, matched: pd.Series) -> pd.Series:
    parts = pd.DataFrame({"year": year, "month": month, "day": day}, index=matched.index)
    ok = (
        matched
        & parts.notna().all(axis=1)
        & parts["month"].between(1, 12)
        & parts["day"].between(1, 31)
    )
    result = pd.Series(pd.NaT, index=matched.index, dtype="datetime64[ns]")
    if ok.any():
        result[ok] = pd.to_datetime(parts[ok].astype(int), errors="coerce")
    return result
