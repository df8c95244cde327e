"""Passwords: their argon2id hashes, checking one, and the rules a new one must meet."""

from __future__ import annotations

import secrets
from functools import cache

from salesml.errors import AccountError

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


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


def verify_password(password: str, hashed: str | None) -> bool:
    """Whether the password is the hashed one; as slow for None (an unknown user)."""
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
