"""The currency the figures are in: the database's one, or the one picked among several."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from salesml import currency
from salesml.ui.database import settings
from salesml.ui.messages import plain
from salesml.ui.queries import cached_currencies, cached_database_currency, cached_loaded_files


@dataclass(frozen=True)
class Shown:
    """The currency the figures are shown in, and the batches' stored currencies to keep
    (none: every batch, when the database holds one currency)."""

    unit: str
    kept: tuple[str, ...] = ()


def shown_currency(*, by_file: bool = False) -> Shown:
    """The database's currency; with several, one line says so and a picker chooses one, so
    amounts of different currencies are never added together (`by_file`: the line points to
    the page's Files filter too)."""
    default = settings().currency
    units = cached_currencies(default=default)
    if len(units) <= 1:
        return Shown(next(iter(units), default))
    names = ", ".join(currency.label(unit) for unit in units)
    files = " To count some files only, choose them under **Files** in the filters."
    st.warning(
        f"These sales are in {len(units)} currencies ({plain(names)}); figures of one currency "
        f"are shown at a time, never added together.{files if by_file else ''}",
        icon=":material/currency_exchange:",
    )
    unit = st.selectbox(
        "Currency",
        list(units),
        format_func=currency.label,
        key="currency",
        help="Only the files loaded in this currency are counted.",
    )
    return Shown(unit, units[unit])


def files_shown(shown: Shown) -> dict[int, str]:
    """The loaded files in the currency shown (all with one currency), by batch id, with
    their labels: what the Files filter offers."""
    default = settings().currency
    return {
        item.id: item.label(default=default)
        for item in cached_loaded_files()
        if not shown.kept or item.currency in shown.kept
    }


def held_currencies() -> list[str]:
    """The currencies the sales are in, as shown (the default for batches without one), the
    one of most lines first: what the picker offers."""
    return list(cached_currencies(default=settings().currency))


def database_currency() -> str:
    """The currency of every batch in the database (the default before any); "" when it
    holds several."""
    return cached_database_currency(default=settings().currency)
