"""The app's own few lines of CSS, added to every page once by app.py."""

from __future__ import annotations

# Streamlit ends a tile's figure, a label or a button's text in "…" when it is wider than its
# box: "241,…" reads as another figure. Here they wrap instead (a long word breaks only when
# it cannot fit on a line of its own), and a change's "vs Nov 2025" goes under the change.
APP_STYLE = """<style>
.stMarkdownEllipsis, .stMarkdownEllipsis * {
  white-space: normal !important;
  overflow: visible !important;
  text-overflow: clip !important;
  overflow-wrap: break-word;
}
div:has(> [data-testid="stMetricDelta"]) { flex-wrap: wrap; column-gap: 0.4rem; }
</style>"""
