"""Who may do what: users with roles, passwords, API tokens and sign-in throttling.

Sign-in is on as soon as the database holds one user; until then the app and the API serve
one local user with every right (and `serve` listens on this machine only).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import re
import secrets
import threading
import time
import unicodedata
import weakref
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from salesml import audit, db
from salesml.audit import Actor
from salesml.choices import ROLES
from salesml.errors import (
    AccountError,
    AccountNotFoundError,
    AuthenticationError,
    PermissionDeniedError,
    SignInThrottledError,
)

# The least role that may do each thing; a role may do everything a lesser one may.
ACTIONS = {
    "read": "viewer",  # look at sales, models, forecasts and results
    "forecast": "viewer",  # forecast from a saved model without storing it
    "load": "analyst",  # upload and load sales files
    "train": "analyst",  # train and compare models
    "save": "analyst",  # save models and forecasts (what-if runs included)
    "delete": "admin",  # delete loaded batches and saved models
    "manage": "admin",  # add and change users and API tokens, read the audit log
}
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
# Sign-in throttling: this many failures within the window for a name, or from one client
# address, lock the name (or client) out until the window has passed since the oldest of
# them. A client gets more: colleagues behind one proxy share its address.
MAX_FAILURES = 5
MAX_CLIENT_FAILURES = 20
THROTTLE_WINDOW = dt.timedelta(minutes=15)
TOKEN_START = "sml_"
PREFIX_LENGTH = len(TOKEN_START) + 8
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
# One message for every failed sign-in: it never tells a taken name from a free one.
WRONG_SIGN_IN = "The user name or password is not right."
BAD_TOKEN = "The API token is not valid: it is unknown, revoked or expired, or its user disabled."


# The names under which a request reaches this machine only: while sign-in is off the server
# listens on, and answers requests addressed to, nothing else.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def is_local_host(host: str | None) -> bool:
    """Whether an address or a Host header ('localhost:8501', '[::1]:80') names this machine."""
    return (urlsplit(f"//{host or ''}").hostname or "") in LOCAL_HOSTS


@dataclass(frozen=True)
class Principal:
    """The user a request or browser session acts as."""

    name: str
    role: str
    user_id: int | None = None  # None for the single-user mode's local user
    # Changes when the password does: a browser session signed in with the old one ends.
    stamp: str = field(default="", compare=False, repr=False)

    def can(self, action: str) -> bool:
        """Whether the role allows the action (one of ACTIONS)."""
        return ROLES.index(self.role) >= ROLES.index(ACTIONS[action])

    def require(self, action: str) -> None:
        """Raise PermissionDeniedError unless the role allows the action."""
        if not self.can(action):
            least = ACTIONS[action]
            raise PermissionDeniedError(
                f"{self.name} is a {self.role}; this needs the {least} role or higher "
                "(an admin can change roles)"
            )

    def actor(self, via: str) -> Actor:
        """This user as the audit log names them."""
        return Actor(self.name, via)


# With no user in the database everyone who reaches the (local) server is this user.
LOCAL = Principal("local", "admin")


@dataclass(frozen=True)
class TokenInfo:
    """An API token as listed: never the token itself."""

    id: int
    prefix: str
    user: str
    role: str
    label: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @property
    def state(self) -> str:
        """'active', 'revoked' or 'expired'."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= audit.now():
            return "expired"
        return "active"


# --------------------------------------------------------------------------- passwords


@cache
def _hasher():
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    return PasswordHash((Argon2Hasher(),))  # argon2id with argon2-cffi's recommended costs


@cache
def _decoy_hash() -> str:
    # Verified against when the name is unknown, so both take the same time.
    return _hasher().hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher().hash(password)


def _verify(password: str, hashed: str | None) -> bool:
    try:
        return _hasher().verify(password, hashed or _decoy_hash())
    except Exception:  # an unreadable stored hash verifies nothing
        return False


def check_password(password: str, *, name: str = "") -> None:
    """Raise AccountError unless the password is long enough to use."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"the password may have at most {MAX_PASSWORD_LENGTH} characters")
    if name and password.casefold() == name.casefold():
        raise AccountError("the password must not be the user name")


def check_name(name: str) -> str:
    """The name, if it is one a user may have (letters, digits and . _ @ + -, up to 64).

    A name signs in exactly as written, and no two users' names differ only in case (the
    database's unique key on users.name_key, lower(name), holds every writer to it).
    """
    if not _NAME.fullmatch(name):
        raise AccountError(
            f"{name[:80]!r} is not a user name: use up to 64 letters, digits and . _ @ + -, "
            "starting with a letter or digit"
        )
    return name


def check_role(role: str) -> str:
    """The role, if it is one of ROLES."""
    if role not in ROLES:
        raise AccountError(f"{role[:40]!r} is not a role: choose {', '.join(ROLES)}")
    return role


# --------------------------------------------------------------------------- users


# Sign-in is on for good once a user exists (users are disabled, never deleted). While it is
# off, an engine looks again after OFF_RECHECK_SECONDS, so a user added by another process
# turns it on within that time (at once when added through the same engine) without a
# query on every request: that query was a fifth of a forecast request's time.
OFF_RECHECK_SECONDS = 1.0
_known: weakref.WeakKeyDictionary[Engine, float] = weakref.WeakKeyDictionary()
_ON = math.inf


def known_enabled(engine: Engine) -> bool | None:
    """Whether sign-in is on, when that is known without the database; None otherwise."""
    until = _known.get(engine)
    if until is not None and (until == _ON or until > time.monotonic()):
        return until == _ON
    return None


def enabled(engine: Engine) -> bool:
    """Whether sign-in is on: the database holds at least one user."""
    known = known_enabled(engine)
    if known is not None:
        return known
    with db.translated(engine), engine.connect() as conn:
        on = conn.execute(sa.select(db.User.id).limit(1)).first() is not None
    _known[engine] = _ON if on else time.monotonic() + OFF_RECHECK_SECONDS
    return on


def add_user(
    engine: Engine,
    name: str,
    *,
    role: str,
    password: str | None = None,
    email: str | None = None,
    by: Actor | None = None,
) -> db.User:
    """Add a user; a password, an e-mail address (for OpenID Connect sign-in) or both."""
    check_name(name)
    check_role(role)
    if password is None and not email:
        raise AccountError("give the user a password, an e-mail address to sign in with, or both")
    if password is not None:
        check_password(password, name=name)
    email = _check_email(email) if email else None
    user = db.User(
        name=name,
        email=email,
        role=role,
        password_hash=hash_password(password) if password is not None else None,
        disabled=False,
        created_at=audit.now(),
    )
    with db.translated(engine), Session(engine, expire_on_commit=False) as session:
        try:
            with session.begin():
                session.add(user)
                session.flush()
                audit.record(session.connection(), by, "add user", name, f"role {role}")
            _known[engine] = _ON
        except sa.exc.IntegrityError:
            raise AccountError(_taken(engine, name, email)) from None
    return user


def _taken(engine: Engine, name: str, email: str | None) -> str:
    """Why a new user was refused: the name (whatever its case) or the address is taken."""
    u = db.User
    with engine.connect() as conn:
        same = conn.execute(sa.select(u.name).where(u.name_key == name.lower())).scalar()
    if same == name:
        return f"a user named {name!r} exists already"
    if same is not None:
        return f"a user named {same!r} exists already ({name!r} differs only in case)"
    return f"a user with the address {email!r} exists already"


def email_key(email: str) -> str:
    """An address as stored and matched: stripped, lower case, accents composed (NFC).

    Exact otherwise: an accent more or less, or 'ß' for 'ss', is another address.
    """
    return unicodedata.normalize("NFC", email.strip().lower())


def _check_email(email: str) -> str:
    email = email_key(email)
    if len(email) > 255 or not re.fullmatch(r"[^@\s]+@[^@\s]+", email):
        raise AccountError(f"{email[:80]!r} is not an e-mail address")
    return email


def list_users(engine: Engine) -> list[db.User]:
    """Every user, by name."""
    with db.translated(engine), Session(engine) as session:
        users = list(session.scalars(sa.select(db.User).order_by(db.User.name)))
        session.expunge_all()
    return users


def _change(engine: Engine, name: str, by: Actor | None, action: str, detail: str, **values):
    with db.translated(engine), engine.begin() as conn:
        if values.get("disabled") or values.get("role", "admin") != "admin":
            _keep_an_admin(conn, name)
        changed = conn.execute(sa.update(db.User).where(db.User.name == name).values(**values))
        if changed.rowcount == 0:
            raise AccountNotFoundError(f"there is no user named {name[:80]!r}")
        if values.get("disabled") or "password_hash" in values:
            _end_sessions(conn, name)
        audit.record(conn, by, action, name, detail)
    _forget_tokens(engine)


def _end_sessions(conn: sa.Connection, name: str) -> None:
    """End the user's kept browser sessions (salesml.sessions): their cookies sign nobody in."""
    s = db.BrowserSession
    user_id = sa.select(db.User.id).where(db.User.name == name).scalar_subquery()
    conn.execute(
        sa.update(s)
        .where(s.user_id == user_id, s.ended_at.is_(None))
        .values(ended_at=audit.now(), handoff_sha256=None)
    )


def _keep_an_admin(conn: sa.Connection, name: str) -> None:
    """Refuse to demote or disable the last enabled admin: nobody could manage users then."""
    u = db.User
    admins = (
        conn.execute(sa.select(u.name).where(u.role == "admin", u.disabled.is_(False)))
        .scalars()
        .all()
    )
    if list(admins) == [name]:
        raise AccountError(f"{name} is the only admin; make another user an admin first")


def set_role(engine: Engine, name: str, role: str, *, by: Actor | None = None) -> None:
    """Give a user another role; their sessions and tokens have it at once."""
    _change(engine, name, by, "set role", f"role {check_role(role)}", role=role)


def set_disabled(engine: Engine, name: str, disabled: bool, *, by: Actor | None = None) -> None:
    """Disable a user (no sign-in, their tokens refused at once) or enable them again."""
    action = "disable user" if disabled else "enable user"
    _change(engine, name, by, action, "", disabled=disabled)


def reset_password(engine: Engine, name: str, password: str, *, by: Actor | None = None) -> None:
    """Give a user a new password."""
    check_password(password, name=name)
    _change(engine, name, by, "reset password", "", password_hash=hash_password(password))


def current(engine: Engine, user_id: int) -> Principal | None:
    """A user as they are now (role changes apply at once), or None if gone or disabled."""
    u = db.User
    with db.translated(engine), engine.connect() as conn:
        row = conn.execute(
            sa.select(u.name, u.role, u.disabled, u.password_hash).where(u.id == user_id)
        ).first()
    if row is None or row.disabled:
        return None
    return Principal(row.name, row.role, user_id, _stamp(row.password_hash))


def _stamp(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


def user_for_email(engine: Engine, email: str | None) -> Principal:
    """The enabled user an identity provider's verified address belongs to."""
    found = None
    if email:
        with db.translated(engine), engine.connect() as conn:
            found = conn.execute(
                sa.select(db.User.id, db.User.name, db.User.role).where(
                    db.User.email == email_key(email), db.User.disabled.is_(False)
                )
            ).first()
    if found is None:
        raise AuthenticationError(
            f"{email or 'This account'} may not use this app yet; ask an admin to add it "
            "(python -m salesml users add NAME --role viewer --email ADDRESS)"
        )
    return Principal(found.name, found.role, found.id)


# --------------------------------------------------------------------------- sign-in


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
    if not _verify(password, user.password_hash if user else None) or user is None:
        raise AuthenticationError(WRONG_SIGN_IN)
    _throttle(engine).succeeded(name, attempt)
    if user.disabled:
        raise AuthenticationError("This account is disabled; ask an admin to enable it.")
    return Principal(user.name, user.role, user.id, _stamp(user.password_hash))


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


# --------------------------------------------------------------------------- API tokens


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    engine: Engine,
    name: str,
    *,
    label: str = "",
    expires_days: int | None = None,
    by: Actor | None = None,
    now: dt.datetime | None = None,
) -> tuple[TokenInfo, str]:
    """A new API token for a user: its listing, and the token itself (shown only now)."""
    if expires_days is not None and not 1 <= expires_days <= 3650:
        raise AccountError("a token expires after 1 to 3,650 days")
    now = now or audit.now()
    token = TOKEN_START + secrets.token_urlsafe(32)
    expires = now + dt.timedelta(days=expires_days) if expires_days else None
    with db.translated(engine), engine.begin() as conn:
        user = conn.execute(
            sa.select(db.User.id, db.User.role, db.User.disabled).where(db.User.name == name)
        ).first()
        if user is None:
            raise AccountNotFoundError(f"there is no user named {name[:80]!r}")
        if user.disabled:
            raise AccountError(f"{name} is disabled; enable the user first")
        label = label.strip()[:100]
        token_id = conn.execute(
            sa.insert(db.ApiToken).values(
                user_id=user.id,
                prefix=token[:PREFIX_LENGTH],
                token_sha256=_digest(token),
                label=label,
                created_at=now,
                expires_at=expires,
            )
        ).inserted_primary_key[0]
        audit.record(conn, by, "create token", name, f"token {token_id} {token[:PREFIX_LENGTH]}")
    info = TokenInfo(token_id, token[:PREFIX_LENGTH], name, user.role, label, now, expires, None)
    return info, token


def list_tokens(engine: Engine) -> list[TokenInfo]:
    """Every token, newest first, with its user and state."""
    t, u = db.ApiToken, db.User
    query = (
        sa.select(t.id, t.prefix, u.name, u.role, t.label, t.created_at, t.expires_at, t.revoked_at)
        .join(u, u.id == t.user_id)
        .order_by(t.id.desc())
    )
    with db.translated(engine), engine.connect() as conn:
        return [TokenInfo(*row) for row in conn.execute(query)]


def revoke_token(engine: Engine, token_id: int, *, by: Actor | None = None) -> None:
    """Revoke a token; requests with it are refused from now on."""
    t = db.ApiToken
    with db.translated(engine), engine.begin() as conn:
        found = conn.execute(sa.select(t.prefix).where(t.id == token_id)).scalar_one_or_none()
        if found is None:
            raise AccountNotFoundError(f"there is no API token {token_id}")
        conn.execute(
            sa.update(t)
            .where(t.id == token_id, t.revoked_at.is_(None))
            .values(revoked_at=audit.now())
        )
        audit.record(conn, by, "revoke token", f"token {token_id}", found)
    _forget_tokens(engine)


# A token found valid is believed for this long: the lookup cost as much as the forecast it
# guarded. Revoking a token or changing a user through an engine forgets what that engine
# believed at once; a change made by another process (the command line) counts within
# TOKEN_RECHECK_SECONDS. Expiry is checked on every request.
TOKEN_RECHECK_SECONDS = 1.0
_believed: weakref.WeakKeyDictionary[Engine, dict[str, tuple[Principal, dt.datetime | None, float]]]
_believed = weakref.WeakKeyDictionary()


def _forget_tokens(engine: Engine) -> None:
    _believed.pop(engine, None)


def token_principal(engine: Engine, token: str, *, now: dt.datetime | None = None) -> Principal:
    """The user an API token acts for; AuthenticationError if it is not valid now."""
    if not token.startswith(TOKEN_START) or len(token) > 200:
        raise AuthenticationError(BAD_TOKEN)
    digest = _digest(token)
    now = now or audit.now()
    believed = _believed_user(engine, digest, now)
    if believed is not None:
        return believed
    user, expires = _look_up_token(engine, digest, now)
    _believed.setdefault(engine, {})[digest] = (
        user,
        expires,
        time.monotonic() + TOKEN_RECHECK_SECONDS,
    )
    return user


def _believed_user(engine: Engine, digest: str, now: dt.datetime) -> Principal | None:
    believed = _believed.get(engine, {}).get(digest)
    if believed is not None:
        user, expires, until = believed
        if until > time.monotonic() and (expires is None or expires > now):
            return user
    return None


def _look_up_token(
    engine: Engine, digest: str, now: dt.datetime
) -> tuple[Principal, dt.datetime | None]:
    t, u = db.ApiToken, db.User
    query = (
        sa.select(t.token_sha256, t.expires_at, t.revoked_at, u.id, u.name, u.role, u.disabled)
        .join(u, u.id == t.user_id)
        .where(t.token_sha256 == digest)
    )
    with db.translated(engine), engine.connect() as conn:
        row = conn.execute(query).first()
    if (
        row is None
        or not hmac.compare_digest(row.token_sha256, digest)
        or row.revoked_at is not None
        or (row.expires_at is not None and row.expires_at <= now)
        or row.disabled
    ):
        raise AuthenticationError(BAD_TOKEN)
    return Principal(row.name, row.role, row.id), row.expires_at


def known_principal(engine: Engine, token: str | None) -> Principal | None:
    """request_principal's answer when it needs no database lookup; None when it does.

    Raises AuthenticationError, as request_principal would, for a request without a token
    once sign-in is known to be on.
    """
    if token:
        return _believed_user(engine, _digest(token), audit.now())
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
