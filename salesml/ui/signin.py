"""Sign-in in the app (Streamlit glue): who the browser session is and what they may do.

With no user in the database every session is auth.LOCAL (an admin) and a quiet line in the
sidebar says how to turn sign-in on. Once a user exists, a session must sign in, with a name
and password or, when `[auth]` is configured in .streamlit/secrets.toml, through the OpenID
Connect provider (st.login) whose verified e-mail address names a user. The user is read
from the database on every run, so a new role, a disabled account or a deleted user takes
effect at the next click; a session idle for longer than the setting signs in again.

A name-and-password sign-in is kept for the browser (salesml.sessions): the page hands the
browser a one-time token, which it exchanges at POST /api/v1/session for an HttpOnly
cookie, and a reload or another tab presents that cookie instead of signing in again. The
identity provider's own cookie keeps its sign-ins.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NoReturn

import streamlit as st

from salesml import auth, sessions
from salesml.auth import Principal
from salesml.errors import (
    AuthenticationError,
    PermissionDeniedError,
    SalesMLError,
    SessionIdleError,
)
from salesml.ui.database import connect, settings
from salesml.ui.messages import fail, flash, plain, show_flash

_KEY = "_signed_in"


@dataclass
class _Kept:
    user: Principal
    last_seen: float
    session: int | None = None  # the kept session (salesml.sessions), when there is one


_IDLE_OUT = "_idle_signed_out"
_HANDOFF = "_session_handoff"


def _sign_in_on() -> bool:
    try:
        return auth.enabled(connect())
    except SalesMLError as exc:
        fail(exc)


def signed_in() -> Principal | None:
    """Who this session is, or None when it must sign in first."""
    if not _sign_in_on():
        st.session_state.pop(_KEY, None)
        _local_only()
        return auth.LOCAL
    kept: _Kept | None = st.session_state.get(_KEY)
    now = time.time()
    if kept is None:
        return _from_cookie(now) or _from_identity_provider(now)
    idle = settings().session_idle_minutes
    # A kept session is shared by the browser's tabs: the database's last use, which any of
    # them updates, decides when it is idle; this tab's own timer would end it for all.
    if kept.session is None and now - kept.last_seen > idle * 60:
        _signed_out_idle(f"You were signed out after {idle} minutes without activity.")
        return None
    try:
        fresh = _current(kept.user) if kept.session is None else _in_session(kept.session)
    except SessionIdleError as exc:
        _signed_out_idle(str(exc))
        return None
    if fresh is None:
        _forget()
        return None
    st.session_state[_KEY] = _Kept(fresh, now, kept.session)
    return fresh


def _signed_out_idle(message: str) -> None:
    _forget()
    # A provider's cookie outlives the session: it may not sign the user straight in.
    st.session_state[_IDLE_OUT] = True
    _say_idle(message)


def _say_idle(message: str) -> None:
    flash(message, kind="info", slot="sign_in")


def _idle_time() -> dt.timedelta:
    return dt.timedelta(minutes=settings().session_idle_minutes)


def _from_cookie(now: float) -> Principal | None:
    """The user of the kept session this browser's cookie holds, if it holds one."""
    secret = session_cookie()
    if not secret:
        return None
    try:
        session_id, found = sessions.resume(connect(), secret, idle=_idle_time())
    except SessionIdleError as exc:
        _say_idle(str(exc))
        return None
    except AuthenticationError:
        return None  # ended: signed out, a new password, or disabled
    except SalesMLError as exc:
        fail(exc)
    st.session_state[_KEY] = _Kept(found, now, session_id)
    return found


def session_cookie() -> str | None:
    """The kept session's cookie as the browser sent it when this tab connected.

    Over https only the __Host- cookie counts: one without the prefix may have been set by
    another service on this host name, to sign this browser in as someone else.
    """
    cookies = st.context.cookies
    if not cookies:
        return None
    found = cookies.get(sessions.SECURE_COOKIE)
    if found or str(st.context.url or "").startswith("https:"):
        return found
    return cookies.get(sessions.COOKIE)


def _in_session(session_id: int) -> Principal | None:
    """The kept session's user as they are now; None once it has ended; SessionIdleError
    (and it ends) when no tab used it for the idle time."""
    try:
        return sessions.check(connect(), session_id, idle=_idle_time())
    except SessionIdleError:
        raise
    except AuthenticationError:
        return None
    except SalesMLError as exc:
        fail(exc)


def _end(session_id: int) -> None:
    try:
        sessions.end(connect(), session_id)
    except SalesMLError as exc:
        fail(exc)


def keep_for_browser() -> None:
    """Once, after a sign-in on this page: have the browser fetch the session's cookie.

    The cookie is HttpOnly, so only the server may set it; the page gives the browser the
    one-time token to ask for it with (the password never leaves the form).
    """
    handoff = st.session_state.pop(_HANDOFF, None)
    if not handoff:
        return
    body = json.dumps({"handoff": handoff})
    script = (
        f"<script>fetch({json.dumps(sessions.HANDOFF_URL)}, {{method: 'POST', "
        f"credentials: 'same-origin', headers: {{'Content-Type': 'application/json'}}, "
        f"body: {json.dumps(body)}}});</script>"
    )
    # In the main area, where the app's style hides it: in the sidebar it would open one on
    # the presenter view, which has none.
    st.html(script, unsafe_allow_javascript=True)


def _local_only() -> None:
    """Without sign-in the app serves this machine only: a page reached under another host
    name (a name of another site that resolves to 127.0.0.1, or a server started on every
    interface with `streamlit run`) is refused."""
    host = st.context.headers.get("host") if st.context.headers else None
    if host is None:  # no HTTP request behind this run (a test)
        return
    if not auth.is_local_host(host):
        st.error(
            "Sign-in is off (there are no users yet), so this app serves this computer "
            "only. An admin turns sign-in on with `python -m salesml users add NAME --role admin`."
        )
        st.stop()


def _current(user: Principal) -> Principal | None:
    """The user of a session not kept in the database, unless their password changed."""
    try:
        fresh = auth.current(connect(), user.user_id) if user.user_id is not None else None
    except SalesMLError as exc:
        fail(exc)
    if fresh is None or (user.stamp and fresh.stamp != user.stamp):
        return None
    return fresh


def _from_identity_provider(now: float) -> Principal | None:
    if not (oidc_providers() and _logged_in()) or st.session_state.get(_IDLE_OUT):
        return None
    try:
        user = auth.user_for_email(connect(), identity_email())
    except AuthenticationError:
        return None  # the sign-in page says whom to ask
    st.session_state[_KEY] = _Kept(user, now)
    return user


def _logged_in() -> bool:
    return identity_email() is not None


def identity_email() -> str | None:
    """The address the identity provider's cookie vouches for, or None when there is none.

    An address the provider says it has not verified vouches for nobody: anyone could
    have typed it.
    """
    try:
        if not st.user.is_logged_in:
            return None
    except (AttributeError, KeyError):  # st.user is empty without a provider's cookie
        return None
    if st.user.get("email_verified") is False:
        return ""
    return str(st.user.get("email") or "")


def _forget() -> None:
    st.session_state.pop(_KEY, None)


def user() -> Principal:
    """The signed-in user (or LOCAL); a page run without one stops at a pointer to sign in."""
    found = signed_in()
    if found is None:
        st.info("Sign in to use this page.")
        st.page_link("app.py", label="Sign in", icon=":material/login:")
        st.stop()
    return found


def require(action: str) -> Principal:
    """The signed-in user, once their role allows the action; otherwise the page stops."""
    found = user()
    if not found.can(action):
        deny(found, action)
    return found


def deny(found: Principal, action: str) -> NoReturn:
    """Refuse an action the user's role does not allow, and stop the page."""
    try:
        found.require(action)
    except PermissionDeniedError as exc:
        st.error(plain(exc))
    st.stop()


def not_for_role(found: Principal, title: str, action: str, url_path: str, *, home) -> st.Page:
    """A page hidden from the navigation where a link to a page the role may not use
    arrives: it goes home with one line saying why."""

    least = auth.ACTIONS[action]
    roles = f"the {least} role" + (" or higher" if least != auth.ROLES[-1] else "")

    def go_home() -> None:
        flash(f"{title} needs {roles}; your role is {found.role}.", kind="info")
        st.switch_page(home)

    return st.Page(go_home, title=title, url_path=url_path, visibility="hidden")


def oidc_providers() -> list[str | None]:
    """The OpenID Connect providers configured in secrets' [auth] ([None] for an unnamed one)."""
    if not st.secrets.load_if_toml_exists() or "auth" not in st.secrets:
        return []
    section = st.secrets["auth"]
    named = [name for name, value in section.items() if isinstance(value, Mapping)]
    return [None] if "client_id" in section else named


def _client() -> str:
    # Throttling counts failures per client address too; behind a proxy it is the proxy's.
    return str(st.context.ip_address or "unknown")


def sign_in_page() -> None:
    """The only page a session that has not signed in sees (in a column of reading width)."""
    with st.columns([1, 2, 1])[1]:
        _sign_in_form()


def _sign_in_form() -> None:
    st.title("Sign in to salesml")
    show_flash("sign_in")
    providers = oidc_providers()
    if providers:
        _identity_provider_buttons(providers)
    with st.form("sign_in", border=True):
        st.text_input("User name", key="sign_in_name", autocomplete="username")
        st.text_input(
            "Password", type="password", key="sign_in_password", autocomplete="current-password"
        )
        st.form_submit_button("Sign in", key="sign_in", type="primary", on_click=_submit)
    st.caption("An admin adds users with `python -m salesml users add NAME --role ROLE`.")
    failure = st.session_state.pop("_sign_in_failure", None)
    if failure:
        st.error(plain(failure))


def _submit() -> None:
    """Sign-in callback: the password is taken out of the session before anything else."""
    password = st.session_state.get("sign_in_password", "")
    st.session_state["sign_in_password"] = ""
    try:
        found = auth.sign_in(
            connect(), st.session_state.get("sign_in_name", ""), password, client=_client()
        )
    except SalesMLError as exc:
        st.session_state["_sign_in_failure"] = str(exc)
        return
    st.session_state.pop(_IDLE_OUT, None)
    try:
        session_id, handoff = sessions.open_session(connect(), found, idle=_idle_time())
    except SalesMLError as exc:
        st.session_state["_sign_in_failure"] = str(exc)
        return
    st.session_state[_KEY] = _Kept(found, time.time(), session_id)
    st.session_state[_HANDOFF] = handoff


def _identity_provider_buttons(providers: list[str | None]) -> None:
    email = identity_email()
    if email and st.session_state.get(_IDLE_OUT):
        st.button(
            f"Continue as {email}",
            key="oidc_continue",
            type="primary",
            on_click=lambda: st.session_state.pop(_IDLE_OUT, None),
        )
        return
    if _logged_in():
        email = identity_email() or "this account"
        st.warning(
            plain(
                f"{email} may not use this app yet; ask an admin to add it "
                f"(python -m salesml users add NAME --role viewer --email {email})."
            )
        )
        st.button("Sign out of the identity provider", key="oidc_sign_out", on_click=st.logout)
        return
    for provider in providers:
        label = f"Sign in with {provider.title()}" if provider else "Sign in with your organisation"
        st.button(
            label,
            key=f"oidc_{provider or 'default'}",
            type="primary",
            on_click=st.login,
            args=(provider,) if provider else (),
        )
    st.caption("Or with a user name and password:")


def sidebar(found: Principal) -> None:
    """Who is signed in, with sign-out; or, with sign-in off, how to turn it on."""
    with st.sidebar:
        if found is auth.LOCAL:
            st.caption(
                "Single-user mode: this app serves this computer only, with every right. "
                "Adding a user (`python -m salesml users add NAME --role admin`) turns "
                "sign-in on."
            )
            return
        st.caption(f"Signed in as **{plain(found.name)}** · {found.role}")
        st.button("Sign out", key="sign_out", on_click=sign_out)


def sign_out() -> None:
    """Sign-out callback: end the kept session and forget its user (and the identity
    provider's cookie)."""
    kept: _Kept | None = st.session_state.get(_KEY)
    _forget()
    if kept is not None and kept.session is not None:
        _end(kept.session)
    if oidc_providers() and _logged_in():
        st.logout()
    flash("You are signed out.", kind="info", slot="sign_in")
