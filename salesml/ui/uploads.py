"""An uploaded file read once, and its validation, kept for the browser session."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

import streamlit as st

from salesml.ingest import PreparedBatch, RawTable, read_table
from salesml.ui.database import settings

if TYPE_CHECKING:
    from streamlit.runtime.uploaded_file_manager import UploadedFile


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
