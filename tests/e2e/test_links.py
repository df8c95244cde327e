"""A link straight to a page works like a click in the navigation, even on a fresh server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import serve_app
from tests.e2e.test_browser import settled

NAVIGATION = '[data-testid="stSidebarNav"]'


@pytest.mark.e2e
@pytest.mark.parametrize("path", ["explorer", "forecast"])
def test_a_link_to_a_page_opens_it_inside_the_app_on_a_just_started_server(
    page: Any, tmp_path: Path, path: str
) -> None:
    from playwright.sync_api import expect

    with serve_app(f"sqlite:///{tmp_path / 'salesml.db'}", tmp_path / "app-data") as app:
        page.goto(f"{app.url}/{path}")
        navigation = page.locator(NAVIGATION)
        # The app's own navigation (titles, not the pages/ file names) and its wide layout.
        expect(navigation.get_by_text("Train & compare")).to_be_visible(timeout=30_000)
        expect(navigation.get_by_text("train", exact=True)).to_have_count(0)
        expect(page.get_by_role("heading", name=path.title(), exact=True)).to_be_visible()
        settled(page)
        block = page.locator('[data-testid="stMainBlockContainer"]')
        assert block.bounding_box()["width"] > 1000
