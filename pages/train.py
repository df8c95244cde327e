"""Train & compare: backtest models on the sales series, compare them, save the chosen one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from salesml import charts, report, ui
from salesml.auth import Principal
from salesml.comparisons import Comparison
from salesml.db import Overview
from salesml.errors import SalesMLError
from salesml.frequencies import FREQUENCIES
from salesml.series import FREQS, LEVELS, TARGETS
from salesml.training import (
    FORM_HORIZON,
    HORIZON_MAX,
    HORIZON_MIN,
    WINDOWS_MAX,
    WINDOWS_MIN,
    TrainRequest,
    default_level,
)
from salesml.ui import signin
from salesml.zoo import AUTO, MODELS

FORECAST_PAGE = Path(__file__).with_name("forecast.py")
# Widget values outlive the presenter view (which hides them) and visits to other pages.
KEEP = "session"
PRESENT = "present"  # ?view=present: the presenter view, at the page's full width


def request_inputs(overview: Overview) -> TrainRequest:
    """The training settings: what to forecast, how far, with which models, on which sales."""
    first, last = overview.first_date, overview.last_date
    level, freq, target, horizon = st.columns(4)
    chosen_level = level.selectbox(
        "Level",
        LEVELS,
        index=LEVELS.index(default_level(overview.products, overview.categories)),
        format_func=report.LEVEL_LABELS.get,
        key="train_level",
        persist_state=KEEP,
        help="One series of all sales, one per category, or one per product.",
    )
    chosen_freq = freq.selectbox(
        "Frequency",
        FREQS,
        index=FREQS.index("M"),
        format_func=lambda code: FREQUENCIES[code].label,
        key="train_freq",
        persist_state=KEEP,
    )
    chosen_target = target.selectbox(
        "Target", TARGETS, format_func=str.capitalize, key="train_target", persist_state=KEEP
    )
    chosen_horizon = horizon.number_input(
        "Horizon (periods)",
        min_value=HORIZON_MIN,
        max_value=HORIZON_MAX,
        value=FORM_HORIZON,
        step=1,
        key="train_horizon",
        persist_state=KEEP,
        help="How many periods ahead to forecast; each backtest window is this long.",
    )
    models, windows, categories, until = st.columns([3, 1, 2, 1])
    chosen_models = models.multiselect(
        "Models",
        [AUTO, *MODELS],
        default=[AUTO],
        format_func=report.model_label,
        key="train_models",
        persist_state=KEEP,
        help="Auto tries every model and simple combinations and keeps the best backtest. "
        "Whenever ETS and Theta are both compared, a model that does not beat their mean by "
        "more than the backtest's noise gives way to that mean.",
    )
    chosen_windows = windows.slider(
        "Backtest windows",
        WINDOWS_MIN,
        WINDOWS_MAX,
        value=TrainRequest().windows,
        key="train_windows",
        persist_state=KEEP,
        help="Rolling-origin windows: more windows give a steadier ranking and interval "
        "coverage (from two), but train longer.",
    )
    chosen_categories = categories.multiselect(
        "Categories",
        ui.cached_categories(),
        placeholder="All categories",
        key="train_categories",
        persist_state=KEEP,
    )
    chosen_end = until.date_input(
        "Sales up to",
        last,
        min_value=first,
        max_value=last,
        format="YYYY-MM-DD",
        # A key of its own per last sale: once newer sales are loaded, the picker starts at
        # them again instead of keeping an earlier day that would leave them out unseen.
        key=f"train_end_{last:%Y%m%d}",
        persist_state=KEEP,
        help="Train on the sales up to this day. With an earlier day, a forecast saved from "
        "the model covers sales already loaded: the Predictions page scores it at once.",
    )
    return TrainRequest(
        level=chosen_level,
        freq=chosen_freq,
        target=chosen_target,
        horizon=int(chosen_horizon),
        models=tuple(chosen_models),
        windows=int(chosen_windows),
        categories=tuple(chosen_categories),
        end=None if chosen_end >= last else chosen_end,
    )


def run_training(request: TrainRequest, user: Principal) -> None:
    """Train with live progress; keep the result for the session, or show why it failed."""
    with st.status("Training…", expanded=True) as status:
        bar = st.progress(0.05, text="Building the series in the database…")

        def progress(message: str) -> None:
            status.write(ui.plain(message))
            bar.progress(0.3, text="Backtesting the models, then refitting the chosen one…")

        try:
            result = ui.train(request, progress=progress, by=user.actor("app"))
        except SalesMLError as exc:
            status.update(label="Training failed", state="error", expanded=False)
            failure = exc
        else:
            failure = None
            bar.progress(1.0, text="Done")
            status.update(
                label=f"Trained in {result.seconds:.1f} s: "
                f"{ui.plain(report.chosen_model(result))} chosen",
                state="complete",
                expanded=False,
            )
    if failure is not None:
        ui.fail(failure)
    ui.keep_training(result, request, by=user.actor("app"))


def show_leaderboard(
    result: Comparison, *, metrics: tuple[str, ...] = tuple(report.METRIC_LABELS)
) -> None:
    """The leaderboard, the chosen model first and highlighted."""
    board = report.leaderboard(result, metrics=metrics)
    if board.empty:
        st.info("There was too little history to backtest any model.")
        return
    st.dataframe(
        report.style_leaderboard(board),
        hide_index=True,
        column_config={
            "#": st.column_config.NumberColumn(width="small", help="Rank by MASE"),
            "Role": st.column_config.TextColumn(width="small"),
            **{
                label: st.column_config.Column(header)
                for label, header in report.money_headers(result).items()
            },
        },
        placeholder="—",
    )


def chart_inputs(result: Comparison) -> tuple[str, list[str]]:
    """Which series and models the backtest chart shows (kept across reruns)."""
    series_options, model_options = report.chart_series(result), report.chart_models(result)
    # A new training may not have the series or models picked for the previous one.
    if st.session_state.get("train_chart_series") not in series_options:
        st.session_state["train_chart_series"] = series_options[0]
    picked = st.session_state.get("train_chart_models")
    if picked is None or not set(picked) <= set(model_options):
        st.session_state["train_chart_models"] = report.default_chart_models(result)
    return st.session_state["train_chart_series"], st.session_state["train_chart_models"]


def show_chart(result: Comparison) -> None:
    """Backtest forecasts against the actuals of one series, with its pickers."""
    if not report.chart_series(result):
        return
    st.subheader("Backtest forecasts against actuals")
    chart_inputs(result)
    series_cell, models_cell = st.columns([1, 2])
    series = series_cell.selectbox(
        "Series", report.chart_series(result), key="train_chart_series", persist_state=KEEP
    )
    models = models_cell.multiselect(
        "Models",
        report.chart_models(result),
        format_func=report.model_label,
        key="train_chart_models",
        persist_state=KEEP,
    )
    st.altair_chart(report.comparison_chart(result, series, models), width="stretch")
    st.caption("Dashed lines mark the cutoffs: each window's models saw only data up to there.")


def show_importances(result: Comparison) -> None:
    """Feature importances of a chosen tree model, when there is one."""
    frame = report.importances(result)
    if frame.empty:
        return
    st.subheader("What the random forest relies on")
    st.altair_chart(charts.importance_chart(frame), width="stretch")
    st.caption("Impurity importances of the final model: lags are past values of the series.")


def save(kept: ui.KeptTraining) -> None:
    """Save-button callback: runs before the page redraws, so the page shows the saved model."""
    try:
        record = ui.save_training(kept, by=signin.require("save").actor("app"))
    except SalesMLError as exc:
        ui.flash(ui.plain(exc), kind="error", slot="save")
    else:
        st.session_state["forecast_model"] = record.id  # the Forecast page opens at it


def save_and_forecast(kept: ui.KeptTraining) -> None:
    """Save the model (unless saved already) and open it on the Forecast page."""
    model_id = kept.model_id
    if model_id is None:
        try:
            model_id = ui.save_training(kept, by=signin.require("save").actor("app")).id
        except SalesMLError as exc:
            ui.show_error(exc)
            return
    st.session_state["forecast_model"] = model_id  # the Forecast page's model picker
    st.switch_page("pages/forecast.py")


def show_outcome(kept: ui.KeptTraining, user: Principal) -> None:
    """The headline, with the way to forecast with the model beside it."""
    headline_cell, action_cell = st.columns([4, 1], vertical_alignment="center")
    headline_cell.success(ui.plain(report.headline(kept.comparison)))
    saved = kept.model_id is not None
    if not user.can("save") or not (saved or kept.result is not None):
        return
    if action_cell.button(
        "Forecast with it" if saved else "Save and forecast",
        key="save_and_forecast",
        type="primary",
        icon=":material/trending_up:",
        width="stretch",
        help="Open this model on the Forecast page."
        if saved
        else "Save the chosen model, then open it on the Forecast page.",
    ):
        save_and_forecast(kept)


def report_link(kept: ui.KeptTraining) -> str | None:
    """This run's address in the app, for the report to link back to."""
    page = st.context.url
    if kept.run_id is None or not page:
        return None
    return f"{page.split('?')[0]}?run={kept.run_id}"


def show_actions(kept: ui.KeptTraining, user: Principal) -> None:
    """Save the model; download the comparison as an HTML report."""
    comparison, request = kept.comparison, kept.request
    save_cell, report_cell = st.columns(2, vertical_alignment="center")
    with save_cell:
        ui.show_flash("save")
        if kept.model_id is not None:
            name = ui.plain(report.chosen_model(comparison))
            st.success(f"Saved as model {kept.model_id} ({name}).")
            link_to_forecast(kept.model_id)
        elif kept.result is None:
            st.caption(
                f"Run {kept.run_id} was reopened without its fitted models: press **Train** "
                "to fit them again and save the chosen one."
            )
        elif user.can("save"):
            st.button("Save model", key="save_model", on_click=save, args=(kept,))
    series = st.session_state.get("train_chart_series")
    models = st.session_state.get("train_chart_models")
    link = report_link(kept)
    report_cell.download_button(
        "Download the comparison (HTML)",
        lambda: report.comparison_html(
            comparison, request, series=series, models=models, link=link
        ),
        file_name=f"salesml-comparison-{kept.trained_at:%Y%m%d-%H%M}.html",
        mime="text/html",
        key="download_report",
        on_click="ignore",
        icon=":material/download:",
    )


def link_to_forecast(model_id: int) -> None:
    """A way to the Forecast page for the saved model (plain text until that page exists)."""
    if FORECAST_PAGE.exists():
        st.page_link(
            "pages/forecast.py",
            label=f"Forecast with model {model_id}",
            icon=":material/trending_up:",
        )
    else:
        st.caption(f"Forecast with model {model_id} on the Forecast page.")


def trained_when(kept: ui.KeptTraining) -> str:
    """'Trained at 14:02' today, 'Trained on 2026-12-07 14:02' another day, with the run."""
    when = kept.trained_at
    at = f"at {when:%H:%M}" if when.date() == dt.date.today() else f"on {when:%Y-%m-%d %H:%M}"
    run = f" (run {kept.run_id})" if kept.run_id is not None else ""
    return f"Trained {at}{run}"


def show_comparison(kept: ui.KeptTraining, request: TrainRequest, user: Principal) -> None:
    """Everything the training produced: notes, leaderboard, chart, importances, actions."""
    comparison = kept.comparison
    if kept.request != request:
        st.info("The settings above changed since this training: press **Train** to compare again.")
    st.header(ui.plain(report.title(kept.request)))
    described = report.description(comparison, kept.request).items()
    st.caption(
        f"{trained_when(kept)} in {comparison.seconds:.1f} s · "
        + " · ".join(f"{label}: {ui.plain(value)}" for label, value in described)
    )
    for note in comparison.notes:
        st.warning(ui.plain(note), icon=":material/info:")
    show_outcome(kept, user)
    show_leaderboard(comparison)
    st.caption(report.leaderboard_caption(comparison) + " Highlighted, first: the chosen model.")
    show_chart(comparison)
    show_importances(comparison)
    st.divider()
    show_actions(kept, user)


def presenter_view(kept: ui.KeptTraining | None, heading: DeltaGenerator) -> None:
    """The comparison alone, for a meeting room: the chart first, then the key figures and
    the top models, every model one click away."""
    if kept is None:
        heading.subheader("Model comparison")
        st.info("Nothing to present yet: turn the presenter view off, then train a comparison.")
        return
    result = kept.comparison
    heading.subheader(ui.plain(report.title(kept.request)), anchor=False)
    headline_cell, series_cell = st.columns([3, 1], vertical_alignment="bottom")
    headline_cell.markdown(f"**{ui.plain(report.headline(result))}**")
    if report.chart_series(result):
        series, models = chart_inputs(result)
        # The presenter's switcher shows the normal view's series and changes it.
        st.session_state["presenter_series"] = series
        series_cell.selectbox(
            "Series", report.chart_series(result), key="presenter_series", on_change=follow_series
        )
        st.markdown(f"#### Backtest: {ui.plain(series)}")
        st.altair_chart(
            report.comparison_chart(result, series, models, large=True), width="stretch"
        )
    show_key_figures(result)
    show_top_models(result)


def shown_training() -> ui.KeptTraining | None:
    """The run the address names, else this session's last; its id goes in the address."""
    try:
        kept = ui.kept_training()
    except SalesMLError as exc:
        ui.show_error(exc)
        st.query_params.pop("run", None)  # a reload should not fail again
        return None
    ui.address_run(kept)
    return kept


def form_from_run(overview: Overview) -> None:
    """A run reopened from the address sets the form to its settings, once, so Train fits
    the same comparison again."""
    kept = shown_training()
    if kept is None or kept.result is not None or st.session_state.get("_form_run") == kept.run_id:
        return
    st.session_state["_form_run"] = kept.run_id
    asked = kept.request
    known = set(ui.cached_categories())
    st.session_state.update(
        train_level=asked.level,
        train_freq=asked.freq,
        train_target=asked.target,
        train_horizon=asked.horizon,
        train_models=[name for name in asked.models if name in (AUTO, *MODELS)],
        train_windows=asked.windows,
        train_categories=[name for name in asked.categories if name in known],
    )
    last = overview.last_date
    if asked.end is not None and overview.first_date <= asked.end <= last:
        st.session_state[f"train_end_{last:%Y%m%d}"] = asked.end


def follow_series() -> None:
    """Presenter's series-switcher callback: the normal view's chart follows it."""
    st.session_state["train_chart_series"] = st.session_state["presenter_series"]


def address_view() -> None:
    """Presenter-toggle callback: the page address says whether the view is on (?view=present),
    so a link opens it and the app gives it the full width."""
    if st.session_state["presenter"]:
        st.query_params["view"] = PRESENT
    else:
        st.query_params.pop("view", None)


def show_key_figures(result: Comparison) -> None:
    """Tiles as wide as their text, wrapping rather than cutting a model's name short; a
    combination is named by its size here, and in full in the headline and the help."""
    tiles = st.container(horizontal=True)
    (label, value), *numbers = report.key_figures(result, short=True).items()
    tiles.metric(label, ui.plain(value), help=ui.plain(report.chosen_model(result)), border=True)
    for label, value in numbers:
        tiles.metric(label, value, border=True)


def show_top_models(result: Comparison) -> None:
    """The chosen model and the best others by names that tell them apart, the members of
    the largest combinations below, the rest folded."""
    board = result.leaderboard
    if board.empty:
        st.info("There was too little history to backtest any model.")
        return
    top = report.top_models(result)
    # A static table: every name whole (wrapped, never cut), no scrolling inside it.
    st.table(report.style_leaderboard(top).hide(axis="index"))
    names = board["model"].iloc[top["#"].to_numpy() - 1]
    for line in report.members_legend(list(top["#"]), list(names)):
        st.caption(ui.plain(line))
    with st.expander(f"All {len(board)} models"):
        show_leaderboard(result)
        st.caption(report.leaderboard_caption(result))


ui.route_through_app()
user = signin.require("train")
title_cell, toggle_cell = st.columns([3, 1], vertical_alignment="center")
if st.query_params.get("view") == PRESENT:
    st.session_state["presenter"] = True
presenter = toggle_cell.toggle(
    "Presenter view",
    key="presenter",
    persist_state=KEEP,
    on_change=address_view,
    help="Just the comparison, large and uncluttered, for a meeting room.",
)
if presenter:
    st.query_params["view"] = PRESENT
with ui.stop_on_error():
    overview = ui.cached_overview()
if presenter:
    presenter_view(shown_training(), title_cell)
    st.stop()

title_cell.title("Train & compare")
ui.require_data(overview, loader=user.actor("app"))
st.caption(
    "Backtest models on your sales history, compare their errors, and save the best. "
    "Changing a setting while a training runs discards that training."
)
with ui.stop_on_error():
    form_from_run(overview)
request = request_inputs(overview)
# A long stretch without sales in the range trained on, as two loads far apart leave.
with ui.stop_on_error():
    gap = ui.cached_gap(request.freq, request.end)
if gap is not None:
    st.warning(
        ui.plain(
            f"{gap.describe()}: set 'Sales up to' to {gap.before} or "
            "earlier to train on the sales before it, or delete one of the loads on the Data page."
        ),
        icon=":material/warning:",
    )
if st.button("Train", key="train", type="primary", disabled=not request.models):
    run_training(request, user)
if not request.models:
    st.caption("Pick at least one model to train.")
kept = shown_training()
if kept is None:
    st.info("Choose what to forecast and press **Train** to compare the models.")
    st.stop()
show_comparison(kept, request, user)
