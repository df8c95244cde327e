"""Who a request acts as: its bearer token's user, checked against the route's action."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from salesml import auth
from salesml.audit import Actor
from salesml.auth import Principal
from salesml.errors import PermissionDeniedError

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An API token: `python -m salesml tokens create NAME` prints one. "
    "Needed once the database has a user; until then the API serves this machine only.",
)
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


async def _principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    # A token found valid within the last second, or whether sign-in is on, is known without
    # the database; a lookup goes to the thread pool, never blocking the event loop.
    engine = request.app.state.services.engine()
    token = credentials.credentials if credentials is not None else None
    user = auth.known_principal(engine, token)
    if user is None:
        user = await run_in_threadpool(auth.request_principal, engine, token)
    if user is auth.LOCAL:
        _local_only(request)
    return user


def _local_only(request: Request) -> None:
    check_local(
        request.headers.get("host"),
        request.headers.get("origin"),
        reads_only=request.method in _SAFE_METHODS,
    )


def check_local(host: str | None, origin: str | None, *, reads_only: bool) -> None:
    """Without sign-in the server answers for this machine only.

    A page of another site open in the user's browser could post to the local server (a
    form needs no permission), or reach it under a name of its own that resolves to
    127.0.0.1 (DNS rebinding): a request addressed to another host, or a change sent from
    another origin, is refused. A read from another origin is harmless over HTTP (the
    browser keeps the answer from the page) but not over a WebSocket, which has no such rule.
    """
    if not auth.is_local_host(host):
        raise PermissionDeniedError(
            "sign-in is off (no users yet), so this server answers requests for localhost "
            "only; an admin turns sign-in on with python -m salesml users add"
        )
    if not (reads_only or same_origin(origin, host)):
        raise PermissionDeniedError(
            f"a request from another site ({(origin or '')[:100]}) may not change anything here"
        )


def same_origin(origin: str | None, host: str | None) -> bool:
    """Whether a request's Origin is the server it is addressed to (or, from a program that
    is not a browser, absent): another port of this machine is another site."""
    if not origin:
        return True
    return urlsplit(origin).netloc.lower() == (host or "").lower()


async def single_user_local(request: Request) -> None:
    """For routes open without a token: while sign-in is off, the localhost rule still holds."""
    engine = request.app.state.services.engine()
    on = auth.known_enabled(engine)
    if on is None:
        on = await run_in_threadpool(auth.enabled, engine)
    if not on:
        _local_only(request)


def allowed(action: str):
    """A dependency giving the request's user, once their role allows the action."""

    async def check(user: Annotated[Principal, Depends(_principal)]) -> Principal:
        user.require(action)
        return user

    return Depends(check)


READ = allowed("read")


def actor(user: Principal) -> Actor:
    """The user as the audit log names a request's changes."""
    return user.actor("api")
