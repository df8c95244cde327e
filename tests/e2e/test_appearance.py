"""How the app looks in Chromium: the theme a user picks, colours that read, figures never cut."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import RunningApp
from tests.e2e.test_browser import settled

APP = '[data-testid="stApp"]'
DARK_BACKGROUND = "rgb(14, 17, 23)"  # .streamlit/config.toml, [theme.dark] backgroundColor
LIGHT_BACKGROUND = "rgb(255, 255, 255)"


def choose_theme(page: Any, name: str) -> None:
    """Pick a theme in the app's menu, as a user does."""
    page.locator('[data-testid="stMainMenu"]').click()
    page.locator(f'[data-testid="stMainMenuItem-theme-{name}"]').click()
    page.keyboard.press("Escape")


def background(page: Any) -> str:
    return page.locator(APP).evaluate("e => getComputedStyle(e).backgroundColor")


def test_a_theme_chosen_on_one_page_holds_for_every_page_and_a_reload(
    demo_app: RunningApp, page: Any
) -> None:
    from playwright.sync_api import expect

    page.goto(f"{demo_app.url}/train")
    settled(page)
    assert background(page) == LIGHT_BACKGROUND
    choose_theme(page, "Dark")
    expect(page.locator(APP)).to_have_css("background-color", DARK_BACKGROUND)
    for path in ("explorer", "", "forecast"):
        page.goto(f"{demo_app.url}/{path}")
        settled(page)
        assert background(page) == DARK_BACKGROUND, path or "overview"
    page.reload()
    settled(page)
    assert background(page) == DARK_BACKGROUND
    choose_theme(page, "Light")
    page.goto(f"{demo_app.url}/train")
    settled(page)
    assert background(page) == LIGHT_BACKGROUND
