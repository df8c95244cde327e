"""Figures as a tile or a table shows them: compact (845k, 1.23M) or exact with a currency."""

from __future__ import annotations

import math

_SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def compact_number(value: float, *, signed: bool = False) -> str:
    """A figure to three significant digits for a tile: 845k, 1.23M, 10.5k; under 1,000 whole."""
    sign = "+" if signed and value >= 0 else ""
    if not math.isfinite(value):
        return f"{sign}{value}"
    rounded = float(f"{value:.3g}")  # first, so 999,950 becomes 1M rather than 1,000k
    for size, suffix in _SUFFIXES:
        if abs(rounded) >= size:
            scaled = rounded / size
            number = f"{scaled:.3g}" if abs(scaled) < 1000 else f"{scaled:,.0f}"
            return f"{sign}{number}{suffix}"
    whole = round(value)  # an int, so -0.4 shows as 0, not -0
    return f"{'+' if signed and whole >= 0 else ''}{whole:,}"


def compact_amount(value: float) -> str:
    """Money for a tile to three significant digits, like every tile figure (8.13M, 105,
    45.2, 0.5): four tiles abreast on a 1024-pixel screen hold five characters each."""
    if not math.isfinite(value):
        return compact_number(value)
    rounded = float(f"{round(value, 2):.3g}") + 0.0  # + 0.0: no "-0"
    return f"{rounded:g}" if abs(rounded) < 1000 else compact_number(value)


def money(value: float, currency: str = "") -> str:
    """An exact amount to the cent with its currency: '1,234.50 EUR', '$1,234.50'."""
    figure = f"{abs(value):,.2f}"
    sign = "-" if value < 0 and figure.strip("0.,") else ""
    if not currency:
        return f"{sign}{figure}"
    # A symbol ($, €, US$) goes before the figure, a code (EUR, CHF) after it.
    if currency[-1].isalpha():
        return f"{sign}{figure} {currency}"
    return f"{sign}{currency}{figure}"
