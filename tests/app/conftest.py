"""Every AppTest runs against its own empty SQLite database with no cache carried over."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st

from salesml.db import create_engine_for, init_db
from salesml.demo import load_demo


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


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo data in a SQLite file, built once for the module."""
    path = tmp_path_factory.mktemp("demo") / "app.db"
    engine = create_engine_for(f"sqlite:///{path}")
    init_db(engine)
    load_demo(engine)
    engine.dispose()
    return path
