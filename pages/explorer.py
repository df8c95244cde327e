"""Explorer: the sales under one set of filters, seen from every side (for analysts)."""

from __future__ import annotations

import datetime as dt
from functools import partial

import streamlit as st

from salesml import analytics, charts, signin, ui
from salesml.analytics import Filters
from salesml.errors import SalesMLError
from salesml.frequencies import FREQUENCIES

NO_MATCH = (
    "No sales match these filters — widen the date range or clear the category/product filters."
)


def date_filter(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """The date range picker, the whole history by default."""
    chosen = st.date_input(
        "Dates", (first, last), min_value=first, max_value=last, key="dates", format="YYYY-MM-DD"
    )
    # While the end of a range is being picked, the widget holds only its start.
    return (chosen[0], chosen[1]) if len(chosen) == 2 else (chosen[0], last)


def filter_inputs(first: dt.date, last: dt.date) -> tuple[Filters, str, str, int]:
    """The sidebar: which sales (dates, categories, products) and how to show them."""
    with st.sidebar:
        st.header("Filters")
        start, end = date_filter(first, last)
        catalogue = ui.cached_catalogue()
        chosen = st.multiselect(
            "Categories", catalogue.categories(), key="categories", placeholder="All categories"
        )
        picked = st.multiselect(
            "Products",
            catalogue.products(chosen),
            key="products",
            placeholder="All products",
            help="Only the products of the chosen categories are offered.",
        )
        measure = st.radio(
            "Measure",
            list(charts.MEASURE_TITLES),
            format_func=charts.MEASURE_TITLES.get,
            key="measure",
            horizontal=True,
        )
        grain = st.radio(
            "Grain",
            analytics.GRAINS,
            format_func=lambda grain: FREQUENCIES[grain].unit.title(),
            index=1,
            key="grain",
            horizontal=True,
        )
        rolling = st.slider(
            f"Rolling average ({FREQUENCIES[grain].unit}s)", 1, 12, 4, key="rolling"
        )
    return Filters(start, end, chosen, picked), measure, grain, rolling


def totals(summary: analytics.Summary) -> analytics.Kpis:
    """The headline figures; the end of the page when nothing matches the filters."""
    kpis = summary.kpis()
    if not kpis.lines:
        st.warning(NO_MATCH, icon=":material/filter_alt_off:")
        st.stop()
    cells = st.columns(4)
    cells[0].metric("Revenue", f"{kpis.revenue:,.2f}", border=True)
    cells[1].metric("Quantity", f"{kpis.quantity:,}", border=True)
    cells[2].metric(
        "Order lines",
        f"{kpis.lines:,}",
        border=True,
        help="The data has no order numbers: each line is one product of one sale.",
    )
    cells[3].metric("Average line value", f"{kpis.average_line_value:,.2f}", border=True)
    return kpis


def returns(summary: analytics.Summary) -> None:
    """Returned revenue and lines (negative quantities) against the gross sales."""
    st.subheader("Returns")
    share = summary.returns_share()
    cells = st.columns(4)
    cells[0].metric("Returned revenue", f"{share['returned_revenue']:,.2f}", border=True)
    cells[1].metric(
        "Returns share of revenue",
        f"{share['revenue_share']:.1%}",
        border=True,
        help=f"Of {share['gross_revenue']:,.2f} gross sales (lines with a positive quantity).",
    )
    cells[2].metric("Return lines", f"{share['return_lines']:,}", border=True)
    cells[3].metric("Returns share of lines", f"{share['line_share']:.1%}", border=True)


def over_time(summary: analytics.Summary, measure: str, grain: str, rolling: int) -> None:
    """The measure per period with its rolling average."""
    st.subheader(f"{charts.MEASURE_TITLES[measure]} per {FREQUENCIES[grain].unit}")
    frame = summary.over_time(grain=grain, measure=measure, rolling=rolling)
    chart = charts.over_time_chart(frame, measure=measure, grain=grain, rolling=rolling)
    st.altair_chart(chart, width="stretch")
    st.caption(
        "Drag to pan and scroll to zoom the time axis; double-click to reset. The first and "
        "last periods may hold only part of a week or month."
    )


def breakdowns(summary: analytics.Summary, measure: str) -> None:
    """By category and the top products, side by side."""
    left, right = st.columns(2, gap="large")
    # Colours keyed on the whole catalogue: a category keeps its colour whatever the filters.
    every = ui.cached_catalogue().categories()
    with left:
        st.subheader("By category")
        chart = charts.category_chart(summary.by_category(), measure=measure, categories=every)
        st.altair_chart(chart, width="stretch")
    with right:
        st.subheader("Top products")
        n = st.slider("Products shown", 5, 50, 10, step=5, key="top_n")
        top = ui.cached_analytics("top_products", summary.filters, n=n, measure=measure)
        chart = charts.top_products_chart(top, measure=measure, categories=every)
        st.altair_chart(chart, width="stretch")
        st.caption("Coloured by category, as in the chart beside.")


def seasonality(summary: analytics.Summary, measure: str) -> None:
    """Month × year, the years side by side, and weekday × week."""
    st.subheader("Seasonality")
    monthly = summary.monthly_by_year(measure=measure)
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("**Month × year**")
        st.altair_chart(charts.month_year_heatmap(monthly, measure=measure), width="stretch")
    with right:
        st.markdown("**Year over year**")
        st.altair_chart(charts.year_over_year_chart(monthly, measure=measure), width="stretch")
    st.markdown("**Weekday × week**")
    weekly = summary.weekday_profile(measure=measure)
    st.altair_chart(charts.weekday_heatmap(weekly, measure=measure), width="stretch")


def download(filters: Filters, lines: int) -> None:
    """The filtered sales lines as CSV, built only when the button is clicked."""
    st.subheader("Download")
    st.download_button(
        f"Download the {lines:,} sales lines (CSV)",
        partial(analytics.sales_csv, ui.connect(), filters),
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
try:
    overview = ui.cached_overview()
except SalesMLError as exc:
    ui.fail(exc)
ui.require_data(overview, loader=user.actor("app") if user.can("load") else None)

try:
    filters, measure, grain, rolling = filter_inputs(overview.first_date, overview.last_date)
    summary = ui.cached_summary(filters)
    kpis = totals(summary)
    over_time(summary, measure, grain, rolling)
    breakdowns(summary, measure)
    seasonality(summary, measure)
    returns(summary)
    download(filters, kpis.lines)
except SalesMLError as exc:
    ui.fail(exc)
