"""salesml in the browser: sign-in, then the page routes a role may use (screens in pages/)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from salesml.ui import signin
from salesml.ui.styles import APP_STYLE

# The presenter view (?view=present): full width, no sidebar or navigation, little above the
# content, so a comparison fits a 1280×720 projector. Pages link back out of it.
presenting = st.query_params.get("view") == "present"
st.set_page_config(
    page_title="salesml",
    # An emoji favicon is drawn in the browser; a Material icon would be fetched from Google.
    page_icon="📈",
    layout="wide",
    initial_sidebar_state="collapsed" if presenting else "auto",
    # A menu item makes Streamlit show its menu, and with it the light/dark theme choice,
    # which the browser remembers.
    menu_items={"About": "salesml: sales history, forecasts and their accuracy."},
)
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
# Streamlit leaves about 6rem above a page's first line; a projector needs that room. The
# header bar (3.75rem, menu and status) stays over the top of the page: the first line, with
# the Presenter toggle, starts just below it.
PRESENTER_STYLE = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 4rem; padding-bottom: 1rem; }
</style>"""

st.html(APP_STYLE)
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
    if presenting:
        st.html(PRESENTER_STYLE)
    else:
        signin.sidebar(user)
    signin.keep_for_browser()
    home = st.Page(PAGES[0][0], title=PAGES[0][1], icon=PAGES[0][2], default=True)
    # A link to a page the role may not use leads home, saying why (not in the navigation).
    st.navigation(
        [
            home,
            *(
                st.Page(path, title=title, icon=icon)
                if user.can(action)
                else signin.not_for_role(user, title, action, Path(path).stem, home=home)
                for path, title, icon, action in PAGES[1:]
            ),
        ],
        position="hidden" if presenting else "sidebar",
    ).run()
