"""Signing in with a name and a password, throttled by name and by client."""

from __future__ import annotations

import datetime as dt
import math
import threading
import weakref

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from salesml import audit, db
from salesml.auth.passwords import verify_password
from salesml.auth.principals import Principal
from salesml.auth.users import password_stamp
from salesml.errors import AuthenticationError, SignInThrottledError

# Sign-in throttling: this many failures within the window for a name, or from one client
# address, lock the name (or client) out until the window has passed since the oldest of
# them. A client gets more: colleagues behind one proxy share its address.
MAX_FAILURES = 5
MAX_CLIENT_FAILURES = 20
THROTTLE_WINDOW = dt.timedelta(minutes=15)
# One message for every failed sign-in: it never tells a taken name from a free one.
WRONG_SIGN_IN = "The user name or password is not right."


def sign_in(
    engine: Engine, name: str, password: str, *, client: str, now: dt.datetime | None = None
) -> Principal:
    """The user whose name and password these are; throttled by name and by client.

    Every failure says the same (WRONG_SIGN_IN) and takes as long, whether the name exists
    or not. MAX_FAILURES failures for a name, or MAX_CLIENT_FAILURES from a client, within
    THROTTLE_WINDOW lock it out for the rest of the window. An attempt counts from its
    start, so guesses sent at once are counted as such; a success clears the name's count.
    """
    now = now or audit.now()
    name, client = name.strip()[: db.USER_NAME_LENGTH], (client or "unknown")[:64]
    attempt = _throttle(engine).begin(name, client, now)
    with db.translated(engine):
        user = _user_named(engine, name) if name else None
    if not verify_password(password, user.password_hash if user else None) or user is None:
        raise AuthenticationError(WRONG_SIGN_IN)
    _throttle(engine).succeeded(name, attempt)
    if user.disabled:
        raise AuthenticationError("This account is disabled; ask an admin to enable it.")
    return Principal(user.name, user.role, user.id, password_stamp(user.password_hash))


def _user_named(engine: Engine, name: str) -> db.User | None:
    with Session(engine) as session:
        user = session.scalars(sa.select(db.User).where(db.User.name == name)).first()
        session.expunge_all()
    return user


class _Throttle:
    """Recent sign-in attempts by name and by client, kept in the server's memory.

    Not in the database: on SQLite a sign-in would then wait for the write lock behind a
    load of several minutes. One `serve` process signs everyone in.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._attempts: dict[tuple[str, str], list[dt.datetime]] = {}

    def begin(self, name: str, client: str, now: dt.datetime) -> dt.datetime:
        keys = (("name", name), ("client", client))
        limits = (MAX_FAILURES, MAX_CLIENT_FAILURES)
        with self._lock:
            for key, limit in zip(keys, limits, strict=True):
                recent = [t for t in self._attempts.get(key, []) if t > now - THROTTLE_WINDOW]
                self._attempts[key] = recent
                if len(recent) >= limit:
                    left = (recent[-limit] + THROTTLE_WINDOW - now).total_seconds()
                    wait = max(1, math.ceil(left))
                    minutes = math.ceil(wait / 60)
                    raise SignInThrottledError(
                        f"Too many failed sign-ins; try again in {minutes} minute"
                        f"{'s' if minutes != 1 else ''}.",
                        wait,
                    )
            for key in keys:
                self._attempts[key].append(now)
        return now

    def succeeded(self, name: str, attempt: dt.datetime) -> None:
        with self._lock:
            self._attempts.pop(("name", name), None)
            for key, times in self._attempts.items():
                if key[0] == "client" and attempt in times:
                    times.remove(attempt)
                    break


_throttles: weakref.WeakKeyDictionary[Engine, _Throttle] = weakref.WeakKeyDictionary()
_throttles_lock = threading.Lock()


def _throttle(engine: Engine) -> _Throttle:
    with _throttles_lock:
        return _throttles.setdefault(engine, _Throttle())
