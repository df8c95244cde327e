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
    values: pd.Series, date_format: str | None = None
) -> tuple[np.ndarray, str, np.ndarray]:
    """Parse a column to dates: (datetime64[D] values, order used, mask of unparsable values)."""
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
        parsed, order = _infer(text)
    blank = np.append(text.eq("").to_numpy(), True)[codes]
    expanded = np.append(parsed.to_numpy(), np.datetime64("NaT"))[codes]
    return _checked(pd.Series(expanded), blank, order)


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


def _infer(text: pd.Series) -> tuple[pd.Series, str]:
    parts = text.str.extract(_NUMERIC)
    matched = parts["a"].notna()
    if not matched.any():
        # Month names and other spelled-out forms are never ambiguous.
        return pd.to_datetime(text, format="mixed", errors="coerce"), "text"
    a = pd.to_numeric(parts["a"]).to_numpy()
    b = pd.to_numeric(parts["b"]).to_numpy()
    c = pd.to_numeric(parts["c"]).to_numpy()
    year_first = matched.to_numpy() & (parts["a"].str.len() == 4).to_numpy()
    other = matched.to_numpy() & ~year_first
    if year_first.any() and other.any():
        _refuse_mixed(text, year_first, other, "year-first", "day/month-first")
    if year_first.any():
        return _assemble(a, b, c, matched), "year-month-day"
    day_first = other & (a > 12)
    month_first = other & (b > 12)
    if day_first.any() and month_first.any():
        _refuse_mixed(text, day_first, month_first, "day-first", "month-first")
    if month_first.any():
        return _assemble(_full_year(c), a, b, matched), "month-day-year"
    if day_first.any():
        return _assemble(_full_year(c), b, a, matched), "day-month-year"
    example = text[other].iloc[0]
    raise AmbiguousDateError(
        f"dates such as {example!r} could be day-first or month-first and no value in the "
        f"file decides; give the date format, e.g. '%d/%m/%Y' or '%m/%d/%Y'",
        setting="date_format",
    )


def _refuse_mixed(text: pd.Series, first, second, first_name: str, second_name: str) -> None:
    a = text[first].iloc[0]
    b = text[second].iloc[0]
    raise AmbiguousDateError(
        f"the dates mix formats: {a!r} is {first_name} but {b!r} is {second_name}; "
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
