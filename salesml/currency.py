"""The currency of a batch's amounts: stated, in a column of the file, or shown by its symbols.

A currency is a code or a symbol (EUR, CHF, $, €, US$, R$, kr, zł), kept as given: a file
of "$1,234.50" is in "$", which the reader knows better than a guess at which dollar.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from salesml.errors import SchemaError

if TYPE_CHECKING:  # pandas is heavy, and settings read this module
    import pandas as pd

# Letters and currency signs only, so it is safe beside a figure and inside a label (no
# Markdown, no spaces).
PATTERN = re.compile(r"[^\W\d_]{1,3}|[^\W\d_]{0,2}[$£€¥₹₩₽₺₪฿₫₴₦]")
# The signs an amount may carry in a file (salesml.ingest.numbers strips the same ones).
SYMBOLS = "$£€¥"
_SIGN = re.compile(rf"[{SYMBOLS}]")
NOT_STATED = "not stated"  # how a batch without a currency is named


def check(value: str | None, *, source: str = "the currency") -> str:
    """A currency as stored: trimmed, codes in capitals; "" for none; SchemaError otherwise."""
    text = (value or "").strip()
    if not text:
        return ""
    if not PATTERN.fullmatch(text):
        raise SchemaError(
            f"{source} must be a currency code or symbol such as EUR or $, not {value!r}",
            setting="currency",
        )
    # An ISO code in capitals, so "usd" and "USD" are one currency; symbols as given.
    return text.upper() if len(text) == 3 and text.isascii() and text.isalpha() else text


def signs(values: pd.Series) -> set[str]:
    """The currency signs the text values of an amount column carry."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    if pd.api.types.is_numeric_dtype(values):
        return set()
    text = values.dropna()
    # In pyarrow, without a Python string per value: a large file's column is millions long.
    if isinstance(text.dtype, pd.ArrowDtype):
        texts = pa.array(text)
    else:
        texts = pa.array(pd.unique(text.astype(str)), type=pa.string())
    if not pc.any(pc.match_substring_regex(texts, _SIGN.pattern)).as_py():
        return set()  # most files: one pass
    return {sign for sign in SYMBOLS if pc.any(pc.match_substring(texts, sign)).as_py()}


def named(values: pd.Series, column: str) -> set[str]:
    """The currencies a currency column names (blank cells left out)."""
    import pandas as pd

    # Distinct values first: a column of millions names a currency or two.
    text = pd.Series(values.dropna().unique()).astype(str).str.strip()
    return {check(value, source=f"column {column!r}") for value in text if value}


def decide(
    *, stated: str | None, named: Iterable[str] = (), signs: Iterable[str] = (), default: str = ""
) -> str:
    """The batch's currency: as stated, else the file's currency column, else the sign its
    amounts carry, else the default; a file of several currencies is refused."""
    given = check(stated)
    if given:
        return given
    for found, what in ((sorted(named), "names"), (sorted(signs), "amounts carry")):
        if len(found) > 1:
            raise SchemaError(
                f"the file {what} {len(found)} currencies ({', '.join(found)}); load each "
                "currency as a file of its own, or state the currency",
                setting="currency",
            )
        if found:
            return found[0]
    return check(default)


def label(currency: str) -> str:
    """A currency as a reader sees it, "not stated" for none."""
    return currency or NOT_STATED


def in_label(text: str, currency: str) -> str:
    """A table's header or an axis's title for amounts: 'MAE (EUR)', the text alone without a
    currency. Plain text (a table's header is not Markdown): ui.in_currency for Markdown."""
    return f"{text} ({currency})" if currency else text


def choose(
    found: dict[str, tuple[str, ...]], wanted: str | None, *, default: str = ""
) -> tuple[str, tuple[str, ...]]:
    """The currency to show of those found (shown -> stored values, as analytics.currencies
    lists them) and the stored values to keep (none: all); several need one chosen."""
    names = ", ".join(label(unit) for unit in found)
    if wanted is None:
        if len(found) > 1:
            raise SchemaError(
                f"the sales are in {len(found)} currencies ({names}), which are never added "
                "up; choose one with currency",
                setting="currency",
            )
        return next(iter(found), default), ()
    unit = check(wanted)
    if unit not in found:
        raise SchemaError(
            f"there are no sales in {unit!r}; the sales are in {names or 'no currency yet'}",
            setting="currency",
        )
    return unit, (found[unit] if len(found) > 1 else ())
