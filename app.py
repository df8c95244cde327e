"""salesml in the browser: the page routes (each screen lives in pages/)."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="salesml", layout="wide")
st.navigation(
    [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("pages/data.py", title="Data", icon=":material/upload_file:"),
    ]
).run()
