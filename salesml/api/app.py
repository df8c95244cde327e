"""The REST API under /api/v1: one FastAPI application over the library's functions."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.routing import Mount

from salesml.api import models, problems, results, sales
from salesml.api.services import Services

PREFIX = "/api/v1"
DESCRIPTION = """Sales in, forecasts out, results back.

Errors are RFC 9457 problems (`application/problem+json`) with `type`, `title`, `status`
and `detail`; unknown ids give 404, input the server cannot use 422."""


def create_api(services: Services) -> FastAPI:
    """The API application; mount it at PREFIX (see routes)."""
    api = FastAPI(
        title="salesml",
        version="1",
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    api.state.services = services
    problems.install(api)
    for module in (sales, models, results):
        api.include_router(module.router)
    return api


def routes(services: Services) -> list[Mount]:
    """The routes to serve beside the app: the API mounted at PREFIX."""
    return [Mount(PREFIX, app=create_api(services))]


def asgi(services: Services) -> Starlette:
    """The API alone as an ASGI application, mounted as the server mounts it (for tests)."""
    return Starlette(routes=routes(services))
