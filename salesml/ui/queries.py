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


def _analytics(engine, name: str, filters: analytics.Filters | None = None, **options) -> object:
    function = getattr(analytics, name)
    if filters is None:
        return function(engine, **options)
    return function(engine, filters, **options)


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
cached_analytics = cached_query(_analytics, name="analytics")
"""A salesml.analytics query by name (headline, summarise, top_products, ...)."""
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


def cached_summary(filters: analytics.Filters) -> analytics.Summary:
    """The sales under the filters totalled per (day, category) (cached for a minute)."""
    return cached_analytics("summarise", filters)


def cached_catalogue() -> analytics.Catalogue:
    """Every (category, product) pair sold (cached for a minute)."""
    return cached_analytics("catalogue")


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
