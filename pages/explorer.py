"""Explorer: the sales under one set of filters, seen from every side (for analysts)."""

from __future__ import annotations

import datetime as dt
from functools import partial

import altair as alt
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from salesml import analytics, charts, ui, views
from salesml.analytics import Filters
from salesml.frequencies import FREQUENCIES
from salesml.ui import signin

LINES_NOTE = "The data has no order numbers: each line is one product of one sale."
NO_MATCH = (
    "No sales match these filters — widen the date range or clear the category/product filters."
)


# The filter widgets' keys; a view (views.View) is put into them and read back.
WIDGETS = ("dates", "categories", "products", "files", "measure", "grain", "rolling")
# Bumped to give the clickable charts fresh keys, so a bar clicked again is a new click.
PICKS = "_explorer_picks"
# The date preset last clicked.
PRESET = "_explorer_preset"


def start_view(
    first: dt.date,
    last: dt.date,
    catalogue: analytics.Catalogue,
    currencies: list[str],
    files: list[int],
) -> None:
    """On the page's first run in a session, take the view from the page address (before
    the currency picker is drawn, so the address can choose its currency)."""
    if all(key in st.session_state for key in WIDGETS):
        return
    params = {name: st.query_params.get_all(name) for name in views.PARAM_FIELDS}
    view, ignored = views.parse_view(
        params, catalogue, first=first, last=last, currencies=currencies, files=files
    )
    set_view(view)
    if ignored:
        st.warning(
            f"The page address held filters this page does not know, left out: "
            f"{', '.join(ignored)}.",
            icon=":material/link_off:",
        )


def set_view(view: views.View) -> None:
    """Put a view into the filter widgets (before they are drawn, or from a callback)."""
    state, filters = st.session_state, view.filters
    state["dates"] = (filters.start, filters.end)
    state["categories"], state["products"] = list(filters.categories), list(filters.products)
    state["files"] = list(filters.batches)
    state["measure"], state["grain"], state["rolling"] = view.measure, view.grain, view.rolling
    if view.currency:  # the picker's; a reset keeps the currency shown
        state["currency"] = view.currency
    state[PICKS] = state.get(PICKS, 0) + 1


def set_dates(name: str, start: dt.date, end: dt.date) -> None:
    """A date preset's button: the range it names."""
    st.session_state["dates"] = (start, end)
    st.session_state[PRESET] = name


def chosen_preset(spans: dict[str, tuple[dt.date, dt.date]]) -> str | None:
    """The one preset to highlight: the one clicked while its range is still chosen, else
    the first whose range is the chosen one (two presets may name the same range)."""
    chosen = tuple(st.session_state.get("dates", ()))
    matching = [name for name, span in spans.items() if span == chosen]
    clicked = st.session_state.get(PRESET)
    return clicked if clicked in matching else next(iter(matching), None)


def keep_in_address(view: views.View, first: dt.date, last: dt.date) -> None:
    """Write the view into the page address, so it can be shared and survives a reload."""
    params = views.view_params(view, first=first, last=last)
    for name in views.PARAM_FIELDS:
        wanted = params.get(name, [])
        if st.query_params.get_all(name) != wanted:
            if wanted:
                st.query_params[name] = wanted
            else:
                del st.query_params[name]


def presets(first: dt.date, last: dt.date) -> None:
    """A row of date presets (counted back from the last sale) and the reset button."""
    spans = views.date_presets(first, last)
    chosen = chosen_preset(spans)
    with st.container(horizontal=True, gap="small"):
        for name, span in spans.items():
            st.button(
                name,
                key=f"preset_{name.lower().replace(' ', '_')}",
                on_click=set_dates,
                args=(name, *span),
                type="primary" if name == chosen else "secondary",
                help=f"{span[0]:%d %b %Y} – {span[1]:%d %b %Y}",
            )
        st.button(
            "Reset filters",
            key="reset_filters",
            icon=":material/restart_alt:",
            type="tertiary",
            on_click=set_view,
            args=(views.View(Filters(first, last)),),
            help="Every filter back to its default: all dates, categories and products.",
        )


def date_filter(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """The date range picker (its value set by start_view, a preset or reset)."""
    chosen = st.date_input(
        "Dates", min_value=first, max_value=last, key="dates", format="YYYY-MM-DD"
    )
    # While the end of a range is being picked, the widget holds only its start.
    return (chosen[0], chosen[1]) if len(chosen) == 2 else (chosen[0], last)


def file_filter(shown: ui.Shown) -> list[int]:
    """The loaded files to count, of those in the currency shown; none chosen: all of them."""
    offered = ui.files_shown(shown)
    # A file of another currency (picked before the currency changed) is let go.
    st.session_state["files"] = [i for i in st.session_state.get("files", []) if i in offered]
    return st.multiselect(
        "Files",
        list(offered),
        format_func=offered.get,
        key="files",
        placeholder="All files",
        help="The loaded files to count, by name, batch id and currency.",
    )


def filter_inputs(
    first: dt.date, last: dt.date, catalogue: analytics.Catalogue, shown: ui.Shown
) -> views.View:
    """The filters, on the page itself so a phone reaches them: which sales and how to show them.

    `shown.kept` keeps the batches of the currency shown (all when the database has one)."""
    presets(first, last)
    with st.expander("Filters", expanded=True, icon=":material/filter_alt:"):
        dates, categories, products = st.columns([1, 1, 1.4])
        with dates:
            start, end = date_filter(first, last)
        chosen = categories.multiselect(
            "Categories", catalogue.categories(), key="categories", placeholder="All categories"
        )
        picked = products.multiselect(
            "Products",
            catalogue.products(chosen),
            key="products",
            placeholder="All products",
            help="Only the products of the chosen categories are offered.",
        )
        # A row of its own: file names are long, and several may be chosen.
        batches = file_filter(shown)
        measure_cell, grain_cell, rolling_cell = st.columns([1, 1, 1.4])
        measure = measure_cell.radio(
            "Measure",
            list(charts.MEASURE_TITLES),
            format_func=charts.MEASURE_TITLES.get,
            key="measure",
            horizontal=True,
        )
        grain = grain_cell.radio(
            "Grain",
            analytics.GRAINS,
            format_func=lambda grain: FREQUENCIES[grain].unit.title(),
            key="grain",
            horizontal=True,
        )
        rolling = rolling_cell.slider(
            f"Rolling average ({FREQUENCIES[grain].unit}s)", 1, views.ROLLING_MAX, key="rolling"
        )
    # The currency goes into the address only when there was one to pick.
    view = views.View(
        Filters(start, end, chosen, picked, shown.kept, batches),
        measure,
        grain,
        rolling,
        currency=shown.unit if shown.kept else "",
    )
    keep_in_address(view, first, last)
    return view


def kpi_tile(
    cell: DeltaGenerator,
    label: str,
    now: float,
    before: float | None,
    *,
    money: bool = False,
    currency: str = "",
    compared: str = "",
    note: str = "",
) -> None:
    """A tile: a compact figure that always fits, the exact one on hover, the change; money
    says its currency."""
    currency = currency if money else ""
    exact = charts.money(now, currency) if money else f"{now:,}"
    rate = None if before is None else analytics.growth(now, before)
    cell.metric(
        ui.in_currency(label, currency),
        charts.compact_amount(now) if money else charts.compact_number(now),
        delta=None if rate is None else f"{rate:+.1%}",
        delta_description=compared if rate is not None else None,
        help="\n\n".join(part for part in (ui.plain(exact), note) if part),
        border=True,
    )


def totals(summary: analytics.Summary, unit: str) -> analytics.Kpis:
    """The headline figures against the period just before; the end of the page if none."""
    kpis = summary.kpis()
    if not kpis.lines:
        st.warning(NO_MATCH, icon=":material/filter_alt_off:")
        st.stop()
    previous = summary.filters.previous()
    before = ui.cached_kpis(previous)
    # Without sales before, there is no change to show (not a rise from nothing).
    earlier = before if before.lines else None
    compared = f"vs {previous.start:%d %b %Y} – {previous.end:%d %b %Y}"
    cells = st.columns(4)
    for cell, label, name, money, note in (
        (cells[0], "Revenue", "revenue", True, ""),
        (cells[1], "Quantity", "quantity", False, ""),
        (cells[2], "Order lines", "lines", False, LINES_NOTE),
        (cells[3], "Average line value", "average_line_value", True, ""),
    ):
        then = None if earlier is None else getattr(earlier, name)
        kpi_tile(
            cell,
            label,
            getattr(kpis, name),
            then,
            money=money,
            currency=unit,
            compared=compared,
            note=note,
        )
    return kpis


def returns(summary: analytics.Summary, unit: str) -> None:
    """Returned revenue and lines (negative quantities) against the gross sales."""
    st.subheader("Returns")
    share = summary.returns_share()
    gross = charts.money(share["gross_revenue"], unit)
    cells = st.columns(4)
    kpi_tile(
        cells[0], "Returned revenue", share["returned_revenue"], None, money=True, currency=unit
    )
    cells[1].metric(
        "Returns share of revenue",
        f"{share['revenue_share']:.1%}",
        border=True,
        help=f"Of {ui.plain(gross)} gross sales (lines with a positive quantity).",
    )
    kpi_tile(cells[2], "Return lines", share["return_lines"], None)
    cells[3].metric("Returns share of lines", f"{share['line_share']:.1%}", border=True)


def over_time(view: views.View, summary: analytics.Summary, unit: str) -> None:
    """The measure per period with its rolling average."""
    measure, grain, rolling = view.measure, view.grain, view.rolling
    st.subheader(f"{charts.MEASURE_TITLES[measure]} per {FREQUENCIES[grain].unit}")
    frame = summary.over_time(grain=grain, measure=measure, rolling=rolling)
    chart = charts.over_time_chart(
        frame, measure=measure, grain=grain, rolling=rolling, currency=unit
    )
    st.altair_chart(chart, width="stretch")
    st.caption(
        "Drag to pan and scroll to zoom the time axis; double-click to reset. The first and "
        "last periods may hold only part of a week or month."
    )


def pick(key: str, selection: str, field: str, widget: str) -> None:
    """A bar was clicked: filter on what it shows (a category or a product)."""
    points = st.session_state[key]["selection"].get(selection) or []
    catalogue = ui.cached_catalogue()
    known = catalogue.categories() if widget == "categories" else catalogue.products()
    chosen = [point.get(field) for point in points if point.get(field) in known]
    if not chosen:
        return
    st.session_state[widget] = chosen
    if widget == "categories":  # keep only the chosen products that are still on offer
        offered = set(catalogue.products(chosen))
        st.session_state["products"] = [p for p in st.session_state["products"] if p in offered]
    st.session_state[PICKS] += 1


def clickable(chart: alt.Chart, name: str, selection: str, field: str, widget: str) -> None:
    """Draw a chart whose bars filter the page when clicked."""
    key = f"{name}_{st.session_state[PICKS]}"
    st.altair_chart(
        chart,
        width="stretch",
        key=key,
        on_select=partial(pick, key, selection, field, widget),
        selection_mode=selection,
    )


def breakdowns(summary: analytics.Summary, measure: str, unit: str) -> None:
    """By category and the top products, side by side; a click on a bar filters on it."""
    left, right = st.columns(2, gap="large")
    # Colours keyed on the whole catalogue: a category keeps its colour whatever the filters.
    every = ui.cached_catalogue().categories()
    with left:
        st.subheader("By category")
        chart = charts.category_chart(
            summary.by_category(), measure=measure, categories=every, currency=unit
        )
        clickable(chart, "category_bars", charts.CATEGORY_PICK, "category", "categories")
        st.caption("Click a bar to show only that category.")
    with right:
        st.subheader("Top products")
        n = st.slider("Products shown", 5, 50, 10, step=5, key="top_n")
        top = ui.cached_top_products(summary.filters, n=n, measure=measure)
        chart = charts.top_products_chart(top, measure=measure, categories=every, currency=unit)
        clickable(chart, "product_bars", charts.PRODUCT_PICK, "product_name", "products")
        st.caption("Coloured by category, as in the chart beside. Click a bar to show only it.")


def seasonality(summary: analytics.Summary, measure: str, unit: str) -> None:
    """Month × year, the years side by side, and weekday × week."""
    st.subheader("Seasonality")
    monthly = summary.monthly_by_year(measure=measure)
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("**Month × year**")
        heatmap = charts.month_year_heatmap(monthly, measure=measure, currency=unit)
        st.altair_chart(heatmap, width="stretch")
    with right:
        st.markdown("**Year over year**")
        years = charts.year_over_year_chart(monthly, measure=measure, currency=unit)
        st.altair_chart(years, width="stretch")
    st.markdown("**Weekday × week**")
    weekly = summary.weekday_profile(measure=measure)
    st.altair_chart(charts.weekday_heatmap(weekly, measure=measure, currency=unit), width="stretch")


def download(filters: Filters, lines: int) -> None:
    """The filtered sales lines as CSV, built only when the button is clicked."""
    st.subheader("Download")
    st.download_button(
        f"Download the {lines:,} sales lines (CSV)",
        partial(
            analytics.sales_csv, ui.connect(), filters, default_currency=ui.settings().currency
        ),
        file_name=f"sales-{filters.start:%Y%m%d}-{filters.end:%Y%m%d}.csv",
        mime="text/csv",
        key="download_sales",
        on_click="ignore",
        icon=":material/download:",
    )
    st.caption(
        "Every line under the filters above. Text a spreadsheet would run as a formula "
        "(starting with = + - @) is prefixed with a quote."
    )


ui.route_through_app()
user = signin.require("read")
st.title("Explorer")
ui.connect()
with ui.stop_on_error():
    overview = ui.cached_overview()
ui.require_data(overview, loader=user.actor("app") if user.can("load") else None)

with ui.stop_on_error():
    catalogue = ui.cached_catalogue()
    files = [item.id for item in ui.cached_loaded_files()]
    start_view(overview.first_date, overview.last_date, catalogue, ui.held_currencies(), files)
    shown = ui.shown_currency(by_file=True)
    view = filter_inputs(overview.first_date, overview.last_date, catalogue, shown)
    summary = ui.cached_summary(view.filters)
    kpis = totals(summary, shown.unit)
    over_time(view, summary, shown.unit)
    breakdowns(summary, view.measure, shown.unit)
    seasonality(summary, view.measure, shown.unit)
    returns(summary, shown.unit)
    download(view.filters, kpis.lines)
