"""Every AppTest runs against its own empty SQLite database with no cache carried over."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st


@pytest.fixture(autouse=True)
def app_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Point the app at an empty SQLite file in tmp_path; clear cached engines and results."""
    monkeypatch.setenv("SALESML_DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv("SALESML_DATA_DIR", str(tmp_path))
    for name in ("SALESML_MODEL_DIR", "SALESML_MAX_UPLOAD_MB"):
        monkeypatch.delenv(name, raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield tmp_path
    st.cache_resource.clear()
    st.cache_data.clear()
