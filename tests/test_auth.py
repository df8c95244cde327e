"""Users, roles, passwords, API tokens and sign-in throttling, on SQLite and MySQL."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
import sqlalchemy as sa

from salesml import audit, auth, db
from salesml.audit import Actor
from salesml.errors import (
    AccountError,
    AccountNotFoundError,
    AuthenticationError,
    PermissionDeniedError,
    SignInThrottledError,
)

PASSWORD = "correct horse battery"
ADMIN = Actor("root", "cli")


@pytest.fixture
def ana(engine) -> db.User:
    return auth.add_user(engine, "ana", role="analyst", password=PASSWORD, by=ADMIN)


def every_stored_text(engine) -> str:
    """Every value of every table, as text: what a database dump would show."""
    values = []
    with engine.connect() as conn:
        for table in db.Base.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                values.extend(str(value) for value in row)
    return "\n".join(values)


# --------------------------------------------------------------------------- roles


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("viewer", {"read", "forecast"}),
        ("analyst", {"read", "forecast", "load", "train", "save"}),
        ("admin", set(auth.ACTIONS)),
    ],
)
def test_each_role_may_do_what_the_lesser_ones_may_and_no_more(role, allowed):
    user = auth.Principal("someone", role, 1)
    assert {action for action in auth.ACTIONS if user.can(action)} == allowed
    for action in set(auth.ACTIONS) - allowed:
        with pytest.raises(PermissionDeniedError, match=f"someone is a {role}"):
            user.require(action)


def test_sign_in_is_off_until_the_first_user_exists(engine):
    assert not auth.enabled(engine)
    assert auth.request_principal(engine, None) is auth.LOCAL
    auth.add_user(engine, "ana", role="viewer", password=PASSWORD)
    assert auth.enabled(engine)
    with pytest.raises(AuthenticationError, match="Bearer"):
        auth.request_principal(engine, None)


# --------------------------------------------------------------------------- users


def test_a_password_is_stored_only_as_an_argon2id_hash(engine, ana):
    stored = auth.list_users(engine)[0].password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in every_stored_text(engine)


def test_names_roles_and_passwords_are_checked_before_anything_is_stored(engine):
    for name, role, password, message in [
        ("ana smith", "viewer", PASSWORD, "not a user name"),
        ("", "viewer", PASSWORD, "not a user name"),
        ("ana", "owner", PASSWORD, "not a role"),
        ("ana", "viewer", "short", "at least 8"),
        ("ana", "viewer", "ANA-ana-", None),  # fine: not the name itself
        ("bob", "viewer", "BOB", "at least 8"),
    ]:
        if message is None:
            auth.add_user(engine, name, role=role, password=password)
            continue
        with pytest.raises(AccountError, match=message):
            auth.add_user(engine, name, role=role, password=password)
    assert [u.name for u in auth.list_users(engine)] == ["ana"]


@pytest.mark.slow
def test_a_taken_name_is_refused_and_the_first_user_kept(engine, ana):
    with pytest.raises(AccountError, match="exists already"):
        auth.add_user(engine, "ana", role="admin", password="another password")
    assert [(u.name, u.role) for u in auth.list_users(engine)] == [("ana", "analyst")]


@pytest.mark.parametrize("taken", ["Ana", "ANA", "aNa"])
def test_names_that_differ_only_in_case_are_one_name(engine, ana, taken):
    refused = rf"'ana' exists already \({taken!r} differs only in case\)"
    with pytest.raises(AccountError, match=refused):
        auth.add_user(engine, taken, role="admin", password="another password")
    assert [u.name for u in auth.list_users(engine)] == ["ana"]


@pytest.mark.slow
def test_a_name_signs_in_only_as_it_was_written(engine, ana):
    with pytest.raises(AuthenticationError, match="not right"):
        auth.sign_in(engine, "Ana", PASSWORD, client="10.0.0.1")
    assert auth.sign_in(engine, "ana", PASSWORD, client="10.0.0.1").name == "ana"


def test_role_changes_and_disabling_apply_to_the_current_user_at_once(engine, ana):
    assert auth.current(engine, ana.id) == auth.Principal("ana", "analyst", ana.id)
    auth.set_role(engine, "ana", "viewer", by=ADMIN)
    assert auth.current(engine, ana.id).role == "viewer"
    auth.set_disabled(engine, "ana", True, by=ADMIN)
    assert auth.current(engine, ana.id) is None
    with pytest.raises(AccountNotFoundError):
        auth.set_role(engine, "nobody", "admin")


def test_the_last_admin_can_be_neither_demoted_nor_disabled(engine, ana):
    auth.add_user(engine, "root", role="admin", password=PASSWORD)
    with pytest.raises(AccountError, match="root is the only admin"):
        auth.set_role(engine, "root", "analyst")
    with pytest.raises(AccountError, match="root is the only admin"):
        auth.set_disabled(engine, "root", True)
    auth.set_role(engine, "ana", "admin")
    auth.set_disabled(engine, "root", True)  # ana is an admin now
    assert [u.name for u in auth.list_users(engine) if u.disabled] == ["root"]


@pytest.mark.slow
def test_a_reset_password_replaces_the_old_one(engine, ana):
    auth.reset_password(engine, "ana", "a brand new one", by=ADMIN)
    with pytest.raises(AuthenticationError):
        auth.sign_in(engine, "ana", PASSWORD, client="10.0.0.1")
    assert auth.sign_in(engine, "ana", "a brand new one", client="10.0.0.1").name == "ana"


def test_an_identity_provider_address_names_its_user(engine):
    auth.add_user(engine, "eve", role="viewer", email="Eve@Example.com")
    assert auth.user_for_email(engine, "eve@example.com").name == "eve"
    with pytest.raises(AuthenticationError, match="ask an admin"):
        auth.user_for_email(engine, "mallory@example.com")
    auth.set_disabled(engine, "eve", True)
    with pytest.raises(AuthenticationError):
        auth.user_for_email(engine, "eve@example.com")


@pytest.mark.parametrize(
    ("stored", "presented"),
    [
        ("eve@example.com", "eve@exámple.com"),
        ("eve@example.com", "évé@example.com"),
        ("eve@exámple.com", "eve@example.com"),
        ("straße@example.com", "strasse@example.com"),
        ("eve@example.com", "eve@example.com "),
    ],
)
def test_an_address_names_only_the_user_with_exactly_that_address(engine, stored, presented):
    auth.add_user(engine, "eve", role="viewer", email=stored)
    assert auth.user_for_email(engine, stored).name == "eve"
    if presented.strip() == stored:
        assert auth.user_for_email(engine, presented).name == "eve"
    else:
        with pytest.raises(AuthenticationError, match="ask an admin"):
            auth.user_for_email(engine, presented)


def test_addresses_that_differ_by_an_accent_belong_to_two_users(engine):
    auth.add_user(engine, "eve", role="viewer", email="eve@example.com")
    auth.add_user(engine, "eve2", role="viewer", email="eve@exámple.com")
    assert auth.user_for_email(engine, "EVE@EXÁMPLE.COM").name == "eve2"
    assert auth.user_for_email(engine, "eve@example.com").name == "eve"


def test_an_address_in_decomposed_accents_finds_its_user(engine):
    composed = unicodedata.normalize("NFC", "élodie@example.com")
    auth.add_user(engine, "elodie", role="viewer", email=composed)
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert auth.user_for_email(engine, decomposed).name == "elodie"


# --------------------------------------------------------------------------- sign-in


@pytest.mark.slow
def test_every_failed_sign_in_says_the_same_whether_the_name_exists_or_not(engine, ana):
    messages = set()
    for name, password in [("ana", "wrong password"), ("nobody", PASSWORD), ("", "")]:
        with pytest.raises(AuthenticationError) as caught:
            auth.sign_in(engine, name, password, client="10.0.0.1")
        messages.add(str(caught.value))
    assert messages == {auth.WRONG_SIGN_IN}
    assert auth.sign_in(engine, "ana", PASSWORD, client="10.0.0.1").role == "analyst"


def test_a_disabled_user_cannot_sign_in(engine, ana):
    auth.set_disabled(engine, "ana", True)
    with pytest.raises(AuthenticationError, match="disabled"):
        auth.sign_in(engine, "ana", PASSWORD, client="10.0.0.1")


@pytest.mark.slow
def test_five_failures_lock_a_name_out_for_fifteen_minutes_even_with_the_right_password(
    engine, ana
):
    start = dt.datetime(2026, 12, 1, 9, 0)
    for minute in range(auth.MAX_FAILURES):
        with pytest.raises(AuthenticationError, match="not right"):
            auth.sign_in(
                engine,
                "ana",
                "guess",
                client=f"10.0.0.{minute}",
                now=start + dt.timedelta(minutes=minute),
            )
    with pytest.raises(SignInThrottledError, match="try again in 10 minutes") as caught:
        auth.sign_in(
            engine, "ana", PASSWORD, client="10.9.9.9", now=start + dt.timedelta(minutes=5)
        )
    assert caught.value.retry_after == 600
    later = start + auth.THROTTLE_WINDOW + dt.timedelta(seconds=1)
    assert auth.sign_in(engine, "ana", PASSWORD, client="10.9.9.9", now=later).name == "ana"


@pytest.mark.slow
def test_many_failures_from_one_client_lock_that_client_out_whatever_the_name(engine, ana):
    now = dt.datetime(2026, 12, 1, 9, 0)
    for index in range(auth.MAX_CLIENT_FAILURES):
        with pytest.raises(AuthenticationError):
            auth.sign_in(engine, f"guess{index}", "guess", client="10.6.6.6", now=now)
    with pytest.raises(SignInThrottledError):
        auth.sign_in(engine, "ana", PASSWORD, client="10.6.6.6", now=now)
    # Another client still gets in, and a success clears the name's failures.
    assert auth.sign_in(engine, "ana", PASSWORD, client="10.0.0.2", now=now).name == "ana"


@pytest.mark.slow
def test_an_unknown_name_is_throttled_like_a_known_one(engine, ana):
    now = dt.datetime(2026, 12, 1, 9, 0)
    for index in range(auth.MAX_FAILURES):
        with pytest.raises(AuthenticationError):
            auth.sign_in(engine, "nobody", "guess", client=f"10.1.0.{index}", now=now)
    with pytest.raises(SignInThrottledError):
        auth.sign_in(engine, "nobody", "guess", client="10.1.1.1", now=now)


@pytest.mark.slow
def test_guesses_sent_at_once_are_all_counted(engine, ana):
    """Each attempt counts from its start, not once its (slow) password check is done."""
    from concurrent.futures import ThreadPoolExecutor

    now = dt.datetime(2026, 12, 1, 9, 0)

    def guess(index: int) -> str:
        try:
            auth.sign_in(engine, "ana", f"guess {index}", client=f"10.2.0.{index}", now=now)
        except SignInThrottledError:
            return "throttled"
        except AuthenticationError:
            return "wrong"
        return "in"

    with ThreadPoolExecutor(12) as pool:
        outcomes = list(pool.map(guess, range(12)))
    assert outcomes.count("wrong") == auth.MAX_FAILURES
    assert outcomes.count("throttled") == 12 - auth.MAX_FAILURES


# --------------------------------------------------------------------------- tokens


def test_a_token_is_stored_as_a_hash_with_a_visible_prefix_and_acts_as_its_user(engine, ana):
    info, token = auth.create_token(engine, "ana", label="nightly ETL", by=ADMIN)
    assert token.startswith("sml_") and len(token) > 40
    assert info.prefix == token[: auth.PREFIX_LENGTH]
    assert token not in every_stored_text(engine)
    assert auth.token_principal(engine, token) == auth.Principal("ana", "analyst", ana.id)
    assert [(t.prefix, t.user, t.label, t.state) for t in auth.list_tokens(engine)] == [
        (info.prefix, "ana", "nightly ETL", "active")
    ]


def test_a_token_carries_its_users_role_as_it_is_now(engine, ana):
    _, token = auth.create_token(engine, "ana")
    auth.set_role(engine, "ana", "viewer")
    assert auth.token_principal(engine, token).role == "viewer"
    auth.set_disabled(engine, "ana", True)
    with pytest.raises(AuthenticationError):
        auth.token_principal(engine, token)


def test_a_revoked_token_is_refused_at_once(engine, ana):
    info, token = auth.create_token(engine, "ana")
    auth.revoke_token(engine, info.id, by=ADMIN)
    with pytest.raises(AuthenticationError, match="not valid"):
        auth.token_principal(engine, token)
    assert auth.list_tokens(engine)[0].state == "revoked"
    with pytest.raises(AccountNotFoundError):
        auth.revoke_token(engine, 999)


def test_a_token_expires_after_its_days(engine, ana):
    created = dt.datetime(2026, 12, 1, 9, 0)
    _, token = auth.create_token(engine, "ana", expires_days=30, now=created)
    day = dt.timedelta(days=1)
    assert auth.token_principal(engine, token, now=created + 29 * day).name == "ana"
    with pytest.raises(AuthenticationError):
        auth.token_principal(engine, token, now=created + 30 * day)


def test_made_up_and_altered_tokens_are_refused(engine, ana):
    _, token = auth.create_token(engine, "ana")
    for bad in ["", "Bearer", "sml_", token[:-1] + ("A" if token[-1] != "A" else "B"), "x" * 500]:
        with pytest.raises(AuthenticationError):
            auth.token_principal(engine, bad)


def test_tokens_are_only_for_existing_enabled_users(engine, ana):
    with pytest.raises(AccountNotFoundError):
        auth.create_token(engine, "nobody")
    auth.set_disabled(engine, "ana", True)
    with pytest.raises(AccountError, match="disabled"):
        auth.create_token(engine, "ana")
    with pytest.raises(AccountError, match="1 to 3,650"):
        auth.create_token(engine, "ana", expires_days=0)


# --------------------------------------------------------------------------- audit


def test_user_and_token_changes_are_in_the_audit_log_with_who_made_them(engine, ana):
    info, _ = auth.create_token(engine, "ana", by=ADMIN)
    auth.set_role(engine, "ana", "admin", by=Actor("ana", "app"))
    auth.revoke_token(engine, info.id, by=ADMIN)
    entries = [(e.actor, e.via, e.action, e.target) for e in reversed(audit.entries(engine))]
    assert entries == [
        ("root", "cli", "add user", "ana"),
        ("root", "cli", "create token", "ana"),
        ("ana", "app", "set role", "ana"),
        ("root", "cli", "revoke token", f"token {info.id}"),
    ]
    assert PASSWORD not in every_stored_text(engine)
