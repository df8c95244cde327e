"""Overview: which database is in use and what it holds."""

from __future__ import annotations

import streamlit as st

from salesml import db, ui
from salesml.errors import SalesMLError

st.title("Overview")
ui.show_flash()

engine = ui.connect()
settings = ui.settings()
st.caption(f"Database: {db.describe(engine)}")
if settings.is_default_sqlite:
    st.caption(
        "This is the built-in SQLite file. To share one database across a team, set "
        "`SALESML_DATABASE_URL` to a MySQL or MariaDB database."
    )

try:
    overview = ui.cached_overview()
except SalesMLError as exc:
    ui.fail(exc)
ui.require_data(overview, offer_demo=True)

rows, products, categories, batches = st.columns(4)
rows.metric("Sales lines", f"{overview.rows:,}", border=True)
products.metric("Products", f"{overview.products:,}", border=True)
categories.metric("Categories", f"{overview.categories:,}", border=True)
batches.metric("Files loaded", f"{overview.batches:,}", border=True)

first, last, span = st.columns(3)
first.metric("First sale", f"{overview.first_date:%d %b %Y}", border=True)
last.metric("Last sale", f"{overview.last_date:%d %b %Y}", border=True)
days = (overview.last_date - overview.first_date).days + 1
span.metric("History", f"{days:,} days", border=True)

st.page_link("pages/data.py", label="Load more data or review past loads", icon=":material/upload:")
