"""Driving the app with Streamlit's AppTest: open a page, rerun, click, read what it shows."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "app.py"
# CommonMark's backslash escapes: a backslash before ASCII punctuation is not shown.
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def open_page(page: str, secrets: dict[str, Any] | None = None, timeout: int = 60) -> AppTest:
    """Run the app and switch to a page, as a user clicking it in the sidebar."""
    # Test secrets replace a developer's .streamlit/secrets.toml, which would otherwise
    # be read (and copied into os.environ) by Streamlit.
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.secrets = secrets or {"SALESML_TEST": "isolated"}
    at.run()
    if page != "app.py":
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def rerun(at: AppTest) -> AppTest:
    """Run the page again after a widget changed, checking it drew without an exception."""
    at.run()
    assert not at.exception, at.exception
    return at


def click(at: AppTest, key: str) -> AppTest:
    """Click a button and check the page redrew without an exception."""
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def shown(markdown: str) -> str:
    """Markdown source as the reader sees its characters (ui.plain's escapes removed)."""
    return _ESCAPED.sub(r"\1", markdown)


def texts(elements: Iterable[Any]) -> str:
    """Every message of a list of elements as shown, joined, for `in` checks."""
    return "\n".join(shown(str(element.value)) for element in elements)


def metric_tile(at: AppTest, label: str) -> Any:
    """The metric tile with this label."""
    return next(m for m in at.metric if m.label == label)


def metric(at: AppTest, label: str) -> str:
    """The value of the metric tile with this label."""
    return metric_tile(at, label).value
