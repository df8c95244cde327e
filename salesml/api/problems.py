"""Every failure as an RFC 9457 problem (application/problem+json), in one place."""

from __future__ import annotations

import logging
import os

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match

from salesml import db
from salesml.errors import (
    AccountNotFoundError,
    AuthenticationError,
    BatchNotFoundError,
    ConfigError,
    DatabaseBusyError,
    DatabaseError,
    DatabasePermissionError,
    DatabaseUnavailableError,
    JobNotFoundError,
    ModelIntegrityError,
    ModelNotFoundError,
    NothingToLoadError,
    PermissionDeniedError,
    QueueFullError,
    SalesMLError,
    SignInThrottledError,
)

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("salesml.api")

# Most specific first: the first class an error is an instance of decides.
STATUS: tuple[tuple[type[SalesMLError], int, str], ...] = (
    (SignInThrottledError, 429, "throttled"),
    (AuthenticationError, 401, "unauthenticated"),
    (PermissionDeniedError, 403, "forbidden"),
    (AccountNotFoundError, 404, "not-found"),
    (NothingToLoadError, 422, "nothing-to-load"),
    (BatchNotFoundError, 404, "not-found"),
    (ModelNotFoundError, 404, "not-found"),
    (JobNotFoundError, 404, "not-found"),
    (ModelIntegrityError, 409, "model-unusable"),
    (DatabaseUnavailableError, 503, "database-unavailable"),
    (DatabaseBusyError, 503, "database-busy"),
    # The server's own database account lacks a right: not the client's doing, nor passing.
    (DatabasePermissionError, 500, "database-permission"),
    (DatabaseError, 409, "database-refused"),
    (ConfigError, 500, "configuration"),
    (QueueFullError, 429, "queue-full"),
)
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    411: "Length required",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem(status: int, detail: str, *, kind: str | None = None, **extra) -> JSONResponse:
    """A problem response: type, title, status, detail, and any extra members."""
    body = {
        "type": f"urn:salesml:problem:{kind or _slug(status)}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        **{k: v for k, v in extra.items() if v is not None},
    }
    headers = {"Retry-After": "5"} if status in (429, 503) else {}
    if status == 401:
        # RFC 6750: a client that sent no token, or a bad one, learns which scheme to use.
        headers["WWW-Authenticate"] = 'Bearer realm="salesml"'
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _slug(status: int) -> str:
    return TITLES.get(status, "error").lower().replace(" ", "-")


def for_error(exc: SalesMLError) -> JSONResponse:
    """The problem for one of our errors: a 4xx for what the client can fix."""
    status, kind = next(
        ((status, kind) for kind_of, status, kind in STATUS if isinstance(exc, kind_of)),
        (422, "invalid-input"),
    )
    summary = getattr(exc, "summary", None)
    extra = {"summary": summary.as_dict()} if summary is not None else {}
    response = problem(status, db.mask_url(str(exc)), kind=kind, **extra)
    if isinstance(exc, SignInThrottledError):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


# The methods a 405 may offer: the router is asked about each, since it alone knows the routes
# the schema leaves out (POST /session) and those of routers included in others.
_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> str:
    """Every method the routes at the request's path take, published or not: the router
    answers 405 with the first route whose path matches (GET /batches/{id}), silent on the
    others (DELETE)."""
    routes = request.app.router.routes
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]
    return ", ".join(allowed)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into a problem response."""

    @app.exception_handler(SalesMLError)
    async def _ours(request: Request, exc: SalesMLError) -> JSONResponse:
        return for_error(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": "", "message": "invalid"}
        detail = f"{first['loc']}: {first['message']}" if first["loc"] else first["message"]
        if len(errors) > 1:
            detail += f" (and {len(errors) - 1} more)"
        return problem(422, detail, kind="invalid-request", errors=errors)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
        response = problem(exc.status_code, detail)
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:
            response.headers["Allow"] = _allowed_methods(request)
        return response

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> Response:
        # Nothing to answer and nothing wrong here: one line, no traceback.
        log.warning(
            "the client went away during %s %s before its body arrived; nothing was loaded",
            request.method,
            request.url.path,
        )
        return Response(status_code=400)

    @app.exception_handler(sa.exc.SQLAlchemyError)
    async def _database(request: Request, exc: sa.exc.SQLAlchemyError) -> JSONResponse:
        return for_error(db.database_error(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if os.environ.get("SALESML_DEBUG"):
            raise exc
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        reason = db.mask_url(str(exc).splitlines()[0] if str(exc) else "")
        return problem(
            500,
            f"unexpected {type(exc).__name__}: {reason} (the server log has the details)",
            kind="unexpected",
        )
