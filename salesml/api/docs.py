"""The interactive API docs (Swagger UI), drawn from assets this server serves itself.

FastAPI's own page loads Swagger UI from a CDN: blank on a network without the internet, and
a third party's script running on the app's origin. The same page here takes the files that
the fastapi-offline package ships.
"""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

ASSETS = "/docs/assets"


def install(api: FastAPI, *, openapi_url: str) -> None:
    """Serve the docs page at /docs and its assets under ASSETS."""
    folder = resources.files("fastapi_offline") / "static"
    api.mount(ASSETS, StaticFiles(directory=str(folder)), name="docs-assets")

    @api.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{api.title} API",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
        )
