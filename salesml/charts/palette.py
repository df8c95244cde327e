"""The charts' colours: the lines' (the theme's, or the light theme's outside the app),
the forecast ranges', and the sales bars'."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt

# Line colours come from the app's theme (chartCategoricalColors in .streamlit/config.toml):
# "Actual" first, then the forecast, the what-if or each model, every one readable on its
# theme's background. A chart shown outside the app (the HTML report) is given the light
# theme's, LIGHT_LINE_COLORS.
LIGHT_LINE_COLORS = (
    "#4a4a4a",
    "#1f6feb",
    "#d9480f",
    "#2b8a3e",
    "#ae3ec9",
    "#b35c00",
    "#0b7285",
    "#c2255c",
    "#5c7cfa",
    "#8d6e00",
    "#6741d9",
)
RANGE_COLORS = {"95% range": "#c6dbef", "80% range": "#9ecae1"}
LINE_DASHES = {"Actual": [1, 0], "Forecast": [1, 0], "What-if": [6, 4]}


def line_scale(domain: Sequence[str], colors: Sequence[str] | None) -> alt.Scale:
    """Colours by position in `domain`: the theme's, or these (cycled)."""
    if colors is None:
        return alt.Scale(domain=list(domain))
    return alt.Scale(
        domain=list(domain), range=[colors[i % len(colors)] for i in range(len(domain))]
    )


# The sales measures' own colours: the Explorer's, the Overview's, the importances'.
SALES_COLOR = "#1f6feb"
SALES_LIGHT_COLOR = "#9db7e0"
