"""Forecast: a saved model's projection with its ranges, a what-if, and saving or downloading it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import streamlit as st

from salesml import charts, export, predictions, scenarios, ui
from salesml.auth import Principal
from salesml.currency import in_label
from salesml.db import TITLE_LENGTH, SavedModel
from salesml.errors import SalesMLError
from salesml.frequencies import FREQUENCIES
from salesml.registry import display_name
from salesml.ui import signin

TRAIN_PAGE = Path(__file__).with_name("train.py")
# Choices that belong to one model: another model, picked here or on the Train page
# (Save and forecast), starts them afresh.
MODEL_CHOICES = ("horizon", "series", "promo_periods", "model_title", "confirm_delete_model")
FIGURES = "%,.2f"  # thousands grouped, always two decimals


def forget_choices_of_another_model(model_id: int) -> None:
    """When the model shown changes, it starts at its own horizon and first series."""
    if st.session_state.get("_forecast_shown") != model_id:
        for key in MODEL_CHOICES:
            st.session_state.pop(key, None)
    st.session_state["_forecast_shown"] = model_id


def no_model(user: Principal) -> NoReturn:
    """Stop the page with the way to a first model."""
    st.info(
        "There is no saved model yet. Train one first — on the **Train** page, or with "
        "`python -m salesml train --level category --freq M --horizon 6` — and it appears here."
    )
    if TRAIN_PAGE.exists() and user.can("train"):
        st.page_link("pages/train.py", label="Train a model", icon=":material/model_training:")
    st.stop()


def pick_model(models: list[SavedModel]) -> tuple[object, SavedModel]:
    """The model picker; returns the loaded model (cached per model id) and its record."""
    labels = {m.id: ui.saved_model_label(m) for m in models}
    model_id = st.selectbox(
        "Model",
        list(labels),
        format_func=labels.get,
        key="forecast_model",
        help="Saved models, newest first.",
    )
    forget_choices_of_another_model(model_id)
    try:
        return ui.cached_model(model_id)
    except SalesMLError as exc:
        ui.show_error(exc)
        st.info("Pick another model above, or train a new one.")
        st.stop()


def forecast_inputs(model, record: SavedModel) -> tuple[int, str]:
    """The horizon slider and, for models of several series, the series picker."""
    unit = FREQUENCIES[record.freq].unit
    ids = list(model.ids_)
    horizon_cell, series_cell = st.columns([2, 1], gap="large")
    horizon = horizon_cell.slider(
        f"{unit.capitalize()}s ahead",
        min_value=1,
        max_value=predictions.longest_horizon(record),
        value=record.horizon,
        key="horizon",
        help=f"The model was trained to forecast {record.horizon} {unit}s ahead; further out "
        "its ranges are extrapolated and widen.",
    )
    if len(ids) == 1:
        series_cell.metric("Series", ui.plain(ids[0]))
        return horizon, ids[0]
    series = series_cell.selectbox(f"Series ({ui.plain(record.level)})", ids, key="series")
    return horizon, series


def what_if_inputs(periods: list[str], freq: str) -> dict:
    """Growth on every period, and a promotion uplift in chosen periods."""
    st.subheader("What if…")
    growth_cell, uplift_cell, periods_cell = st.columns([1, 1, 2], gap="large")
    growth = growth_cell.slider(
        "Growth on every period",
        min_value=-50,
        max_value=100,
        value=0,
        key="growth",
        format="%d%%",
        help="Raise or lower the whole forecast, e.g. for a price change or a new outlet.",
    )
    uplift = uplift_cell.slider(
        "Promotion uplift",
        min_value=0,
        max_value=200,
        value=0,
        step=5,
        key="uplift",
        format="%d%%",
        help="Extra sales in the promotion periods, on top of the growth.",
    )
    promo = periods_cell.multiselect(
        "Promotion periods",
        periods,
        key="promo_periods",
        format_func=lambda period: scenarios.period_label(period, freq),
        placeholder="Choose the periods with a promotion",
    )
    return {"growth_pct": growth, "uplift_pct": uplift, "periods": promo}


def what_if_result(
    base: scenarios.Outlook,
    what_if: scenarios.Outlook | None,
    save: Callable[[str], None],
    user: Principal,
) -> None:
    """The what-if's total beside its sliders, against the forecast's, and saving it under
    a name of its own (save)."""
    tile, words = st.columns([1, 2], gap="large", vertical_alignment="center")
    if user.can("save"):
        name_cell, button_cell = words.columns([3, 1], vertical_alignment="bottom")
        name = name_cell.text_input(
            "What-if name",
            key="what_if_name",
            max_chars=TITLE_LENGTH,
            placeholder="e.g. Price rise 10%",
            help="Saved as a forecast run of its own, beside the base forecast; saving the "
            "same name again replaces the periods it covers.",
        )
        # Clickable while the name is still being typed: the browser sends the name as
        # the click takes the focus from the field.
        if button_cell.button(
            "Save what-if",
            key="save_what_if",
            disabled=what_if is None,
            help="Move a slider above first." if what_if is None else None,
        ):
            if name.strip():
                save(name)
            else:
                st.error("Name the what-if first, e.g. 'Price rise 10%'.")
    if what_if is None:
        tile.metric("What-if", "no change", help="Move the sliders above.", border=True)
        return
    change = what_if.total - base.total
    tile.metric(
        f"What-if, {base.label}",
        charts.compact_number(what_if.total),
        delta=f"{charts.compact_number(change, signed=True)} vs forecast",
        help=f"{amount(what_if.total)}, {change:+,.0f} against the forecast.",
        border=True,
    )
    words.markdown(
        f"With the what-if: **{amount(what_if.total)}** over the {base.label}, "
        f"{change:+,.0f} against the forecast's {amount(base.total)}."
    )


def amount(value: float) -> str:
    """Sales figures as managers read them."""
    return f"{value:,.0f}"


def summary(base: scenarios.Outlook, record: SavedModel, currency: str) -> str:
    """The total over the periods shown, its range and a year ago, as tiles; returns the
    same in a sentence, which the page shows below the chart."""
    target = ui.plain(f"{record.target} ({currency})" if currency else record.target)
    first, last = (
        scenarios.period_label(p, record.freq) for p in (base.periods[0], base.periods[-1])
    )
    span = first if first == last else f"{first} to {last}"
    # Tiles round to three digits (1.23M), the sentence below and each tile's help give the
    # exact figures. The row wraps rather than cut a value short on a narrow screen.
    tiles = st.container(horizontal=True, vertical_alignment="distribute")
    tiles.metric(
        ui.in_currency(f"Forecast, {base.label}", currency),
        charts.compact_number(base.total),
        help=f"{amount(base.total)} in {target}, {span}.",
        border=True,
    )
    tiles.metric(
        ui.in_currency("80% range", currency),
        f"{charts.compact_number(base.lower_80)} – {charts.compact_number(base.upper_80)}",
        help=f"{amount(base.lower_80)} to {amount(base.upper_80)}: the periods' 80% bounds "
        "added up, a cautious (rather wide) range.",
        border=True,
    )
    change = base.change_pct
    # Past a year ahead, the year before the last periods is itself forecast, not history.
    unit = FREQUENCIES[record.freq].unit
    part = (
        f"the first {base.compared} {unit}s"
        if 0 < base.compared < len(base.periods)
        else "the forecast"
    )
    tiles.metric(
        ui.in_currency("Same periods a year earlier", currency),
        "—" if base.year_ago is None else charts.compact_number(base.year_ago),
        delta=None if change is None else f"{change:+.1f}% forecast vs then",
        help="The sales history does not cover these periods a year earlier."
        if base.year_ago is None
        else f"{amount(base.year_ago)} in {target}, a year before {part}.",
        border=True,
    )
    sentence = (
        f"Over the {base.label} the model expects **{amount(base.total)}** in {target}, "
        f"most likely between {amount(base.lower_80)} and {amount(base.upper_80)}"
    )
    if change is not None:
        against = "the same periods a year earlier"
        if part != "the forecast":
            against = f"the same {unit}s a year earlier over {part}"
        sentence += f" — {change:+.1f}% against {against}"
    return sentence + "."


def keep_forecast(model, record: SavedModel, horizon: int, currency: str, user: Principal) -> None:
    """Save the base forecast of every series, or download it as CSV."""
    st.subheader("Keep this forecast")
    unit = FREQUENCIES[record.freq].unit
    st.caption(
        f"Saving and downloading keep the **base forecast** — without the what-if — of all "
        f"{record.series_count:,} series, {horizon} {unit}s ahead. Figures are rounded to cents."
    )
    save_cell, download_cell = st.columns(2)
    saved = user.can("save") and save_cell.button(
        "Save forecast to the database", key="save_forecast", type="primary"
    )
    download_cell.download_button(
        "Download CSV",
        # built on the click: the page does not forecast every series on each slider move
        data=lambda: export.csv_bytes(
            predictions.export_table(
                predictions.forecast_frame(model, horizon),
                target=record.target,
                currency=currency,
            ),
            currency=currency,
        ),
        file_name=f"forecast-model-{record.id}-{horizon}{record.freq}.csv",
        mime="text/csv",
        key="download_forecast",
        on_click="ignore",
    )
    if not saved:
        return
    try:
        table = predictions.forecast_frame(model, horizon)
        saved = ui.store_forecast(table, record, by=user.actor("app"))
    except SalesMLError as exc:
        ui.show_error(exc)
        return
    st.success(
        f"Saved the base forecast ({len(table):,} rows) as run "
        f"`{saved.run_id[: predictions.SHORT_RUN_ID]}`.{predictions.replacement_note(saved)}"
    )
    st.page_link("pages/predictions.py", label="See it on the Predictions page")


def save_what_if(
    model, record: SavedModel, horizon: int, options: dict, user: Principal
) -> Callable[[str], None]:
    """The what-if's saving: every series, with the sliders' changes, under its name."""

    def save(name: str) -> None:
        try:
            table = scenarios.adjust(predictions.forecast_frame(model, horizon), **options)
            saved = ui.store_forecast(table, record, by=user.actor("app"), scenario=name)
        except SalesMLError as exc:
            ui.show_error(exc)
            return
        st.success(
            f"Saved the what-if '{ui.plain(name.strip())}' ({len(table):,} rows) as run "
            f"`{saved.run_id[: predictions.SHORT_RUN_ID]}`.{predictions.replacement_note(saved)}"
        )

    return save


def manage_model(record: SavedModel, user: Principal) -> None:
    """Rename the model (who may save models), delete it (admins)."""
    if not user.can("save"):
        return
    with st.expander("Rename or delete this model"):
        name_cell, button_cell = st.columns([3, 1], vertical_alignment="bottom")
        title = name_cell.text_input(
            "Title",
            key="model_title",
            max_chars=TITLE_LENGTH,
            placeholder=display_name(record),
            help="How the model is listed on this page and in the Predictions page.",
        )
        if button_cell.button("Rename", key="rename_model"):
            if not title.strip():
                st.error("Type a title for the model first.")
                return
            try:
                ui.rename_model(record.id, title, by=user.actor("app"))
            except SalesMLError as exc:
                ui.show_error(exc)
            else:
                ui.flash(f"Model #{record.id} is now called '{ui.plain(title.strip())}'.")
                st.rerun()
        if not user.can("delete"):
            return
        confirmed = st.checkbox(
            "Delete this model, its file and its saved forecasts",
            key="confirm_delete_model",
        )
        if st.button("Delete model", key="delete_model", disabled=not confirmed):
            try:
                ui.delete_model(record.id, by=user.actor("app"))
            except SalesMLError as exc:
                ui.show_error(exc)
            else:
                st.session_state.pop("forecast_model", None)
                ui.flash(f"Deleted model #{record.id} ({ui.plain(display_name(record))}).")
                st.rerun()


ui.route_through_app()
user = signin.require("forecast")
st.title("Forecast")
ui.connect()
ui.show_flash()
with ui.stop_on_error():
    models = ui.cached_models()
if not models:
    no_model(user)

model, record = pick_model(models)
horizon, series = forecast_inputs(model, record)
with ui.stop_on_error():
    table = predictions.forecast_frame(model, horizon, [series])
    history = ui.cached_history(record.level, record.freq, record.target)
chart_slot = st.container()
options = what_if_inputs(table["target_period"].tolist(), record.freq)
active = options["growth_pct"] != 0 or (options["uplift_pct"] != 0 and options["periods"])
with ui.stop_on_error():
    adjusted = scenarios.adjust(table, **options) if active else None
    base = scenarios.outlook(table, history, freq=record.freq)
    what_if = scenarios.outlook(adjusted, history, freq=record.freq) if active else None

# A revenue model's forecasts are in the currency its sales stated when it was trained.
currency = predictions.model_currency(
    record, default=ui.settings().currency, before=ui.database_currency
)
with chart_slot:
    # The chart comes right after the tiles, so a laptop screen shows it with the slider.
    sentence = summary(base, record, currency)
    chart = charts.forecast_chart(
        history,
        table,
        freq=record.freq,
        adjusted=adjusted,
        y_title=charts.measure_title(record.target, currency),
        axis_until=predictions.furthest_period(record),
    )
    st.altair_chart(chart, width="stretch")
    st.markdown(sentence)
    with st.expander("The numbers"):
        st.dataframe(
            scenarios.side_by_side(table, adjusted, freq=record.freq),
            hide_index=True,
            # Every figure to the cent, so a column does not mix 67,003.1 with 65,030.87.
            column_config={
                name: st.column_config.NumberColumn(in_label(name, currency), format=FIGURES)
                for name in (
                    "forecast",
                    "80% low",
                    "80% high",
                    "95% low",
                    "95% high",
                    "what-if",
                )
            },
        )
what_if_result(base, what_if, save_what_if(model, record, horizon, options, user), user)
keep_forecast(model, record, horizon, currency, user)
manage_model(record, user)
