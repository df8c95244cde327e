"""Who may do what: users with roles, passwords, API tokens and sign-in throttling.

Sign-in is on as soon as the database holds one user; until then the app and the API serve
one local user with every right (and `serve` listens on this machine only).
"""

from __future__ import annotations

from salesml.auth.api_requests import (
    known_principal,
    request_principal,
)
from salesml.auth.password_sign_in import (
    MAX_CLIENT_FAILURES,
    MAX_FAILURES,
    THROTTLE_WINDOW,
    WRONG_SIGN_IN,
    sign_in,
)
from salesml.auth.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    check_password,
    hash_password,
    verify_password,
)
from salesml.auth.principals import (
    ACTIONS,
    LOCAL,
    LOCAL_HOSTS,
    Principal,
    is_local_host,
)
from salesml.auth.tokens import (
    BAD_TOKEN,
    PREFIX_LENGTH,
    TOKEN_RECHECK_SECONDS,
    TOKEN_START,
    TokenInfo,
    believed_principal,
    create_token,
    forget_tokens,
    list_tokens,
    revoke_token,
    token_principal,
)
from salesml.auth.users import (
    OFF_RECHECK_SECONDS,
    add_user,
    check_name,
    check_role,
    current,
    email_key,
    enabled,
    known_enabled,
    list_users,
    password_stamp,
    reset_password,
    set_disabled,
    set_role,
    user_for_email,
)
from salesml.choices import ROLES

__all__ = [
    "ACTIONS",
    "BAD_TOKEN",
    "LOCAL",
    "LOCAL_HOSTS",
    "MAX_CLIENT_FAILURES",
    "MAX_FAILURES",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "OFF_RECHECK_SECONDS",
    "PREFIX_LENGTH",
    "ROLES",
    "THROTTLE_WINDOW",
    "TOKEN_RECHECK_SECONDS",
    "TOKEN_START",
    "WRONG_SIGN_IN",
    "Principal",
    "TokenInfo",
    "add_user",
    "believed_principal",
    "check_name",
    "check_password",
    "check_role",
    "create_token",
    "current",
    "email_key",
    "enabled",
    "forget_tokens",
    "hash_password",
    "is_local_host",
    "known_enabled",
    "known_principal",
    "list_tokens",
    "list_users",
    "password_stamp",
    "request_principal",
    "reset_password",
    "revoke_token",
    "set_disabled",
    "set_role",
    "sign_in",
    "token_principal",
    "user_for_email",
    "verify_password",
]
