"""Overview: the latest month against earlier periods, and which database holds what."""

from __future__ import annotations

import streamlit as st

from salesml import analytics, charts, db, ui
from salesml.ui import signin

# The data has no order numbers, so an "order" here is honestly an order line.
KPIS = {  # label -> (Kpis attribute, money?)
    "Revenue": ("revenue", True),
    "Quantity": ("quantity", False),
    "Order lines": ("lines", False),
    "Average line value": ("average_line_value", True),
}


def change(current: float, earlier: float) -> str | None:
    """The relative change as '+4.1%', or None when the earlier period had nothing."""
    rate = analytics.growth(current, earlier)
    return None if rate is None else f"{rate:+.1%}"


def change_line(current: float, earlier: float, label: str) -> str:
    """A coloured one-line comparison, for under a metric."""
    rate = analytics.growth(current, earlier)
    if rate is None:
        return f":gray[No sales in {label} to compare with]"
    colour, arrow = ("green", "arrow_upward") if rate >= 0 else ("red", "arrow_downward")
    return f":{colour}[:material/{arrow}: {rate:+.1%}] vs {label}"


def kpi_tiles(headline: analytics.Headline, unit: str) -> None:
    """Revenue, quantity, order lines and line value against the previous period and a year
    ago; money with its currency."""
    if headline.full_month:
        st.subheader(f"Latest full month: {headline.label}")
    else:
        st.subheader(f"Whole history: {headline.label}")
        st.caption("No full calendar month of sales yet, so the whole range is shown.")
    for cell, (label, (name, money)) in zip(st.columns(len(KPIS)), KPIS.items(), strict=True):
        now = getattr(headline.kpis, name)
        before = getattr(headline.previous.kpis, name)
        year_ago = getattr(headline.last_year.kpis, name)
        delta = change(now, before)
        with cell.container(border=True):
            # A compact figure that fits four tiles abreast, the exact one on hover.
            st.metric(
                ui.in_currency(label, unit if money else ""),
                charts.compact_amount(now) if money else charts.compact_number(now),
                delta=delta,
                delta_description=None if delta is None else f"vs {headline.previous.label}",
                help=ui.plain(charts.money(now, unit) if money else f"{now:,}"),
            )
            if delta is None:
                st.markdown(change_line(now, before, headline.previous.label))
            st.markdown(change_line(now, year_ago, headline.last_year.label))


def revenue_trend(headline: analytics.Headline, unit: str) -> None:
    """Monthly revenue up to the end of the headline period."""
    until = analytics.Filters(end=headline.filters.end, currencies=headline.filters.currencies)
    monthly = ui.cached_over_time(until, grain="M", rolling=1)
    st.altair_chart(charts.trend_chart(monthly, currency=unit), width="stretch")
    st.caption(f"Revenue per month, up to {headline.filters.end:%d %b %Y}.")


ui.route_through_app()
user = signin.require("read")
st.title("Overview")
ui.show_flash()

if user.can("manage"):  # where the server keeps its data is an admin's business
    st.caption(f"Database: {ui.plain(db.describe(ui.connect()))}")
    if ui.settings().is_default_sqlite:
        st.caption(
            "This is the built-in SQLite file. To share one database across a team, set "
            "`SALESML_DATABASE_URL` to a MySQL or MariaDB database."
        )

with ui.stop_on_error():
    overview = ui.cached_overview()
loader = user.actor("app") if user.can("load") else None
ui.require_data(overview, loader=loader, offer_demo=True)

with ui.stop_on_error():
    shown = ui.shown_currency()
    headline = ui.cached_headline(currencies=shown.kept)
    if headline is not None:
        kpi_tiles(headline, shown.unit)
        revenue_trend(headline, shown.unit)

st.subheader("What the database holds")
rows, products, categories, batches = st.columns(4)
for cell, label, count in (
    (rows, "Sales lines", overview.rows),
    (products, "Products", overview.products),
    (categories, "Categories", overview.categories),
    (batches, "Files loaded", overview.batches),
):
    cell.metric(label, charts.compact_number(count), help=f"{count:,}", border=True)

first, last, span = st.columns(3)
first.metric("First sale", f"{overview.first_date:%d %b %Y}", border=True)
last.metric("Last sale", f"{overview.last_date:%d %b %Y}", border=True)
days = (overview.last_date - overview.first_date).days + 1
span.metric("History", f"{days:,} days", border=True)

st.page_link("pages/explorer.py", label="Explore the sales", icon=":material/query_stats:")
if user.can("load"):
    st.page_link(
        "pages/data.py", label="Load more data or review past loads", icon=":material/upload:"
    )
