"""Team (admins): users and their roles, API tokens, and the audit log."""

from __future__ import annotations

import streamlit as st

from salesml import audit, auth, ui
from salesml.errors import SalesMLError
from salesml.ui import signin

NEVER = 0


def users_section(engine, by) -> list[str]:
    """The users, a form to add one, and changes to one; returns the users' names."""
    st.header("Users")
    ui.show_flash("users")
    users = auth.list_users(engine)
    if not users:
        st.info(
            "No users yet: the app serves this computer only, with every right. The first "
            "user you add turns sign-in on for the app and the API, so make them an admin."
        )
    if users:
        st.dataframe(
            ui.users_frame(users),
            hide_index=True,
            column_config={"added": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
        )
    add_cell, change_cell = st.columns(2, gap="large")
    with add_cell:
        add_user_form(engine, by)
    names = [u.name for u in users]
    if names:
        with change_cell:
            change_user_form(engine, by, {u.name: u for u in users})
    return names


def add_user_form(engine, by) -> None:
    """Name, role, password (and an e-mail address for OpenID Connect sign-in)."""
    st.subheader("Add a user")
    with st.form("add_user", clear_on_submit=True):
        name = st.text_input("User name", key="new_user_name")
        role = st.selectbox("Role", auth.ROLES, key="new_user_role")
        email = st.text_input(
            "E-mail (optional)",
            key="new_user_email",
            help="The address an OpenID Connect sign-in vouches for, when one is set up.",
        )
        password = st.text_input(
            "Password",
            type="password",
            key="new_user_password",
            help=f"At least {auth.MIN_PASSWORD_LENGTH} characters.",
        )
        added = st.form_submit_button("Add user", key="add_user", type="primary")
    if added:
        try:
            auth.add_user(
                engine,
                name.strip(),
                role=role,
                password=password or None,  # none: signs in through the identity provider
                email=email or None,
                by=by,
            )
        except SalesMLError as exc:
            ui.show_error(exc)
            return
        ui.flash(f"Added {ui.plain(name.strip())} as {role}.", slot="users")
        st.rerun()


def change_user_form(engine, by, users: dict) -> None:
    """Another role, disable or enable, or a new password, for one user."""
    st.subheader("Change a user")
    name = st.selectbox("User", list(users), key="change_user")
    user = users[name]
    role_cell, apply_cell = st.columns([3, 1], vertical_alignment="bottom")
    role = role_cell.selectbox(
        "Role", auth.ROLES, index=auth.ROLES.index(user.role), key="change_role"
    )
    if apply_cell.button("Set role", key="set_role", disabled=role == user.role):
        _apply(lambda: auth.set_role(engine, name, role, by=by), f"{name} is now {role}.")
    if user.disabled:
        if st.button("Enable", key="enable_user"):
            _apply(lambda: auth.set_disabled(engine, name, False, by=by), f"{name} is enabled.")
    elif st.button("Disable", key="disable_user", help="Refuse their sign-in and tokens at once."):
        _apply(lambda: auth.set_disabled(engine, name, True, by=by), f"{name} is disabled.")
    with st.form("reset_password", clear_on_submit=True):
        password = st.text_input("New password", type="password", key="reset_password_value")
        reset = st.form_submit_button("Set password", key="reset_password")
    if reset:
        _apply(
            lambda: auth.reset_password(engine, name, password, by=by),
            f"{name} has a new password.",
        )


def _apply(change, message: str) -> None:
    try:
        change()
    except SalesMLError as exc:
        ui.show_error(exc)
        return
    ui.flash(ui.plain(message), slot="users")
    st.rerun()


def tokens_section(engine, by, names: list[str]) -> None:
    """API tokens: the list (prefixes only), a new one (shown once), revoking one."""
    st.header("API tokens")
    st.caption(
        "Programs send a token as `Authorization: Bearer <token>`; it acts with its user's role."
    )
    new = st.session_state.pop("_new_token", None)
    if new:
        st.success("Copy the token now: it is shown only once.")
        st.code(new, language=None)
    ui.show_flash("tokens")
    tokens = auth.list_tokens(engine)
    if tokens:
        st.dataframe(
            ui.tokens_frame(tokens),
            hide_index=True,
        )
    create_cell, revoke_cell = st.columns(2, gap="large")
    if names:
        with create_cell, st.form("create_token", clear_on_submit=True):
            owner = st.selectbox("For user", names, key="token_user")
            label = st.text_input("Label", key="token_label", placeholder="e.g. nightly ETL")
            days = st.number_input("Expires after (days, 0 = never)", 0, 3650, 90, key="token_days")
            if st.form_submit_button("Create token", key="create_token", type="primary"):
                try:
                    _, token = auth.create_token(
                        engine, owner, label=label, expires_days=int(days) or None, by=by
                    )
                except SalesMLError as exc:
                    ui.show_error(exc)
                else:
                    st.session_state["_new_token"] = token
                    st.rerun()
    active = [t for t in tokens if t.state == "active"]
    if active:
        with revoke_cell:
            chosen = st.selectbox(
                "Token to revoke",
                [t.id for t in active],
                format_func=lambda i: next(
                    f"{t.id}: {t.prefix}… ({t.user}{', ' + t.label if t.label else ''})"
                    for t in active
                    if t.id == i
                ),
                key="revoke_token_id",
            )
            if st.button("Revoke", key="revoke_token"):
                try:
                    auth.revoke_token(engine, chosen, by=by)
                except SalesMLError as exc:
                    ui.show_error(exc)
                else:
                    ui.flash(f"Token {chosen} is revoked.", slot="tokens")
                    st.rerun()


def audit_section(engine) -> None:
    """Who loaded, deleted, trained, saved and changed users, newest first."""
    st.header("Audit log")
    entries = audit.entries(engine)
    if not entries:
        st.caption("Nothing recorded yet.")
        return
    st.dataframe(
        ui.audit_frame(entries),
        hide_index=True,
        column_config={"when (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")},
    )


ui.route_through_app()
admin = signin.require("manage")
st.title("Team")
engine = ui.connect()
actor = admin.actor("app")
with ui.stop_on_error():
    user_names = users_section(engine, actor)
    st.divider()
    tokens_section(engine, actor, user_names)
    st.divider()
    audit_section(engine)
