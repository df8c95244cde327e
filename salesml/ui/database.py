"""The app's database: settings, the engine shared by every session, queries run on it,
and query results cached for every session."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.runtime.pages_manager import PagesManager

from salesml import config, db
from salesml.errors import SalesMLError
from salesml.ui.messages import fail

T = TypeVar("T")

# Query results are shared by every session; a short life bounds how stale another
# process's view can be, and clear_data_caches() refreshes this process at once.
DATA_TTL_SECONDS = 60


def route_through_app() -> None:
    """Run this page inside app.py's navigation, also on a server just started on its URL.

    Streamlit treats an app beside a pages/ folder as a folder of pages until some
    session runs st.navigation: a link straight to a page on a freshly started server
    ran that file alone, with the file names as navigation and no page configuration.
    The first such run ends the folder mode for the process and starts again in app.py
    (once per session: Streamlit's AppTest restores the folder mode before every run).
    """
    if PagesManager.uses_pages_directory and not st.session_state.get("_routed"):
        st.session_state["_routed"] = True
        PagesManager.uses_pages_directory = False
        st.rerun()


def settings() -> config.Settings:
    """The app's settings: the environment, then .streamlit/secrets.toml when there is one."""
    # Reading st.secrets without a secrets file raises; load_if_toml_exists() only probes.
    secrets = st.secrets.to_dict() if st.secrets.load_if_toml_exists() else None
    return config.load_settings(secrets=secrets)


@st.cache_resource(show_spinner="Connecting to the database…", on_release=Engine.dispose)
def _engine_for(url: str) -> Engine:
    engine = db.create_engine_for(url)
    try:
        db.init_db(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def engine() -> Engine:
    """The process's engine on the configured database, schema migrated on first use."""
    # A failure is not cached, so reloading the page retries once the database is back.
    return _engine_for(settings().database_url)


def query(function: Callable[[Engine], T]) -> T:
    """Run a salesml query on the engine; any database failure becomes one of our errors."""
    current = engine()
    try:
        return function(current)
    except sa.exc.OperationalError as exc:
        db.check_connection(current)  # raises DatabaseUnavailableError with the reason
        raise db.database_error(exc, current) from None
    except sa.exc.SQLAlchemyError as exc:
        raise db.database_error(exc, current) from None


def cached_query(function: Callable[..., T], *, name: str | None = None) -> Callable[..., T]:
    """function(engine, *args) on the configured database, its result shared by every session
    for DATA_TTL_SECONDS, per database and arguments (clear_data_caches() forgets them all).

    The engine goes in as Streamlit's unhashed `_engine` argument; the database's URL beside
    it keys the cache, so two databases (a test's, a changed setting) never share a result.
    """

    def run(_engine: Engine, url: str, *args, **options) -> T:
        return query(lambda current: function(current, *args, **options))

    # Streamlit keys a cached function by its module and qualified name: one per query.
    run.__qualname__ = run.__name__ = name or function.__qualname__
    cached = st.cache_data(ttl=DATA_TTL_SECONDS, show_spinner=False)(run)

    @functools.wraps(function)
    def call(*args, **options) -> T:
        return cached(engine(), settings().database_url, *args, **options)

    call.clear = cached.clear
    return call


def clear_data_caches() -> None:
    """Forget every cached query result; call after the data changed (load, delete)."""
    st.cache_data.clear()


def connect() -> Engine:
    """The engine, or an explained error and the end of the page when there is none."""
    try:
        return engine()
    except SalesMLError as exc:
        fail(exc)
