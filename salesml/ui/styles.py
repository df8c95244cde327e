"""The app's own few lines of CSS, added to every page once by app.py."""

from __future__ import annotations

# Streamlit ends a tile's figure, a label or a button's text in "…" when it is wider than its
# box: "241,…" reads as another figure. Here they wrap instead (a long word breaks only when
# it cannot fit on a line of its own), and a change's "vs Nov 2025" goes under the change.
# The rules are plain CSS on Streamlit's test ids and class names, checked by
# tests/e2e/test_appearance.py on every page.
APP_STYLE = """<style>
.stMarkdownEllipsis, .stMarkdownEllipsis * {
  white-space: normal !important;
  overflow: visible !important;
  text-overflow: clip !important;
  overflow-wrap: break-word;
}
div:has(> [data-testid="stMetricDelta"]) { flex-wrap: wrap; column-gap: 0.4rem; }
/* A script with nothing to show (the kept session's handoff) takes no line of the page. */
[data-testid="stElementContainer"]:has(> [data-testid="stHtml"] > script:only-child) {
  display: none;
}
/* On a phone, columns stack: one under the other, as far apart as the page's other lines,
   not a wide gap's 4rem. */
@media (max-width: 640px) {
  [data-testid="stHorizontalBlock"] { row-gap: 1rem !important; }
}
</style>"""
