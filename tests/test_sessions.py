"""Kept browser sessions: opened at sign-in, handed to the browser once, ended for cause."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from salesml import audit, auth, db, sessions
from salesml.errors import AuthenticationError, SessionIdleError

PASSWORD = "correct horse battery"
IDLE = dt.timedelta(minutes=60)


@pytest.fixture
def ana(engine) -> auth.Principal:
    """An analyst, signed in (sign-in is on: there are two users)."""
    db.init_db(engine)
    auth.add_user(engine, "admin-user", role="admin", password=PASSWORD)
    auth.add_user(engine, "ana", role="analyst", password=PASSWORD)
    return auth.sign_in(engine, "ana", PASSWORD, client="test")


def kept(engine, user: auth.Principal, now: dt.datetime | None = None) -> tuple[int, str]:
    """A session opened at sign-in and handed to the browser: its id and the cookie's secret."""
    session_id, handoff = sessions.open_session(engine, user, idle=IDLE, now=now)
    return session_id, sessions.hand_over(engine, handoff, now=now)


@pytest.mark.slow
def test_a_handed_over_cookie_resumes_the_session_as_its_user(engine, ana):
    session_id, secret = kept(engine, ana)
    assert sessions.resume(engine, secret, idle=IDLE) == (session_id, ana)
    assert sessions.check(engine, session_id, idle=IDLE) == ana


def test_only_digests_are_stored(engine, ana):
    _, handoff = sessions.open_session(engine, ana, idle=IDLE)
    secret = sessions.hand_over(engine, handoff)
    with engine.connect() as conn:
        stored = " ".join(str(v) for v in conn.execute(sa.select(db.BrowserSession)).one())
    assert secret not in stored and handoff not in stored


@pytest.mark.slow
def test_a_handoff_token_gives_a_cookie_once(engine, ana):
    _, handoff = sessions.open_session(engine, ana, idle=IDLE)
    sessions.hand_over(engine, handoff)
    with pytest.raises(AuthenticationError, match="sign in again"):
        sessions.hand_over(engine, handoff)


def test_a_handoff_token_is_good_for_a_minute_only(engine, ana):
    start = audit.now()
    _, handoff = sessions.open_session(engine, ana, idle=IDLE, now=start)
    with pytest.raises(AuthenticationError):
        sessions.hand_over(engine, handoff, now=start + sessions.HANDOFF_TIME * 2)


@pytest.mark.slow
@pytest.mark.parametrize(
    "forged",
    ["", "x", "not-a-session-secret-at-all-but-long-enough-to-look-like-one", "y" * 10_000],
)
def test_a_forged_cookie_signs_nobody_in(engine, ana, forged):
    kept(engine, ana)
    with pytest.raises(AuthenticationError):
        sessions.resume(engine, forged, idle=IDLE)


@pytest.mark.slow
def test_a_tampered_cookie_signs_nobody_in(engine, ana):
    _, secret = kept(engine, ana)
    tampered = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    with pytest.raises(AuthenticationError):
        sessions.resume(engine, tampered, idle=IDLE)


@pytest.mark.slow
def test_signing_out_ends_the_session(engine, ana):
    session_id, secret = kept(engine, ana)
    sessions.end(engine, session_id)
    with pytest.raises(AuthenticationError, match="ended"):
        sessions.resume(engine, secret, idle=IDLE)


@pytest.mark.slow
def test_a_password_change_ends_the_users_sessions(engine, ana):
    _, secret = kept(engine, ana)
    auth.reset_password(engine, "ana", "a brand new password")
    with pytest.raises(AuthenticationError):
        sessions.resume(engine, secret, idle=IDLE)


@pytest.mark.slow
def test_disabling_the_user_ends_their_sessions(engine, ana):
    _, secret = kept(engine, ana)
    auth.set_disabled(engine, "ana", True)
    auth.set_disabled(engine, "ana", False)  # enabled again: the old session stays ended
    with pytest.raises(AuthenticationError):
        sessions.resume(engine, secret, idle=IDLE)


@pytest.mark.slow
def test_a_new_role_leaves_the_session_and_applies_at_once(engine, ana):
    _, secret = kept(engine, ana)
    auth.set_role(engine, "ana", "viewer")
    assert sessions.resume(engine, secret, idle=IDLE)[1].role == "viewer"


@pytest.mark.slow
def test_an_idle_session_ends_and_says_so_once(engine, ana):
    start = audit.now()
    _, secret = kept(engine, ana, now=start)
    later = start + IDLE + dt.timedelta(seconds=1)
    with pytest.raises(SessionIdleError, match="after 60 minutes without activity"):
        sessions.resume(engine, secret, idle=IDLE, now=later)
    with pytest.raises(AuthenticationError) as again:
        sessions.resume(engine, secret, idle=IDLE, now=later)
    assert not isinstance(again.value, SessionIdleError)


def test_use_keeps_a_session_from_going_idle(engine, ana):
    start = audit.now()
    _, secret = kept(engine, ana, now=start)
    for minutes in (50, 100, 150):
        at = start + dt.timedelta(minutes=minutes)
        assert sessions.resume(engine, secret, idle=IDLE, now=at)[1] == ana


@pytest.mark.slow
def test_other_users_sessions_outlive_a_password_change(engine, ana):
    admin = auth.sign_in(engine, "admin-user", PASSWORD, client="test")
    _, secret = kept(engine, admin)
    auth.reset_password(engine, "ana", "a brand new password")
    assert sessions.resume(engine, secret, idle=IDLE)[1] == admin


def test_a_page_run_does_not_wait_for_a_long_write_on_sqlite(sqlite_engine):
    """A load holds SQLite's one write lock for minutes: the session's use is then recorded
    at a later run, and the page goes on (instead of waiting, then failing, for the lock)."""
    engine = sqlite_engine
    auth.add_user(engine, "ana", role="analyst", password=PASSWORD)
    ana = auth.sign_in(engine, "ana", PASSWORD, client="test")
    start = audit.now()
    _, secret = kept(engine, ana, now=start)
    later = start + sessions.TOUCH_EVERY * 2
    with engine.connect() as loading:
        loading.execute(sa.update(db.User).values(role=db.User.role))  # holds the lock
        assert sessions.resume(engine, secret, idle=IDLE, now=later)[1] == ana
        loading.rollback()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.SQLITE_BUSY_MS
        last_seen = conn.execute(sa.select(db.BrowserSession.last_seen_at)).scalar_one()
    assert last_seen == start  # recorded by a later run, once the writer is done
    assert sessions.resume(engine, secret, idle=IDLE, now=later)[1] == ana


def session_ids(engine) -> set[int]:
    with engine.connect() as conn:
        return set(conn.execute(sa.select(db.BrowserSession.id)).scalars())


@pytest.mark.slow
def test_a_sign_in_clears_sessions_ended_more_than_a_day_before(engine, ana):
    start = audit.now()
    ended, _ = kept(engine, ana, now=start)
    sessions.end(engine, ended, now=start)
    later = start + sessions.KEEP_DEAD + dt.timedelta(seconds=1)
    new, _ = kept(engine, ana, now=later)
    assert session_ids(engine) == {new}


def test_a_sign_in_clears_sessions_idle_for_a_day_past_the_idle_time(engine, ana):
    start = audit.now()
    sessions.open_session(engine, ana, idle=IDLE, now=start)  # a handoff never taken
    kept(engine, ana, now=start)
    later = start + IDLE + sessions.KEEP_DEAD + dt.timedelta(seconds=1)
    new, _ = kept(engine, ana, now=later)
    assert session_ids(engine) == {new}


@pytest.mark.slow
def test_a_sign_in_keeps_sessions_in_use_and_those_dead_for_less_than_a_day(engine, ana):
    start = audit.now()
    later = start + sessions.KEEP_DEAD - dt.timedelta(minutes=1)
    ended, _ = kept(engine, ana, now=start)
    sessions.end(engine, ended, now=start)
    idle, _ = kept(engine, ana, now=start)
    in_use, _ = kept(engine, ana, now=later - IDLE / 2)
    new, _ = kept(engine, ana, now=later)
    assert session_ids(engine) == {ended, idle, in_use, new}
