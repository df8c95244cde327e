"""Every AppTest runs against its own empty SQLite database with no cache carried over."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.runtime.media_file_manager import MediaFileManager

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


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The bytes of every download button drawn, by file name, as the server keeps them."""
    kept: dict[str, bytes] = {}
    register = MediaFileManager.add

    def add(self, path_or_data, mimetype, coordinates, file_name=None, **options):
        kept[file_name] = path_or_data
        return register(self, path_or_data, mimetype, coordinates, file_name, **options)

    monkeypatch.setattr(MediaFileManager, "add", add)
    return kept


@pytest.fixture
def deferred_downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, Callable[[], Any]]:
    """The callables of deferred download buttons by file name, kept as the server keeps them:
    calling one builds the file as a click would."""
    kept: dict[str, Callable[[], Any]] = {}
    register = MediaFileManager.add_deferred

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **options):
        kept[file_name] = data_callable
        return register(self, data_callable, mimetype, coordinates, file_name, **options)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return kept
