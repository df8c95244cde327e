"""Kept browser sessions: a signed-in browser stays signed in across reloads and tabs.

Signing in on the app's page opens a session in the database and gives the page a one-time
handoff token; the page's browser exchanges it (POST /api/v1/session) for an HttpOnly
cookie holding the session's secret, which every later page run presents. Only SHA-256
digests are stored. A session ends at sign-out, when its user's password changes or the
user is disabled, and after the idle time without a page run; every server on the same
database honours the same sessions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from salesml import audit, db
from salesml.auth import Principal
from salesml.errors import AuthenticationError, SessionIdleError

COOKIE = "salesml_session"
# The name over https: a browser takes a __Host- cookie only when it is Secure, on Path=/ and
# without a Domain, so neither a page over plain http (another port of this host: a browser
# keeps one set of cookies per host name) nor a subdomain can set or replace it.
SECURE_COOKIE = f"__Host-{COOKIE}"
# Where the API (salesml.api.sessions) exchanges a handoff token for the cookie.
HANDOFF_URL = "/api/v1/session"
# The handoff is made by the page just drawn: it needs seconds, and is good once.
HANDOFF_TIME = dt.timedelta(seconds=60)
# A session's last use is written at most this often (a write per click would queue behind
# a long load on SQLite); the idle time is measured from the last write.
TOUCH_EVERY = dt.timedelta(seconds=60)
ENDED = "Your session has ended; sign in again."
# How long a dead session's row stays (for a look at recent sign-ins) before a sign-in clears it.
KEEP_DEAD = dt.timedelta(days=1)
_SECRET_LENGTH = 200  # longer presented secrets are no secrets of ours


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def open_session(
    engine: Engine, user: Principal, *, idle: dt.timedelta, now: dt.datetime | None = None
) -> tuple[int, str]:
    """A new session for a user who just signed in: its id, and its one-time handoff token.

    Sessions dead (ended, or unused for the idle time) for longer than KEEP_DEAD go, so the
    table holds about a day's sign-ins rather than every one ever made."""
    if user.user_id is None:
        raise AuthenticationError("only a user in the database has a kept session")
    now = now or audit.now()
    handoff = secrets.token_urlsafe(32)
    s = db.BrowserSession
    with db.translated(engine), engine.begin() as conn:
        conn.execute(
            sa.delete(s).where(
                sa.or_(s.ended_at < now - KEEP_DEAD, s.last_seen_at < now - idle - KEEP_DEAD)
            )
        )
        session_id = conn.execute(
            sa.insert(s).values(
                user_id=user.user_id,
                handoff_sha256=_digest(handoff),
                created_at=now,
                last_seen_at=now,
            )
        ).inserted_primary_key[0]
    return session_id, handoff


def hand_over(engine: Engine, handoff: str, *, now: dt.datetime | None = None) -> str:
    """The cookie's secret for the session this handoff token opened: once, and within
    HANDOFF_TIME of the sign-in; AuthenticationError otherwise."""
    now = now or audit.now()
    s = db.BrowserSession
    secret = secrets.token_urlsafe(32)
    with db.translated(engine), engine.begin() as conn:
        # One statement: two requests with the same token cannot both take it.
        taken = conn.execute(
            sa.update(s)
            .where(
                s.handoff_sha256 == _digest(handoff[:_SECRET_LENGTH]),
                s.token_sha256.is_(None),
                s.ended_at.is_(None),
                s.created_at >= now - HANDOFF_TIME,
            )
            .values(token_sha256=_digest(secret), handoff_sha256=None)
        ).rowcount
    if taken != 1:
        raise AuthenticationError("This sign-in cannot be kept any more; sign in again.")
    return secret


def resume(
    engine: Engine, secret: str, *, idle: dt.timedelta, now: dt.datetime | None = None
) -> tuple[int, Principal]:
    """The session a browser's cookie holds, and its user as they are now.

    AuthenticationError when the session is unknown or ended or its user disabled;
    SessionIdleError (and the session ends) when it went unused for longer than idle.
    """
    if not secret or len(secret) > _SECRET_LENGTH:
        raise AuthenticationError(ENDED)
    s = db.BrowserSession
    return _look_up(engine, s.token_sha256 == _digest(secret), idle, now or audit.now())


def check(
    engine: Engine, session_id: int, *, idle: dt.timedelta, now: dt.datetime | None = None
) -> Principal:
    """The user of a session this browser tab holds, as they are now; raises as resume()."""
    return _look_up(engine, db.BrowserSession.id == session_id, idle, now or audit.now())[1]


def _look_up(
    engine: Engine, which: sa.ColumnElement[bool], idle: dt.timedelta, now: dt.datetime
) -> tuple[int, Principal]:
    s, u = db.BrowserSession, db.User
    query = (
        sa.select(s.id, s.last_seen_at, s.ended_at, u.id.label("user_id"), u.name, u.role)
        .add_columns(u.disabled)
        .join(u, u.id == s.user_id)
        .where(which)
    )
    with db.translated(engine), engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None or row.ended_at is not None or row.disabled:
        raise AuthenticationError(ENDED)
    if now - row.last_seen_at > idle:
        end(engine, row.id, now=now)
        minutes = round(idle.total_seconds() / 60)
        raise SessionIdleError(f"You were signed out after {minutes} minutes without activity.")
    if now - row.last_seen_at >= TOUCH_EVERY:
        _touch(engine, row.id, now)
    return row.id, Principal(row.name, row.role, row.user_id)


def _touch(engine: Engine, session_id: int, now: dt.datetime) -> None:
    """Record the session's use, unless the database is busy writing (then a later run
    does): on SQLite a load holds the one write lock for minutes, and a page must not wait
    for it."""
    touch = (
        sa.update(db.BrowserSession)
        .where(db.BrowserSession.id == session_id)
        .values(last_seen_at=now)
    )
    if db.backend(engine) != "sqlite":
        with db.translated(engine), engine.begin() as conn:
            conn.execute(touch)
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA busy_timeout=0")
        try:
            conn.execute(touch)
            conn.commit()
        except sa.exc.OperationalError:  # locked by a writer: the use is recorded later
            conn.rollback()
        finally:
            conn.exec_driver_sql(f"PRAGMA busy_timeout={db.SQLITE_BUSY_MS}")
            conn.commit()


def end(engine: Engine, session_id: int, *, now: dt.datetime | None = None) -> None:
    """End a session (sign-out): its cookie signs nobody in from now on."""
    s = db.BrowserSession
    with db.translated(engine), engine.begin() as conn:
        conn.execute(
            sa.update(s)
            .where(s.id == session_id, s.ended_at.is_(None))
            .values(ended_at=now or audit.now(), handoff_sha256=None)
        )
