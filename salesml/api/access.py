"""Who a request acts as: its bearer token's user, checked against the route's action."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

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


def _principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    token = credentials.credentials if credentials is not None else None
    user = auth.request_principal(request.app.state.services.engine(), token)
    if user is auth.LOCAL:
        _refuse_other_sites(request)
    return user


def _refuse_other_sites(request: Request) -> None:
    """Without sign-in, a page of another site open in the user's browser could post to the
    local server (a form needs no permission): a change from another origin is refused."""
    origin = request.headers.get("origin")
    if request.method in _SAFE_METHODS or not origin:
        return
    if urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower():
        raise PermissionDeniedError(
            f"a request from another site ({origin[:100]}) may not change anything here"
        )


def allowed(action: str):
    """A dependency giving the request's user, once their role allows the action."""

    def check(user: Annotated[Principal, Depends(_principal)]) -> Principal:
        user.require(action)
        return user

    return Depends(check)


READ = allowed("read")


def actor(user: Principal) -> Actor:
    """The user as the audit log names a request's changes."""
    return user.actor("api")
