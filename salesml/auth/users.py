"""Users: adding and changing them, whether sign-in is on, and who a user is now."""

from __future__ import annotations

import hashlib
import math
import re
import time
import unicodedata
import weakref

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from salesml import audit, db
from salesml.audit import Actor
from salesml.auth.passwords import check_password, hash_password
from salesml.auth.principals import Principal
from salesml.auth.tokens import forget_tokens
from salesml.choices import ROLES
from salesml.errors import AccountError, AccountNotFoundError, AuthenticationError

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")


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
    forget_tokens(engine)


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
    return Principal(row.name, row.role, user_id, password_stamp(row.password_hash))


def password_stamp(password_hash: str | None) -> str:
    """What changes when the password does (Principal.stamp), without revealing its hash."""
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
