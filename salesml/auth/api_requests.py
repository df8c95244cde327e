"""Who an API request acts as: its token's user, or the local user while sign-in is off."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from salesml.auth.principals import LOCAL, Principal
from salesml.auth.tokens import believed_principal, token_principal
from salesml.auth.users import enabled, known_enabled
from salesml.errors import AuthenticationError


def known_principal(engine: Engine, token: str | None) -> Principal | None:
    """request_principal's answer when it needs no database lookup; None when it does.

    Raises AuthenticationError, as request_principal would, for a request without a token
    once sign-in is known to be on.
    """
    if token:
        return believed_principal(engine, token)
    on = known_enabled(engine)
    if on:
        return request_principal(engine, None)  # raises without touching the database
    return LOCAL if on is False else None


def request_principal(engine: Engine, token: str | None) -> Principal:
    """Who an API request acts as: its token's user, or the local user while sign-in is off."""
    if token:
        return token_principal(engine, token)
    if enabled(engine):
        raise AuthenticationError(
            "this API needs a token: send 'Authorization: Bearer <token>' "
            "(an admin creates one with python -m salesml tokens create NAME)"
        )
    return LOCAL
