"""Tables and labels as pages show them: the ingest history, a rejection report, a model."""

from __future__ import annotations

import pandas as pd

from salesml import db

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
    "currency": "currency",
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


def batches_frame(batches: list[db.IngestBatch]) -> pd.DataFrame:
    """Ingest batches as a table with the history's column names."""
    rows = [{label: getattr(b, name) for name, label in BATCH_COLUMNS.items()} for b in batches]
    return pd.DataFrame(rows, columns=list(BATCH_COLUMNS.values()))


def rejections_frame(rejections: pd.DataFrame) -> pd.DataFrame:
    """A rejection report (row_number, column_name, reason, raw_value) with its report names."""
    return rejections[list(REJECTION_COLUMNS)].rename(columns=REJECTION_COLUMNS)


def saved_model_label(record: db.SavedModel) -> str:
    """A saved model in one line: id, its title or model and what it forecasts, data range."""
    from salesml.registry import display_name

    span = f"{record.data_start:%b %Y}–{record.data_end:%b %Y}"
    return f"#{record.id} {display_name(record)} · data {span}"
