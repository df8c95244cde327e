"""Changes made from the app (loads, deletes, models, forecasts, the demo): each runs on the
engine and refreshes the cached results it makes stale."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

import pandas as pd
import streamlit as st
from threadpoolctl import threadpool_limits

from salesml import db, deletion
from salesml.audit import Actor
from salesml.errors import SalesMLError
from salesml.ingest import IngestSummary, LoadProgress
from salesml.ui.database import clear_data_caches, query, settings
from salesml.ui.messages import fail, flash
from salesml.ui.queries import cached_models, forget_models

if TYPE_CHECKING:
    from salesml.predictions import SavedRun

EMPTY_DATABASE_MESSAGE = (
    "The database is empty — load a file on the **Data** page, "
    "or run `python -m salesml demo` for demo data."
)


def delete_batch(batch_id: int, *, by: Actor | None = None) -> int:
    """Delete a batch with its sales rows and rejections; return the number of sales rows."""
    deleted = query(lambda e: deletion.delete_batch(e, batch_id, by=by))
    clear_data_caches()
    return deleted


def load_demo(
    progress: Callable[[LoadProgress], None] | None = None, *, by: Actor | None = None
) -> IngestSummary:
    """Generate and load the demo sales data; return its ingest summary."""
    from salesml.demo import load_demo as load

    summary = query(lambda e: load(e, progress=progress, by=by))
    clear_data_caches()
    return summary


def train_demo_model(
    progress: Callable[[str], None] | None = None, *, by: Actor | None = None
) -> db.SavedModel:
    """Train and save the demo's ready model, so the Forecast page has one at once."""
    from salesml.demo import train_demo_model as train

    model_dir, unit = settings().model_dir, settings().currency
    with threadpool_limits(1, user_api="openmp"):
        record = query(
            lambda e: train(e, model_dir=model_dir, progress=progress, by=by, default_currency=unit)
        )
    cached_models.clear()
    return record


def rename_model(model_id: int, title: str, *, by: Actor | None = None) -> db.SavedModel:
    """Give a saved model a title of the user's choosing; refresh the saved-models list."""
    from salesml import registry

    record = query(lambda e: registry.rename_model(e, model_id, title, by=by))
    cached_models.clear()
    forget_models()  # the loaded model's record holds the old title
    return record


def delete_model(model_id: int, *, by: Actor | None = None) -> None:
    """Delete a saved model, its file and its stored forecasts; forget what was cached."""
    from salesml import registry

    model_dir = settings().model_dir
    query(lambda e: registry.delete_model(e, model_id, model_dir=model_dir, by=by))
    forget_models()
    clear_data_caches()


def store_forecast(
    table: pd.DataFrame, record: db.SavedModel, *, by: Actor | None = None, scenario: str = ""
) -> SavedRun:
    """Store a forecast table (a what-if under its scenario name) for a saved model, refresh
    the cached results; return the run and what it replaced."""
    from salesml import predictions

    saved = query(lambda e: predictions.save_forecast(e, table, record, by=by, scenario=scenario))
    clear_data_caches()
    return saved


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
            progress=lambda latest: bar.progress(latest.share, text="Loading demo data…"), by=by
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
