"""Data: load a sales file (map its columns, validate, load) and manage the loaded files."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from salesml import export, ui
from salesml.auth import Principal
from salesml.errors import NothingToLoadError, SalesMLError
from salesml.ingest import (
    FIELDS,
    REQUIRED,
    BackgroundLoad,
    IngestOptions,
    IngestSummary,
    PreparedBatch,
    RawTable,
    detect_mapping,
    encodings,
    missing_fields,
    prepare,
)
from salesml.ui import signin

NONE = "(none)"
FIELD_LABELS = {
    "date": "Date",
    "product_name": "Product name",
    "category": "Category",
    "quantity": "Quantity",
    "revenue": "Revenue",
    "unit_price": "Unit price",
    "currency": "Currency",
}
AUTO = "auto"
DECIMAL_MARKS = {
    AUTO: "Detected from the data",
    ".": "Point: 1,234.56",
    ",": "Comma: 1.234,56",
}
# Where this page sets what an error asks for (SalesMLError.setting), as the user sees it.
SETTING_HINTS = {
    "mapping": "choose the columns under Columns above",
    "date_format": "set it in 'Date format' under Options",
    "decimal": "choose it in 'Decimal mark' under Options",
    "currency": "type it in 'Currency' under Options",
    "encoding": "choose it in 'Text encoding' above",
}
# This session's load, running in the background (salesml.ingest.BackgroundLoad).
LOADING = "_loading"
# The history's count columns (see ui.BATCH_COLUMNS), shown with thousands separators.
COUNTS = ("read", "loaded", "rejected", "duplicates", "already present", "imputed", "returns")


def show_error(exc: SalesMLError) -> None:
    """A salesml error in one line, pointing to the field of this page that fixes it."""
    hint = SETTING_HINTS.get(exc.setting or "")
    if hint is None:
        ui.show_error(exc)
    else:
        st.error(ui.plain(f"{exc} ({hint})."))


def missing_help(mapping: dict[str, str]) -> str | None:
    """What to choose before validating, or None when every required field has a column."""
    absent = missing_fields(mapping)
    if not absent:
        return None
    names = [" or ".join(FIELD_LABELS[field] for field in group) for group in absent]
    listed = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
    return f"Choose the column for {listed} to validate."


def mapping_inputs(table: RawTable, file_id: str) -> dict[str, str]:
    """One selectbox per field, preset from the file's headers; returns field -> column."""
    columns = list(table.frame.columns)
    new_file = st.session_state.get("mapped_file") != file_id
    detected = detect_mapping(columns)
    for field in FIELDS:
        if new_file or f"map_{field}" not in st.session_state:
            st.session_state[f"map_{field}"] = detected.get(field, NONE)
    st.session_state["mapped_file"] = file_id
    st.subheader("Columns")
    st.caption(
        "Which column of the file holds each value. Required: date, product name, quantity, "
        "and revenue or unit price (revenue is then quantity × unit price)."
    )
    for cell, field in zip(st.columns(len(FIELDS)), FIELDS, strict=True):
        label = FIELD_LABELS[field] + (" *" if field in REQUIRED else "")
        cell.selectbox(label, [NONE, *columns], key=f"map_{field}")
    chosen = {field: st.session_state[f"map_{field}"] for field in FIELDS}
    return {field: column for field, column in chosen.items() if column != NONE}


def option_inputs() -> IngestOptions:
    """The cleaning options row."""
    st.subheader("Options")
    fmt, decimal_cell, currency_cell = st.columns(3)
    returns, duplicates, impute = st.columns(3)
    date_format = fmt.text_input(
        "Date format",
        key="date_format",
        placeholder="detected from the data",
        help="Only needed when dates are rejected: a pattern such as %d/%m/%Y or %m-%d-%y.",
    )
    drop_returns = returns.checkbox(
        "Drop returns", key="drop_returns", help="Reject lines with a negative quantity."
    )
    keep_duplicates = duplicates.checkbox(
        "Keep duplicate lines",
        key="keep_duplicates",
        help="Load identical lines of the file as separate sales instead of once.",
    )
    decimal = decimal_cell.selectbox(
        "Decimal mark",
        list(DECIMAL_MARKS),
        format_func=DECIMAL_MARKS.get,
        key="decimal",
        help="How the file writes fractions. Detected from values such as 12,50 or 1,234.56; "
        "choose it when the file holds only values like 1,234 that read either way.",
    )
    default = ui.settings().currency
    stated = currency_cell.text_input(
        "Currency",
        key="load_currency",
        max_chars=8,
        placeholder=f"from the file, else {default}" if default else "from the file",
        help="What the file's amounts are in: a code (EUR) or a symbol ($). Left empty, the "
        "file's Currency column or the sign on its amounts ($1,234.50) says, else "
        + (f"the default, {default}." if default else "none is recorded."),
    )
    impute_missing = impute.checkbox(
        "Impute missing values",
        value=True,
        key="impute_missing",
        help="A missing quantity or revenue gets the column's mean; when off, the line "
        "is rejected.",
    )
    return IngestOptions(
        date_format=date_format.strip() or None,
        impute_missing=impute_missing,
        drop_returns=drop_returns,
        keep_duplicates=keep_duplicates,
        decimal=None if decimal == AUTO else decimal,
        currency=stated.strip() or None,
        default_currency=default,
    )


def show_validation(prepared: PreparedBatch) -> None:
    """The summary counts and the rejected rows of a validated file."""
    s = prepared.summary
    counts = {
        "Rows read": s.rows_read,
        "To load": len(prepared.rows),
        "Rejected": s.rows_rejected,
        "Duplicates": s.rows_duplicate,
        "Imputed": s.rows_imputed,
        "Returns": s.rows_returns,
    }
    # Tiles as wide as their exact counts, in as many rows as the screen needs.
    tiles = st.container(horizontal=True)
    for label, value in counts.items():
        tiles.metric(label, f"{value:,}", border=True)
    read_as = [f"dates {ui.plain(s.date_order)}"] if s.date_order else []
    if s.decimal_mark:
        read_as.append(f"numbers with a decimal {'comma' if s.decimal_mark == ',' else 'point'}")
    if s.currency:
        read_as.append(f"amounts in {ui.plain(s.currency)}")
    st.caption(f"Read as: {', '.join(read_as)}.")
    for note in s.notes:
        st.info(ui.plain(note), icon=":material/info:")
    if prepared.rejections.empty:
        st.success("Every row passed validation.")
        return
    st.markdown(f"**Rejected rows** ({s.rows_rejected:,}): each with the reason.")
    show_rejections(
        ui.rejections_frame(prepared.rejections),
        "Download the rejection report (CSV)",
        f"{s.file_name.rsplit('.', 1)[0]}-rejections.csv",
        key="download_rejections",
    )


def show_rejections(report: pd.DataFrame, label: str, file_name: str, *, key: str) -> None:
    """A rejection report as a table, and the same table as a CSV download."""
    st.dataframe(report, hide_index=True)
    st.download_button(
        label,
        export.csv_bytes(report),
        file_name=file_name,
        mime="text/csv",
        key=key,
        on_click="ignore",
    )


def load(prepared: PreparedBatch) -> None:
    """Start loading the validated file in the background, then follow it on this page."""
    by = signin.require("load").actor("app")
    engine = ui.connect()
    st.session_state[LOADING] = BackgroundLoad(
        engine, prepared, by=by, on_finish=ui.clear_data_caches
    )
    ui.forget_prepared()
    follow_load()


def follow_load() -> None:
    """This session's load: its progress while it runs (also after a visit to another page,
    which does not stop it), then how it went, shown once."""
    job: BackgroundLoad | None = st.session_state.get(LOADING)
    if job is None:
        return
    text = ui.plain(f"Loading {job.file_name}… (it goes on if you open another page)")
    bar = st.progress(job.progress, text=text)
    while not job.wait(0.25):
        latest = f" — {job.latest.describe()}" if job.latest else ""
        bar.progress(job.progress, text=text + latest)
    bar.empty()
    del st.session_state[LOADING]
    if isinstance(job.error, NothingToLoadError):
        st.warning(ui.plain(job.error))
    elif job.error is not None:
        show_error(job.error)
    else:
        show_loaded(job.summary)


def show_loaded(summary: IngestSummary) -> None:
    """The summary of a finished load."""
    st.success(
        f"Loaded {summary.rows_loaded:,} rows as batch {summary.batch_id}; "
        f"{summary.rows_already_present:,} already present, {summary.rows_rejected:,} rejected, "
        f"{summary.rows_duplicate:,} duplicate lines skipped."
    )


def encoding_input(file_name: str) -> str | None:
    """The text encoding to read a CSV with: detected unless the user picks one."""
    if file_name.lower().endswith((".xlsx", ".parquet")):
        return None
    chosen = st.selectbox(
        "Text encoding",
        [AUTO, *encodings.KNOWN],
        format_func=encoding_label,
        key="encoding",
        help="Which characters the file's bytes stand for. If names in the preview look "
        "wrong (ConferenceÊphone, CafÃ©), choose the encoding the file was saved in.",
    )
    return None if chosen == AUTO else chosen


def encoding_label(name: str) -> str:
    """How the encoding picker names a choice."""
    return "Detected from the text" if name == AUTO else encodings.label(name)


def preview(table: RawTable) -> None:
    """How the file was read, and its first rows, to check names look right."""
    how = [f"{len(table.frame):,} rows × {len(table.frame.columns)} columns"]
    if table.encoding:
        detected = " (detected)" if table.encoding_detected else ""
        how.append(f"text in {encodings.label(table.encoding)}{detected}")
    if table.delimiter:
        how.append(f"fields separated by {DELIMITER_NAMES.get(table.delimiter, table.delimiter)}")
    st.caption(ui.plain(" · ".join(how)))
    # A guessed legacy encoding is worth a look before loading.
    guessed = table.encoding_detected and table.encoding not in (None, "utf-8")
    with st.expander("Preview: the first 20 rows", expanded=guessed):
        st.dataframe(table.frame.head(20), hide_index=True)


DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "bars"}


def upload_section() -> None:
    """Upload -> map columns -> options -> validate -> load."""
    st.header("Load a file")
    upload = st.file_uploader(
        "Sales file (CSV, Excel or Parquet)",
        type=["csv", "xlsx", "parquet"],
        key="upload",
        help="One row per sale line with a header row: a date, a product, a quantity and "
        "revenue or unit price. Loading the same lines twice does not count them twice.",
    )
    follow_load()
    if upload is None:
        ui.forget_upload()
        return
    encoding = encoding_input(upload.name)
    try:
        table = ui.read_upload(upload, encoding)
    except SalesMLError as exc:
        show_error(exc)
        return
    preview(table)
    mapping = mapping_inputs(table, f"{upload.file_id}:{table.encoding}")
    options = option_inputs()
    signature = (upload.file_id, table.encoding, tuple(sorted(mapping.items())), options)
    missing = missing_help(mapping)
    if st.button("Validate", key="validate", type="primary", disabled=missing is not None):
        try:
            ui.keep_prepared(signature, prepare(table, mapping, options))
        except SalesMLError as exc:
            show_error(exc)
            return
    if missing:
        st.caption(missing)
        return
    prepared = ui.kept_prepared(signature)
    if prepared is None:
        st.caption("Validate to see which rows would load and which would be rejected.")
        return
    show_validation(prepared)
    if st.button(
        "Load into the database", key="load", type="primary", disabled=prepared.rows.empty
    ):
        load(prepared)


def delete(batch_id: int) -> None:
    """Delete-button callback: runs before the page redraws, so the history is fresh."""
    user = signin.user()
    try:
        user.require("delete")
        deleted = ui.delete_batch(batch_id, by=user.actor("app"))
    except SalesMLError as exc:
        ui.flash(ui.plain(exc), kind="error", slot="delete")
    else:
        ui.flash(f"Deleted batch {batch_id} and its {deleted:,} sales lines.", slot="delete")
    for key in ("confirm_delete", "delete_batch", "report_batch"):
        st.session_state.pop(key, None)


def rejection_report(names: dict[int, str]) -> None:
    """Pick a loaded batch and see (or download) the rows of its file that were rejected."""
    st.subheader("Rejection report")
    batch_id = st.selectbox(
        "Batch", list(names), format_func=lambda i: f"Batch {i}: {names[i]}", key="report_batch"
    )
    try:
        report = ui.cached_rejections(batch_id)
    except SalesMLError as exc:
        ui.show_error(exc)
        return
    if report.empty:
        st.caption("No row of this file was rejected.")
        return
    show_rejections(
        report,
        "Download this report (CSV)",
        f"batch-{batch_id}-rejections.csv",
        key="download_batch_rejections",
    )


def delete_form(names: dict[int, str]) -> None:
    """Pick a batch, confirm, delete (see delete() for what happens on the click)."""
    st.subheader("Delete a batch")
    st.caption("Removes the batch's sales lines and its report; the file can be loaded again.")
    batch_id = st.selectbox(
        "Batch to delete",
        list(names),
        format_func=lambda i: f"Batch {i}: {names[i]}",
        key="delete_batch",
    )
    confirmed = st.checkbox("Yes, delete this batch", key="confirm_delete")
    st.button(
        "Delete batch", key="delete", disabled=not confirmed, on_click=delete, args=(batch_id,)
    )


def gap_warning() -> None:
    """Warn of a long stretch without sales inside the data, as two loads far apart leave."""
    try:
        gap = ui.cached_gap()
    except SalesMLError as exc:
        ui.show_error(exc)
        return
    if gap is not None:
        st.warning(
            ui.plain(
                f"{gap.describe()}. Delete one of the batches below, or train on "
                f"the sales up to {gap.before} with 'Sales up to' on the Train page."
            ),
            icon=":material/warning:",
        )


def history_section(user: Principal) -> None:
    """The ingest history, each batch's rejection report, and deleting a batch."""
    st.header("Loaded files")
    ui.show_flash("delete")
    try:
        batches = ui.cached_batches()
    except SalesMLError as exc:
        ui.show_error(exc)
        return
    if batches.empty:
        st.info("No file has been loaded yet.")
        return
    gap_warning()
    if not user.can("manage"):
        batches = batches.drop(columns="by")  # who loaded what: for admins (the audit log)
    st.dataframe(
        batches,
        hide_index=True,
        column_config={
            "when": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            **{count: st.column_config.NumberColumn(format="localized") for count in COUNTS},
        },
    )
    names = {int(i): str(name) for i, name in zip(batches["id"], batches["file"], strict=True)}
    report_cell, delete_cell = st.columns(2, gap="large")
    with report_cell:
        rejection_report(names)
    if user.can("delete"):
        with delete_cell:
            delete_form(names)


ui.route_through_app()
user = signin.require("load")  # the history and its controls below follow this user's role
st.title("Data")
ui.connect()
upload_section()
st.divider()
history_section(user)
