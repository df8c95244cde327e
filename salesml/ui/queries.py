"""Query results the pages show, cached for every session (salesml.ui.database.cached_query),
and the saved models loaded once per process."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from salesml import analytics, db
from salesml.ui.database import cached_query, query, settings
from salesml.ui.tables import REJECTION_COLUMNS, batches_frame, rejections_frame

# Filters is a frozen dataclass of tuples, so it hashes as a cache key.


def _overview(engine) -> db.Overview:
    return db.overview(engine)


def _batches(engine) -> pd.DataFrame:
    return batches_frame(db.list_batches(engine))


def _rejections(engine, batch_id: int) -> pd.DataFrame:
    items = db.batch_rejections(engine, batch_id)
    return rejections_frame(
        pd.DataFrame(
            [{name: getattr(item, name) for name in REJECTION_COLUMNS} for item in items],
            columns=list(REJECTION_COLUMNS),
        )
    )


def _gap(engine, freq: str = "M", end=None):  # -> series.SalesGap | None
    from salesml.series import find_gap

    return find_gap(engine, freq=freq, end=end)


def _models(engine) -> list[db.SavedModel]:
    from salesml import registry

    return registry.list_models(engine)


def _history(engine, level: str, freq: str, target: str) -> pd.DataFrame:
    from salesml.series import load_series

    return load_series(engine, level=level, freq=freq, target=target).frame


def _runs(engine) -> pd.DataFrame:
    from salesml import predictions

    return predictions.stored_runs(engine)


def _accuracy(engine) -> pd.DataFrame:
    from salesml import predictions

    return predictions.accuracy(engine)


def _run_actuals(engine, run_id: str) -> pd.DataFrame:
    from salesml import predictions

    return predictions.forecasts_with_actuals(engine, run_id=run_id)


cached_overview = cached_query(_overview, name="overview")
"""Row counts and date range of the sales table."""
cached_batches = cached_query(_batches, name="batches")
"""The ingest history as a display table, newest first."""
cached_rejections = cached_query(_rejections, name="rejections")
"""The stored rejection report of one batch as a display table."""
cached_gap = cached_query(_gap, name="gap")
"""The longest stretch without any sale inside the data, if long enough to matter."""
cached_models = cached_query(_models, name="models")
"""Saved models, newest first (cleared when a model is saved, renamed or deleted)."""
cached_history = cached_query(_history, name="history")
"""Sales series (unique_id, ds, y) as a model of this kind sees them."""
cached_runs = cached_query(_runs, name="runs")
"""Stored forecast runs, newest first."""
cached_accuracy = cached_query(_accuracy, name="accuracy")
"""Accuracy of stored forecasts against the actuals so far, per run."""
cached_run_actuals = cached_query(_run_actuals, name="run_actuals")
"""One stored run's forecasts beside the actuals that have arrived."""

# The salesml.analytics queries the pages show, each with its own cache.
cached_summary = cached_query(analytics.summarise, name="summary")
"""The sales under the filters totalled per (day, category)."""
cached_catalogue = cached_query(analytics.catalogue, name="catalogue")
"""Every (category, product) pair sold."""
cached_categories = cached_query(analytics.categories, name="categories")
"""Every category, sorted."""
cached_kpis = cached_query(analytics.kpis, name="kpis")
"""Revenue, quantity and number of sales lines under the filters."""
cached_top_products = cached_query(analytics.top_products, name="top_products")
"""The n products with the largest total of a measure under the filters."""
cached_over_time = cached_query(analytics.over_time, name="over_time")
"""A measure per period (grain) under the filters, with its rolling mean."""
cached_headline = cached_query(analytics.headline, name="headline")
"""KPIs of the latest full month against the previous period and last year; None if empty."""
cached_currencies = cached_query(analytics.currencies, name="currencies")
"""The currencies the loaded batches are in, the one of most lines first."""
cached_database_currency = cached_query(analytics.database_currency, name="database_currency")
"""The currency of every batch (the default before any); "" when there are several."""
cached_loaded_files = cached_query(analytics.loaded_files, name="loaded_files")
"""The loaded files (batches) with their currency, for the Explorer's Files filter."""


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def _model(url: str, model_dir: str, model_id: int) -> tuple[object, db.SavedModel]:
    from salesml import registry

    return query(lambda e: registry.load_model(e, model_id, model_dir=Path(model_dir)))


def cached_model(model_id: int) -> tuple[object, db.SavedModel]:
    """A saved model loaded once per process and model id (never retrained on a rerun)."""
    current = settings()
    return _model(current.database_url, str(current.model_dir), model_id)


def forget_models() -> None:
    """Forget every loaded model (after one was deleted)."""
    _model.clear()
