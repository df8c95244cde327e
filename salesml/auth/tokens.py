"""API tokens: creating, listing and revoking them, and the user a token acts for."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
import weakref
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from salesml import audit, db
from salesml.audit import Actor
from salesml.auth.principals import Principal
from salesml.errors import AccountError, AccountNotFoundError, AuthenticationError

TOKEN_START = "sml_"
PREFIX_LENGTH = len(TOKEN_START) + 8
BAD_TOKEN = "The API token is not valid: it is unknown, revoked or expired, or its user disabled."


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
    forget_tokens(engine)


# A token found valid is believed for this long: the lookup cost as much as the forecast it
# guarded. Revoking a token or changing a user through an engine forgets what that engine
# believed at once; a change made by another process (the command line) counts within
# TOKEN_RECHECK_SECONDS. Expiry is checked on every request.
TOKEN_RECHECK_SECONDS = 1.0
_believed: weakref.WeakKeyDictionary[Engine, dict[str, tuple[Principal, dt.datetime | None, float]]]
_believed = weakref.WeakKeyDictionary()


def forget_tokens(engine: Engine) -> None:
    """Forget which tokens this engine found valid: a change to a user or token applies now."""
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


def believed_principal(engine: Engine, token: str) -> Principal | None:
    """The user a token was lately found valid for, without the database; None if not known."""
    return _believed_user(engine, _digest(token), audit.now())


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
