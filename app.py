"""salesml in the browser: the page routes (each screen lives in pages/)."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="salesml", layout="wide")
st.navigation(
    [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("pages/data.py", title="Data", icon=":material/upload_file:"),
        st.Page("pages/explorer.py", title="Explorer", icon=":material/query_stats:"),
        st.Page("pages/train.py", title="Train & compare", icon=":material/model_training:"),
        st.Page("pages/forecast.py", title="Forecast", icon=":material/trending_up:"),
        st.Page("pages/predictions.py", title="Predictions", icon=":material/fact_check:"),
    ]
).run()
