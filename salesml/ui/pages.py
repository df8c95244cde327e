"""The app's pages, in the order the navigation lists them: app.py routes them, the benchmark
and the tests draw them."""

from __future__ import annotations

from typing import NamedTuple


class Page(NamedTuple):
    """A page's file, its title (the navigation's label and its st.title), its icon, and the
    action (salesml.auth.ACTIONS) a role needs to see it."""

    path: str
    title: str
    icon: str
    action: str


PAGES = (
    Page("pages/overview.py", "Overview", ":material/dashboard:", "read"),
    Page("pages/data.py", "Data", ":material/upload_file:", "load"),
    Page("pages/explorer.py", "Explorer", ":material/query_stats:", "read"),
    Page("pages/train.py", "Train & compare", ":material/model_training:", "train"),
    Page("pages/forecast.py", "Forecast", ":material/trending_up:", "forecast"),
    Page("pages/predictions.py", "Predictions", ":material/fact_check:", "read"),
    Page("pages/team.py", "Team", ":material/group:", "manage"),
)
