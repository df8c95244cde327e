"""What a page says: user text made inert, errors shown in one line, messages kept for the
next run of the page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal, NoReturn

import streamlit as st

from salesml.errors import ConfigError, DatabaseUnavailableError, SalesMLError

FlashKind = Literal["success", "info", "warning", "error"]

# Characters that Streamlit's Markdown gives a meaning: links, emphasis, code, headings,
# lists, tables, HTML, LaTeX ($), colour and icon directives (:red[...], :material/x:).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=^])")


def plain(text: object) -> str:
    """User text (a name, a file name, a raw value) made inert inside Streamlit Markdown."""
    one_line = " ".join(str(text).splitlines())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", one_line)


def in_currency(label: str, currency: str) -> str:
    """A label for an amount of money: 'Revenue (EUR)', or the label alone without a currency."""
    return f"{label} ({plain(currency)})" if currency else label


def show_error(exc: SalesMLError) -> None:
    """Show a salesml error as a message, with what to do when the database is the problem."""
    # Messages quote file names, column names and raw values: shown as typed, not as Markdown.
    st.error(plain(exc))
    if isinstance(exc, DatabaseUnavailableError):
        st.info(
            "Start the database server, or point the app at a reachable database with "
            "`SALESML_DATABASE_URL` (environment) or `.streamlit/secrets.toml`, "
            "then reload this page."
        )
    elif isinstance(exc, ConfigError):
        st.info("Fix the setting in the environment or `.streamlit/secrets.toml`, then reload.")


def fail(exc: SalesMLError) -> NoReturn:
    """Show a salesml error and stop drawing the page."""
    show_error(exc)
    st.stop()


@contextmanager
def stop_on_error() -> Iterator[None]:
    """Show a salesml error raised in the block, in one line, and end the page there."""
    try:
        yield
    except SalesMLError as exc:
        fail(exc)


def flash(message: str, *, kind: FlashKind = "success", slot: str = "page") -> None:
    """Keep a Markdown message (user text in it passed through plain) for the next rerun."""
    st.session_state[f"_flash_{slot}"] = (kind, message)


def show_flash(slot: str = "page") -> None:
    """Show, once, the message kept by flash() for this slot."""
    kept = st.session_state.pop(f"_flash_{slot}", None)
    if kept:
        kind, message = kept
        getattr(st, kind)(message)
