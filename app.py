"""salesml in the browser: sign-in, then the page routes a role may use (screens in pages/)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from salesml.ui import signin
from salesml.ui.pages import PAGES
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
            for index, path in enumerate(page.path for page in PAGES)
        ],
        position="hidden",
    ).run()
else:
    if presenting:
        st.html(PRESENTER_STYLE)
    else:
        signin.sidebar(user)
    signin.keep_for_browser()
    first = PAGES[0]
    home = st.Page(first.path, title=first.title, icon=first.icon, default=True)
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
