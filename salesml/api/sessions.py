"""The browser's side of a kept session: the app's page exchanges its one-time handoff token
for the session cookie here (salesml.sessions); not a route for programs."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from salesml import sessions
from salesml.api.access import same_origin
from salesml.api.deps import ServicesDep
from salesml.errors import PermissionDeniedError

router = APIRouter()


class Handoff(BaseModel):
    """The one-time token the signed-in page was given."""

    handoff: str = Field(min_length=1, max_length=100)


@router.post("/session", status_code=204, include_in_schema=False)
async def keep_session(request: Request, found: ServicesDep, body: Handoff) -> Response:
    """Set the session cookie: a random secret the database knows only by its digest (a
    forged or altered one matches no session), HttpOnly, SameSite=Strict, and over https
    Secure and host-only (sessions.SECURE_COOKIE)."""
    origin, host = request.headers.get("origin"), request.headers.get("host")
    # Only the app's own page may ask: a browser always sends Origin with this POST.
    if not origin or not same_origin(origin, host):
        raise PermissionDeniedError("a session is kept only for this server's own pages")
    engine = found.engine()
    secret = await run_in_threadpool(sessions.hand_over, engine, body.handoff)
    # The page's own origin says https even behind a proxy that does not.
    https = "https" in (
        request.url.scheme,
        request.headers.get("x-forwarded-proto", ""),
        urlsplit(origin).scheme,
    )
    response = Response(status_code=204)
    response.set_cookie(
        sessions.SECURE_COOKIE if https else sessions.COOKIE,
        secret,
        path="/",
        httponly=True,
        samesite="strict",
        secure=https,
    )
    return response
