"""Tables and labels as pages show them: the ingest history, a rejection report, a model,
and the Team page's users, API tokens and audit log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from salesml import db

if TYPE_CHECKING:
    from salesml.auth import TokenInfo

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


def users_frame(users: Sequence[db.User]) -> pd.DataFrame:
    """Users as the Team page lists them: name, role, e-mail, state, when added."""
    return pd.DataFrame(
        [
            {
                "name": u.name,
                "role": u.role,
                "e-mail": u.email or "",
                "state": "disabled" if u.disabled else "active",
                "added": u.created_at,
            }
            for u in users
        ]
    )


def tokens_frame(tokens: Sequence[TokenInfo]) -> pd.DataFrame:
    """API tokens as the Team page lists them, by prefix only (a token is shown once)."""
    return pd.DataFrame(
        [
            {
                "id": t.id,
                "token": f"{t.prefix}…",
                "user": t.user,
                "role": t.role,
                "label": t.label,
                "state": t.state,
                "created": t.created_at,
                "expires": t.expires_at,
            }
            for t in tokens
        ]
    )


def audit_frame(entries: Sequence[db.AuditEntry]) -> pd.DataFrame:
    """The audit log as the Team page shows it, newest first as given."""
    return pd.DataFrame(
        [
            {
                "when (UTC)": e.at,
                "who": e.actor,
                "via": e.via,
                "action": e.action,
                "what": e.target,
                "detail": e.detail,
            }
            for e in entries
        ]
    )
