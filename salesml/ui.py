"""Streamlit glue: settings, the cached engine and query results, and widgets pages share."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NoReturn, TypeVar

import pandas as pd
import sqlalchemy as sa
import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.runtime.pages_manager import PagesManager
from threadpoolctl import threadpool_limits

from salesml import analytics, audit, config, db, ingest
from salesml.audit import Actor
from salesml.errors import ConfigError, DatabaseUnavailableError, SalesMLError
from salesml.ingest import IngestSummary, PreparedBatch
from salesml.reading import RawTable, read_table

if TYPE_CHECKING:
    from streamlit.runtime.uploaded_file_manager import UploadedFile

    from salesml.training import TrainRequest, TrainResult

T = TypeVar("T")
FlashKind = Literal["success", "info", "warning", "error"]

# Query results are shared by every session; a short life bounds how stale another
# process's view can be, and clear_data_caches() refreshes this process at once.
DATA_TTL_SECONDS = 60
EMPTY_DATABASE_MESSAGE = (
    "The database is empty — load a file on the **Data** page, "
    "or run `python -m salesml demo` for demo data."
)
# Display names of the ingest_batches columns, in the order the history table shows them.
BATCH_COLUMNS = {
    "id": "id",
    "file_name": "file",
    "created_at": "when",
    "rows_read": "read",
    "rows_loaded": "loaded",
    "rows_rejected": "rejected",
    "rows_duplicate": "duplicates",
    "rows_already_present": "already present",
    "rows_imputed": "imputed",
    "rows_returns": "returns",
    "status": "status",
    "loaded_by": "by",
}
# The rejection report's columns, as `python -m salesml rejections` writes them.
REJECTION_COLUMNS = {
    "row_number": "row_number",
    "column_name": "column_name",
    "reason": "reason",
    "raw_value": "raw_value",
}


# Characters that Streamlit's Markdown gives a meaning: links, emphasis, code, headings,
# lists, tables, HTML, LaTeX ($), colour and icon directives (:red[...], :material/x:).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=^])")


def plain(text: object) -> str:
    """User text (a name, a file name, a raw value) made inert inside Streamlit Markdown."""
    one_line = " ".join(str(text).splitlines())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", one_line)


# --------------------------------------------------------------------------- settings, engine


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


def _query(function: Callable[[Engine], T]) -> T:
    """Run a salesml query on the engine; any database failure becomes one of our errors."""
    current = engine()
    try:
        return function(current)
    except sa.exc.OperationalError as exc:
        db.check_connection(current)  # raises DatabaseUnavailableError with the reason
        raise db.database_error(exc, current) from None
    except sa.exc.SQLAlchemyError as exc:
        raise db.database_error(exc, current) from None


# --------------------------------------------------------------------------- cached queries


@st.cache_data(ttl=DATA_TTL_SECONDS, show_spinner=False)
def _overview(url: str) -> db.Overview:
    return _query(db.overview)


@st.cache_data(ttl=DATA_TTL_SECONDS, show_spinner=False)
def _batches(url: str) -> pd.DataFrame:
    return batches_frame(_query(db.list_batches))


@st.cache_data(ttl=DATA_TTL_SECONDS, show_spinner=False)
def _rejections(url: str, batch_id: int) -> pd.DataFrame:
    items = _query(lambda e: db.batch_rejections(e, batch_id))
    return rejections_frame(
        pd.DataFrame(
            [{name: getattr(item, name) for name in REJECTION_COLUMNS} for item in items],
            columns=list(REJECTION_COLUMNS),
        )
    )


def cached_overview() -> db.Overview:
    """Row counts and date range of the sales table (cached for a minute)."""
    return _overview(settings().database_url)


def cached_batches() -> pd.DataFrame:
    """The ingest history as a display table, newest first (cached for a minute)."""
    return _batches(settings().database_url)


def cached_rejections(batch_id: int) -> pd.DataFrame:
    """The stored rejection report of one batch as a display table (cached for a minute)."""
    return _rejections(settings().database_url, batch_id)


@st.cache_data(ttl=DATA_TTL_SECONDS, show_spinner=False)
def _gap(url: str, freq: str, end: dt.date | None) -> object:
    from salesml.series import find_gap

    return _query(lambda e: find_gap(e, freq=freq, end=end))


def cached_gap(freq: str = "M", end: dt.date | None = None):  # -> series.SalesGap | None
    """The longest stretch without any sale inside the data, if long enough to matter (cached)."""
    return _gap(settings().database_url, freq, end)


def clear_data_caches() -> None:
    """Forget every cached query result; call after the data changed (load, delete)."""
    st.cache_data.clear()


def load_prepared(
    prepared: PreparedBatch,
    progress: Callable[[float], None] | None = None,
    *,
    by: Actor | None = None,
) -> IngestSummary:
    """Load a validated batch into the database and refresh the cached query results."""
    summary = _query(lambda e: ingest.load_prepared(e, prepared, progress=progress, by=by))
    clear_data_caches()
    return summary


def delete_batch(batch_id: int, *, by: Actor | None = None) -> int:
    """Delete a batch with its sales rows and rejections; return the number of sales rows."""
    deleted = _query(lambda e: db.delete_batch(e, batch_id, by=by))
    clear_data_caches()
    return deleted


def load_demo(
    progress: Callable[[float], None] | None = None, *, by: Actor | None = None
) -> IngestSummary:
    """Generate and load the demo sales data; return its ingest summary."""
    from salesml.demo import load_demo as load

    summary = _query(lambda e: load(e, progress=progress, by=by))
    clear_data_caches()
    return summary


def train_demo_model(
    progress: Callable[[str], None] | None = None, *, by: Actor | None = None
) -> db.SavedModel:
    """Train and save the demo's ready model, so the Forecast page has one at once."""
    from salesml.demo import train_demo_model as train

    model_dir = settings().model_dir
    with threadpool_limits(1, user_api="openmp"):
        record = _query(lambda e: train(e, model_dir=model_dir, progress=progress, by=by))
    _saved_models.clear()
    return record


# --------------------------------------------------------------------------- explorer queries
# Filters is a frozen dataclass of tuples, so it hashes as a cache key.


@st.cache_data(ttl=DATA_TTL_SECONDS, show_spinner=False)
def _analytics(url: str, name: str, filters: analytics.Filters | None, **options) -> object:
    function = getattr(analytics, name)
    if filters is None:
        return _query(lambda e: function(e, **options))
    return _query(lambda e: function(e, filters, **options))


def cached_analytics(name: str, filters: analytics.Filters | None = None, **options) -> object:
    """A salesml.analytics query (headline, summarise, top_products, ...), cached for a minute."""
    return _analytics(settings().database_url, name, filters, **options)


def cached_summary(filters: analytics.Filters) -> analytics.Summary:
    """The sales under the filters totalled per (day, category) (cached for a minute)."""
    return cached_analytics("summarise", filters)


def cached_catalogue() -> analytics.Catalogue:
    """Every (category, product) pair sold (cached for a minute)."""
    return cached_analytics("catalogue")


# --------------------------------------------------------------------------- models


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def _model(url: str, model_dir: str, model_id: int) -> tuple[object, db.SavedModel]:
    from salesml import registry

    return _query(lambda e: registry.load_model(e, model_id, model_dir=Path(model_dir)))


def cached_model(model_id: int) -> tuple[object, db.SavedModel]:
    """A saved model loaded once per process and model id (never retrained on a rerun)."""
    current = settings()
    return _model(current.database_url, str(current.model_dir), model_id)


def forget_models() -> None:
    """Forget every loaded model (after one was deleted)."""
    _model.clear()


@st.cache_data(ttl=DATA_TTL_SECONDS, show_spinner=False)
def _saved_models(url: str) -> list[db.SavedModel]:
    from salesml import registry

    return _query(registry.list_models)


def cached_models() -> list[db.SavedModel]:
    """Saved models, newest first (cached for a minute; cleared when a model is saved)."""
    return _saved_models(settings().database_url)


def saved_model_label(record: db.SavedModel) -> str:
    """A saved model in one line: id, its title or model and what it forecasts, data range."""
    from salesml.registry import display_name

    span = f"{record.data_start:%b %Y}–{record.data_end:%b %Y}"
    return f"#{record.id} {display_name(record)} · data {span}"


def rename_model(model_id: int, title: str, *, by: Actor | None = None) -> db.SavedModel:
    """Give a saved model a title of the user's choosing; refresh the saved-models list."""
    from salesml import registry

    record = _query(lambda e: registry.rename_model(e, model_id, title, by=by))
    _saved_models.clear()
    return record


def delete_model(model_id: int, *, by: Actor | None = None) -> None:
    """Delete a saved model, its file and its stored forecasts; forget what was cached."""
    from salesml import registry

    model_dir = settings().model_dir
    _query(lambda e: registry.delete_model(e, model_id, model_dir=model_dir, by=by))
    forget_models()
    clear_data_caches()


# --------------------------------------------------------------------------- forecasts


@st.cache_data(ttl=DATA_TTL_SECONDS, show_spinner=False)
def _history(url: str, level: str, freq: str, target: str) -> pd.DataFrame:
    from salesml.series import load_series

    return _query(lambda e: load_series(e, level=level, freq=freq, target=target).frame)


def cached_history(level: str, freq: str, target: str) -> pd.DataFrame:
    """Sales series (unique_id, ds, y) as a model of this kind sees them (cached for a minute)."""
    return _history(settings().database_url, level, freq, target)


def store_forecast(
    table: pd.DataFrame, record: db.SavedModel, *, by: Actor | None = None, scenario: str = ""
) -> str:
    """Store a forecast table (a what-if under its scenario name) for a saved model, refresh
    the cached results; return the run id."""
    from salesml import predictions

    run_id = _query(
        lambda e: predictions.store_forecast(e, table, record, by=by, scenario=scenario)
    )
    clear_data_caches()
    return run_id


@st.cache_data(ttl=DATA_TTL_SECONDS, show_spinner=False)
def _runs(url: str) -> pd.DataFrame:
    from salesml import predictions

    return _query(predictions.stored_runs)


@st.cache_data(ttl=DATA_TTL_SECONDS, show_spinner=False)
def _accuracy(url: str) -> pd.DataFrame:
    from salesml import predictions

    return _query(predictions.accuracy)


@st.cache_data(ttl=DATA_TTL_SECONDS, show_spinner=False)
def _run_actuals(url: str, run_id: str) -> pd.DataFrame:
    from salesml import predictions

    return _query(lambda e: predictions.forecasts_with_actuals(e, run_id=run_id))


def cached_runs() -> pd.DataFrame:
    """Stored forecast runs, newest first (cached for a minute)."""
    return _runs(settings().database_url)


def cached_accuracy() -> pd.DataFrame:
    """Accuracy of stored forecasts against the actuals so far, per run (cached for a minute)."""
    return _accuracy(settings().database_url)


def cached_run_actuals(run_id: str) -> pd.DataFrame:
    """One stored run's forecasts beside the actuals that have arrived (cached for a minute)."""
    return _run_actuals(settings().database_url, run_id)


# --------------------------------------------------------------------------- training


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _block_stop_signals() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)


def _unblock_stop_signals() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


def _default_stop_handlers() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _unblock_stop_signals()


# statsforecast fits in forked worker processes and ends them with SIGTERM when done. A
# worker that inherits the Streamlit server's shutdown handler prints "Stopping..." and lives
# on, so the training would wait for it forever. Forked children get the default handlers;
# the stop signals stay blocked from the fork until then, so an early SIGTERM is not lost.
os.register_at_fork(
    before=_block_stop_signals,
    after_in_parent=_unblock_stop_signals,
    after_in_child=_default_stop_handlers,
)


@dataclass(frozen=True)
class KeptTraining:
    """A training run kept for this browser session, with the request and when it ran."""

    result: TrainResult
    request: TrainRequest
    trained_at: dt.datetime


def train(
    request: TrainRequest,
    progress: Callable[[str], None] | None = None,
    *,
    by: Actor | None = None,
) -> TrainResult:
    """Train inside this script run, so a rerun (any widget change) stops it.

    The fit uses one OpenMP thread. The server shares the machine's cores with other
    sessions, the browser and the database, and HistGradientBoosting's team of one thread
    per core spins at every barrier while another process holds a core: on two cores with
    one busy, training the demo data took 6-16 s instead of 3.6-4.2 s with one thread,
    and on an idle machine one thread was no slower. The limit belongs to the script
    run's own thread (OpenMP keeps it per thread) and ends with the training.
    """
    from salesml import training

    with threadpool_limits(1, user_api="openmp"):
        result = _query(lambda e: training.train(e, request, progress=progress))
    try:
        _query(
            lambda e: audit.record_now(
                e, by, "train", training.describe(request), f"{result.seconds:.1f} s"
            )
        )
    except SalesMLError as exc:  # the training stands; saving it is recorded again
        st.toast(plain(f"The training was not written to the audit log: {exc}"))
    return result


def keep_training(result: TrainResult, request: TrainRequest) -> None:
    """Remember a training run for this session, so reruns show it without retraining."""
    st.session_state["_training"] = KeptTraining(result, request, dt.datetime.now())


def kept_training() -> KeptTraining | None:
    """The session's last training run, or None."""
    return st.session_state.get("_training")


def save_training(kept: KeptTraining, *, by: Actor | None = None) -> db.SavedModel:
    """Save the kept run's model to the model directory and refresh the saved-models list."""
    from salesml import training

    model_dir = settings().model_dir
    record = _query(
        lambda e: training.save(e, kept.result, kept.request, model_dir=model_dir, by=by)
    )
    _saved_models.clear()
    return record


# --------------------------------------------------------------------------- uploads


def read_upload(upload: UploadedFile, encoding: str | None = None) -> RawTable:
    """Read an uploaded file once per upload and encoding; kept for this browser session."""
    kept = st.session_state.get("_upload")
    wanted = (upload.file_id, encoding)
    if kept is None or kept[0] != wanted:
        limit = settings().max_upload_bytes
        table = read_table(upload.getvalue(), name=upload.name, max_bytes=limit, encoding=encoding)
        st.session_state["_upload"] = (wanted, table)
        st.session_state.pop("_prepared", None)
    return st.session_state["_upload"][1]


def forget_upload() -> None:
    """Drop the session's uploaded table and its validation, once the upload is removed."""
    st.session_state.pop("_upload", None)
    st.session_state.pop("_prepared", None)


def keep_prepared(signature: Hashable, prepared: PreparedBatch) -> None:
    """Remember a validated batch together with the inputs that produced it."""
    st.session_state["_prepared"] = (signature, prepared)


def kept_prepared(signature: Hashable) -> PreparedBatch | None:
    """The validated batch if it was produced by exactly these inputs, else None."""
    kept = st.session_state.get("_prepared")
    return kept[1] if kept is not None and kept[0] == signature else None


def forget_prepared() -> None:
    """Drop the validated batch (after it was loaded, or could not be)."""
    st.session_state.pop("_prepared", None)


# --------------------------------------------------------------------------- presentation


def batches_frame(batches: list[db.IngestBatch]) -> pd.DataFrame:
    """Ingest batches as a table with the history's column names."""
    rows = [{label: getattr(b, name) for name, label in BATCH_COLUMNS.items()} for b in batches]
    return pd.DataFrame(rows, columns=list(BATCH_COLUMNS.values()))


def rejections_frame(rejections: pd.DataFrame) -> pd.DataFrame:
    """A rejection report (row_number, column_name, reason, raw_value) with its report names."""
    return rejections[list(REJECTION_COLUMNS)].rename(columns=REJECTION_COLUMNS)


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


def connect() -> Engine:
    """The engine, or an explained error and the end of the page when there is none."""
    try:
        return engine()
    except SalesMLError as exc:
        fail(exc)


def require_data(
    overview: db.Overview, *, loader: Actor | None = None, offer_demo: bool = False
) -> None:
    """Stop the page with a way forward when the database holds no sales yet: the Data page
    and the demo (offer_demo) for a user who may load (loader), whom to ask for the rest."""
    if overview.rows:
        return
    if loader is None:
        st.info("The database is empty: an analyst or admin loads the sales first.")
        st.stop()
    st.info(EMPTY_DATABASE_MESSAGE)
    st.page_link("pages/data.py", label="Load a file on the Data page", icon=":material/upload:")
    if offer_demo and st.button(
        "Load demo data",
        key="load_demo",
        help="A generated sales history of a small shop, to try the app.",
    ):
        _load_demo_here(loader)
    st.stop()


def _load_demo_here(by: Actor | None) -> NoReturn:
    bar = st.progress(0.0, text="Generating and loading the demo data…")
    try:
        summary = load_demo(
            progress=lambda done: bar.progress(done, text="Loading demo data…"), by=by
        )
        bar.progress(1.0, text="Training the demo's ready model (a year ahead per category)…")
        record = train_demo_model(
            progress=lambda stage: bar.progress(1.0, text=f"Training the demo model: {stage}"),
            by=by,
        )
    except SalesMLError as exc:
        fail(exc)
    flash(
        f"Loaded {summary.rows_loaded:,} demo sales lines ({summary.rows_rejected:,} rejected) "
        f"and saved a ready model, #{record.id}: the **Forecast** page shows it."
    )
    st.rerun()


def flash(message: str, *, kind: FlashKind = "success", slot: str = "page") -> None:
    """Keep a Markdown message (user text in it passed through plain) for the next rerun."""
    st.session_state[f"_flash_{slot}"] = (kind, message)


def show_flash(slot: str = "page") -> None:
    """Show, once, the message kept by flash() for this slot."""
    kept = st.session_state.pop(f"_flash_{slot}", None)
    if kept:
        kind, message = kept
        getattr(st, kind)(message)
