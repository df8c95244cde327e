"""The server's page carries the script that keeps one theme for every address."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from salesml.theme import SCRIPT, OneThemeForEveryPage

PAGE = "<!DOCTYPE html><html><head><title>app</title></head><body></body></html>"


def _client() -> TestClient:
    async def page(request):
        # What a browser asked for, so a test can tell the page was not compressed.
        return HTMLResponse(
            PAGE, headers={"etag": '"1"', "x-asked": request.headers.get("accept-encoding", "")}
        )

    async def data(_request):
        return JSONResponse({"head": "<head>"})

    app = Starlette(routes=[Route("/train", page), Route("/data.json", data)])
    return TestClient(OneThemeForEveryPage(app))


def test_a_page_opened_in_a_browser_runs_the_theme_script_before_anything_else() -> None:
    response = _client().get("/train", headers={"accept": "text/html", "accept-encoding": "gzip"})
    assert response.text.startswith(f"<!DOCTYPE html><html><head>{SCRIPT}<title>")
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers["x-asked"] == ""
    assert "etag" not in response.headers


def test_what_is_not_a_page_passes_unchanged() -> None:
    response = _client().get("/data.json", headers={"accept": "text/html"})
    assert response.json() == {"head": "<head>"}
    assert _client().get("/train", headers={"accept": "*/*"}).text == PAGE
