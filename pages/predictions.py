"""Predictions: saved forecasts by run and model, and how they fare against the actuals."""

from __future__ import annotations

from typing import NoReturn

import pandas as pd
import streamlit as st

from salesml import charts, currency, predictions, ui
from salesml.errors import SalesMLError
from salesml.ui import signin

# How a run reads in every table of runs: its short id, its model's name, base or what-if.
RUN_COLUMNS = {
    "run_id": st.column_config.TextColumn(
        "run", help="The first characters of the run's id", width="small"
    ),
    "model": st.column_config.TextColumn("model", width="medium"),
    "kind": st.column_config.TextColumn("forecast", width="medium"),
}
# The scores before the longer "forecast by", so they show without scrolling sideways.
ACCURACY_ORDER = ("run_id", "model", "kind", "mae", "smape", "bias", "coverage_80", "coverage_95")
ACCURACY_ORDER += ("periods", "model_used")
# Runs of figures in different units (revenue and quantities) each name their own.
UNIT_ORDER = (*ACCURACY_ORDER[:6], "unit", *ACCURACY_ORDER[6:])
# Whole figures from 100 up (the table rounds them), with thousands separators: "12,572".
FIGURE = "%,g"


def nothing_saved() -> NoReturn:
    """Stop the page with the way to a first saved forecast."""
    st.info(
        "No forecast has been saved yet. On the **Forecast** page pick a model and press "
        "**Save forecast to the database** (or run `python -m salesml forecast --horizon 6 "
        "--output forecast.csv`); its runs and accuracy appear here."
    )
    st.page_link("pages/forecast.py", label="Make a forecast", icon=":material/trending_up:")
    st.stop()


def runs_section(runs: pd.DataFrame) -> None:
    """Every saved run with its model, kind, date, periods and series."""
    st.subheader("Saved forecasts")
    st.dataframe(
        runs,
        hide_index=True,
        column_config={
            **RUN_COLUMNS,
            "prediction_date": st.column_config.DateColumn("saved on"),
            "first_period": st.column_config.DateColumn("from"),
            "last_period": st.column_config.DateColumn("to"),
            "periods": st.column_config.NumberColumn("periods", format="%d"),
            "series": st.column_config.NumberColumn("series", format="%d"),
        },
    )


def accuracy_section(names: dict[int, str], short: dict[str, str]) -> None:
    """Accuracy per run, over the periods whose actuals are complete."""
    st.subheader("Accuracy so far")
    try:
        scores = ui.cached_accuracy()
        units = figure_units()
    except SalesMLError as exc:
        ui.show_error(exc)
        return
    if scores.empty:
        st.info(
            "No forecast period has complete actuals yet. Load the sales of those periods on "
            "the **Data** page; a period counts once its last day is in the data."
        )
        return
    table = predictions.accuracy_table(scores, names, short, units=units)
    shared = predictions.shared_currency(table)  # None: each row names its unit
    unit = shared or ""
    st.dataframe(
        table,
        hide_index=True,
        column_order=ACCURACY_ORDER if shared is not None else UNIT_ORDER,
        column_config={
            **RUN_COLUMNS,
            "model_used": "forecast by",
            "periods": st.column_config.NumberColumn("periods with actuals", format="%d"),
            "mae": st.column_config.NumberColumn(currency.in_label("MAE", unit), format=FIGURE),
            "smape": st.column_config.NumberColumn("sMAPE", format="%.1f%%"),
            "bias": st.column_config.NumberColumn(currency.in_label("bias", unit), format=FIGURE),
            "unit": st.column_config.TextColumn("unit", width="small"),
            "coverage_80": st.column_config.NumberColumn("in 80% range", format="%.0f%%"),
            "coverage_95": st.column_config.NumberColumn("in 95% range", format="%.0f%%"),
        },
    )
    st.caption(
        "MAE: the average miss. sMAPE: the average miss as a percentage. Bias: forecast minus "
        "actual on average (above zero: forecasts ran high). In range: the share of actuals "
        "inside the forecast's 80% / 95% range — near 80% and 95% when the ranges are honest."
    )


def figure_units() -> dict[int, str]:
    """Each saved model's id to what its figures count: a currency, or units."""
    default = ui.settings().currency
    return {
        record.id: predictions.figure_unit(record, default=default, before=ui.database_currency)
        for record in ui.cached_models()
    }


def chart_section(labels: dict[str, str]) -> None:
    """One run and series: the forecast with its ranges beside the actuals."""
    st.subheader("Forecast against actuals")
    run_cell, series_cell = st.columns([2, 1], gap="large")  # a run reads long
    # Options are drawn as plain text (unlike the label): a what-if's name shows as typed.
    run_id = run_cell.selectbox("Run", list(labels), format_func=labels.get, key="run")
    try:
        joined = ui.cached_run_actuals(run_id)
    except SalesMLError as exc:
        ui.show_error(exc)
        return
    series = series_cell.selectbox("Series", sorted(joined["series"].unique()), key="run_series")
    target, freq = str(joined["target"].iat[0]), str(joined["freq"].iat[0])
    # Revenue is in the database's currency (training refuses a revenue of several).
    currency = ui.database_currency() if target == "revenue" else ""
    title = charts.measure_title(target, currency) if target in charts.MEASURE_TITLES else target
    chart = charts.predicted_vs_actual_chart(joined, series=series, freq=freq, y_title=title)
    st.altair_chart(chart, width="stretch")


ui.route_through_app()
signin.require("read")
st.title("Predictions")
ui.connect()
with ui.stop_on_error():
    saved_runs = ui.cached_runs()
    model_names = predictions.model_names(ui.cached_models())
if saved_runs.empty:
    nothing_saved()
short_ids = predictions.short_run_ids(saved_runs["run_id"])
runs_section(predictions.runs_table(saved_runs, model_names, short_ids))
accuracy_section(model_names, short_ids)
chart_section(predictions.run_labels(saved_runs, model_names, short_ids))
