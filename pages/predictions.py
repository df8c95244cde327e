"""Predictions: saved forecasts by run and model, and how they fare against the actuals."""

from __future__ import annotations

from typing import NoReturn

import pandas as pd
import streamlit as st

from salesml import charts, signin, ui
from salesml.errors import SalesMLError

# How the run and model ids read in every table of runs.
RUN_COLUMNS = {
    "run_id": "run id",
    "model_id": st.column_config.NumberColumn("model id", format="%d"),
}


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
    """Every saved run with its model, date, periods and series."""
    st.subheader("Saved forecasts")
    st.dataframe(
        runs,
        hide_index=True,
        column_config={
            **RUN_COLUMNS,
            "prediction_date": st.column_config.DateColumn("saved on"),
            "first_period": st.column_config.DateColumn("from"),
            "last_period": st.column_config.DateColumn("to"),
        },
    )


def accuracy_section() -> None:
    """Accuracy per run, over the periods whose actuals are complete."""
    st.subheader("Accuracy so far")
    try:
        scores = ui.cached_accuracy()
    except SalesMLError as exc:
        ui.show_error(exc)
        return
    if scores.empty:
        st.info(
            "No forecast period has complete actuals yet. Load the sales of those periods on "
            "the **Data** page; a period counts once its last day is in the data."
        )
        return
    st.dataframe(
        scores,
        hide_index=True,
        column_config={
            **RUN_COLUMNS,
            "model_used": "forecast by",
            "periods": st.column_config.NumberColumn("periods with actuals", format="%d"),
            "mae": st.column_config.NumberColumn("MAE", format="localized"),
            "smape": st.column_config.NumberColumn("sMAPE %", format="%.1f"),
            "bias": st.column_config.NumberColumn("bias", format="localized"),
            "coverage_80": st.column_config.NumberColumn("in 80% range", format="percent"),
            "coverage_95": st.column_config.NumberColumn("in 95% range", format="percent"),
        },
    )
    st.caption(
        "MAE: the average miss. sMAPE: the average miss as a percentage. Bias: forecast minus "
        "actual on average (above zero: forecasts ran high). In range: the share of actuals "
        "inside the forecast's 80% / 95% range — near 80% and 95% when the ranges are honest."
    )


def chart_section(runs: pd.DataFrame) -> None:
    """One run and series: the forecast with its ranges beside the actuals."""
    st.subheader("Forecast against actuals")
    labels = {
        row["run_id"]: f"{row['run_id'][:8]} · model #{row['model_id']} {row['model']} · "
        f"saved {row['prediction_date']}"
        for row in runs.to_dict("records")
    }
    run_cell, series_cell = st.columns(2, gap="large")
    run_id = run_cell.selectbox("Run", list(labels), format_func=labels.get, key="run")
    try:
        joined = ui.cached_run_actuals(run_id)
    except SalesMLError as exc:
        ui.show_error(exc)
        return
    series = series_cell.selectbox("Series", sorted(joined["series"].unique()), key="run_series")
    target, freq = str(joined["target"].iat[0]).capitalize(), str(joined["freq"].iat[0])
    chart = charts.predicted_vs_actual_chart(joined, series=series, freq=freq, y_title=target)
    st.altair_chart(chart, width="stretch")


ui.route_through_app()
signin.require("read")
st.title("Predictions")
ui.connect()
try:
    saved_runs = ui.cached_runs()
except SalesMLError as exc:
    ui.fail(exc)
if saved_runs.empty:
    nothing_saved()
runs_section(saved_runs)
accuracy_section()
chart_section(saved_runs)
