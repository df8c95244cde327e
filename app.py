"""salesml in the browser: sign-in, then the page routes a role may use (screens in pages/)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from salesml import signin

st.set_page_config(page_title="salesml", layout="wide")
# Each page with the action it is for (salesml.auth.ACTIONS): a role sees the pages it may use.
PAGES = (
    ("pages/overview.py", "Overview", ":material/dashboard:", "read"),
    ("pages/data.py", "Data", ":material/upload_file:", "load"),
    ("pages/explorer.py", "Explorer", ":material/query_stats:", "read"),
    ("pages/train.py", "Train & compare", ":material/model_training:", "train"),
    ("pages/forecast.py", "Forecast", ":material/trending_up:", "forecast"),
    ("pages/predictions.py", "Predictions", ":material/fact_check:", "read"),
    ("pages/team.py", "Team", ":material/group:", "manage"),
)

user = signin.signed_in()
if user is None:
    # Every page's address shows the sign-in form, so a link to a page leads there after it.
    st.navigation(
        [
            st.Page(
                signin.sign_in_page,
                title="Sign in",
                icon=":material/login:",
                url_path=None if index == 0 else Path(path).stem,
                default=index == 0,
            )
            for index, (path, *_) in enumerate(PAGES)
        ],
        position="hidden",
    ).run()
else:
    signin.sidebar(user)
    st.navigation(
        [
            st.Page(path, title=title, icon=icon, default=index == 0)
            for index, (path, title, icon, action) in enumerate(PAGES)
            if user.can(action)
        ]
    ).run()
