"""Streamlit glue, the one part of salesml that imports Streamlit besides the server: what
the pages share, by job.

- messages: user text made inert, errors in one line (stop_on_error), flash messages
- database: settings, the shared engine, queries and cached_query
- queries: the cached query results pages show, and saved models loaded once
- changes: loads, deletes, models, forecasts and the demo, each refreshing the caches
- training: training inside a page's run, kept for the session
- uploads: an uploaded file read once, and its validation
- tables: tables and labels as pages show them
- signin: who the browser session is and what they may do (imported as salesml.ui.signin)

Pages use them through this package (`ui.plain`, `ui.cached_models`, ...).
"""

from salesml.ui.changes import (
    delete_batch,
    delete_model,
    rename_model,
    require_data,
    store_forecast,
)
from salesml.ui.currencies import (
    Shown,
    database_currency,
    files_shown,
    held_currencies,
    shown_currency,
)
from salesml.ui.database import (
    clear_data_caches,
    connect,
    engine,
    route_through_app,
    settings,
)
from salesml.ui.messages import (
    fail,
    flash,
    in_currency,
    plain,
    show_error,
    show_flash,
    stop_on_error,
)
from salesml.ui.queries import (
    cached_accuracy,
    cached_batches,
    cached_catalogue,
    cached_categories,
    cached_gap,
    cached_headline,
    cached_history,
    cached_kpis,
    cached_loaded_files,
    cached_model,
    cached_models,
    cached_over_time,
    cached_overview,
    cached_rejections,
    cached_run_actuals,
    cached_runs,
    cached_summary,
    cached_top_products,
    forget_models,
)
from salesml.ui.tables import (
    BATCH_COLUMNS,
    audit_frame,
    rejections_frame,
    saved_model_label,
    tokens_frame,
    users_frame,
)
from salesml.ui.training import (
    KeptTraining,
    address_run,
    keep_training,
    kept_training,
    save_training,
    train,
)
from salesml.ui.uploads import (
    forget_prepared,
    forget_upload,
    keep_prepared,
    kept_prepared,
    read_upload,
)

__all__ = [
    "BATCH_COLUMNS",
    "KeptTraining",
    "Shown",
    "address_run",
    "audit_frame",
    "cached_accuracy",
    "cached_batches",
    "cached_catalogue",
    "cached_categories",
    "cached_gap",
    "cached_headline",
    "cached_history",
    "cached_kpis",
    "cached_loaded_files",
    "cached_model",
    "cached_models",
    "cached_over_time",
    "cached_overview",
    "cached_rejections",
    "cached_run_actuals",
    "cached_runs",
    "cached_summary",
    "cached_top_products",
    "clear_data_caches",
    "connect",
    "database_currency",
    "delete_batch",
    "delete_model",
    "engine",
    "fail",
    "files_shown",
    "flash",
    "forget_models",
    "forget_prepared",
    "forget_upload",
    "held_currencies",
    "in_currency",
    "keep_prepared",
    "keep_training",
    "kept_prepared",
    "kept_training",
    "plain",
    "read_upload",
    "rejections_frame",
    "rename_model",
    "require_data",
    "route_through_app",
    "save_training",
    "saved_model_label",
    "settings",
    "show_error",
    "show_flash",
    "shown_currency",
    "stop_on_error",
    "store_forecast",
    "tokens_frame",
    "train",
    "users_frame",
]
