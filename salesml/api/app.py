"""The REST API under /api/v1: one FastAPI application over the library's functions."""

from __future__ import annotations

import logging
import os
import re

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.routing import Mount

from salesml import auth
from salesml.api import access, docs, models, problems, results, sales, sessions
from salesml.api.schemas import Problem
from salesml.api.services import Services

PREFIX = "/api/v1"
log = logging.getLogger("salesml.api")
# Every operation may answer with a problem; declared so clients and schema checks know.
PROBLEMS = {
    status: {
        "description": problems.TITLES[status],
        "model": Problem,
        "content": {problems.MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status in (400, 401, 403, 404, 409, 411, 413, 415, 422, 429, 500, 503)
}
DESCRIPTION = """Sales in, forecasts out, results back.

Once the database has a user, every route but `/health` needs an API token
(`Authorization: Bearer <token>`, from `python -m salesml tokens create NAME`) and the
token's user a role that allows the route: `viewer` reads and forecasts, `analyst` also
loads, trains and saves, `admin` also deletes.

Errors are RFC 9457 problems (`application/problem+json`) with `type`, `title`, `status`
and `detail`: 401 without a valid token, 403 for a role that may not, 404 for unknown ids,
422 for input the server cannot use."""


def create_api(services: Services) -> FastAPI:
    """The API application; asgi() mounts it at PREFIX."""
    api = FastAPI(
        title="salesml",
        version="1",
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    api.state.services = services
    problems.install(api)
    docs.install(api, openapi_url="/openapi.json")
    for module in (sales, models, results, sessions):
        api.include_router(module.router, responses=PROBLEMS)
    api.openapi = lambda: _openapi(api)  # type: ignore[method-assign]
    return api


def _openapi(api: FastAPI) -> dict:
    """FastAPI's schema, with problems declared only as application/problem+json."""
    if api.openapi_schema is None:
        schema = FastAPI.openapi(api)
        for operation in (op for path in schema["paths"].values() for op in path.values()):
            for status, response in operation.get("responses", {}).items():
                if int(status) >= 400:
                    response.get("content", {}).pop("application/json", None)
        api.openapi_schema = schema
    return api.openapi_schema


class _Mount(Mount):
    """A Mount whose paths may hold any character: a path with an encoded newline under
    PREFIX still reaches the API (and gets its 404 problem), not the app's page server."""

    def __init__(self, path: str, app) -> None:
        super().__init__(path, app=app)
        self.path_regex = re.compile(self.path_regex.pattern, re.DOTALL)


# On every HTTP response of the server, app and API alike: no other site may frame the app
# (clickjacking), no browser guesses a type the server did not send, no address leaks out.
SECURITY_HEADERS = (
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"content-security-policy", b"frame-ancestors 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


class ApiFirst:
    """ASGI middleware: requests under PREFIX go straight to the API, the rest to the app;
    every HTTP response gets SECURITY_HEADERS; a WebSocket from another origin is refused.

    Placed in front of Streamlit's own middleware (its session cookie, gzip and static-path
    checks serve the pages; the API needs none of them), it cut the server's time per API
    request by about a third.
    """

    def __init__(self, app, *, api) -> None:
        self.app = app
        self.api = api

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "websocket" and not await self._own_page(scope):
            # Closing before accepting refuses the handshake (HTTP 403).
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", ())}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        path = scope.get("path", "")
        if path == PREFIX or path.startswith(f"{PREFIX}/"):
            await self.api(scope, receive, send_secured)
        else:
            await self.app(scope, receive, send_secured)

    async def _own_page(self, scope) -> bool:
        """Whether a WebSocket comes from a page of this server (the app's own stream).

        Streamlit accepts any origin on localhost or this machine's addresses: a page of
        another local server (another port is another site) could read the app through it.
        Without sign-in the localhost rule of the API holds for it too.
        """
        headers = Headers(scope=scope)
        host, origin = headers.get("host"), headers.get("origin")
        if not access.same_origin(origin, host):
            log.warning("refused a WebSocket from another origin: %.100s", origin)
            return False
        engine = self.api.state.services.engine()
        on = auth.known_enabled(engine)
        if on is None:
            on = await run_in_threadpool(auth.enabled, engine)
        return on or auth.is_local_host(host)


class _Contained:
    """ASGI middleware: an unexpected error that already has its 500 problem ends there.

    Starlette's last-resort handler logs it and answers, then raises it again for the
    server, which would log a second traceback and drop the keep-alive connection.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        answered = False

        async def watched(message) -> None:
            nonlocal answered
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            if not answered or os.environ.get("SALESML_DEBUG"):
                raise


def asgi(services: Services) -> Starlette:
    """The API as an ASGI application at PREFIX: what the server puts in front of the app."""
    front = Starlette(routes=[_Mount(PREFIX, app=_Contained(create_api(services)))])
    front.state.services = services
    return front
