"""Spreadsheet-safe CSV: the one writer behind every download and command-line table."""

from __future__ import annotations

from typing import TextIO

import pandas as pd

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP's CSV
# injection list); a leading quote makes it text and is not shown.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: object) -> object:
    """A text value that a spreadsheet would run, made text; any other value unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of the table whose text cells and headers cannot start a formula."""
    safe = frame.copy()
    for column in safe.columns:
        values = safe[column]
        # Numbers, dates and booleans are written as such; only text can carry a formula.
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
            continue
        safe[column] = values.astype(object).map(escape_cell)
    safe.columns = [escape_cell(column) for column in safe.columns]
    return safe


def write_csv(frame: pd.DataFrame, stream: TextIO) -> None:
    """Write a table as spreadsheet-safe CSV to a text stream (a file, sys.stdout)."""
    spreadsheet_safe(frame).to_csv(stream, index=False, lineterminator="\n")


def csv_bytes(frame: pd.DataFrame, *, currency: str = "") -> bytes:
    """A table as spreadsheet-safe UTF-8 CSV, for a download or a file; with a currency,
    a last column says it on every line."""
    if currency:
        frame = frame.assign(currency=currency)
    return spreadsheet_safe(frame).to_csv(index=False, lineterminator="\n").encode("utf-8")
