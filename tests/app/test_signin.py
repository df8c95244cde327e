"""Sign-in in the app, and which pages and buttons each role gets (and is refused)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from salesml import audit, auth, db, sessions, training
from salesml.audit import Actor
from salesml.db import create_engine_for, init_db, list_batches
from salesml.demo import load_demo
from salesml.ingest import ingest_file
from salesml.training import TrainRequest
from salesml.ui import signin
from tests.app.driver import APP, click, rerun, shown, texts

PASSWORD = "correct horse battery"
PAGES = {
    "overview.py",
    "data.py",
    "explorer.py",
    "train.py",
    "forecast.py",
    "predictions.py",
    "team.py",
}
# The pages each role finds in the navigation.
ROLE_PAGES = {
    "viewer": {"overview.py", "explorer.py", "forecast.py", "predictions.py"},
    "analyst": {
        "overview.py",
        "data.py",
        "explorer.py",
        "train.py",
        "forecast.py",
        "predictions.py",
    },
    "admin": PAGES,
}
PAGES_DIR = APP.parent / "pages"
IDLE_31 = dt.timedelta(minutes=31)


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Demo data and one saved category model, built once for the module."""
    root = tmp_path_factory.mktemp("access")
    engine = create_engine_for(f"sqlite:///{root / 'app.db'}")
    init_db(engine)
    load_demo(engine)
    request = TrainRequest(level="category", freq="M", horizon=3, models=("snaive",))
    training.save(engine, training.train(engine, request), request, model_dir=root / "models")
    engine.dispose()
    return root


@pytest.fixture
def with_users(app_dir: Path, saved: Path) -> Iterator[Engine]:
    """This test's copy of the demo database with a saved model, and a user of each role."""
    shutil.copy(saved / "app.db", app_dir / "app.db")
    shutil.copytree(saved / "models", app_dir / "models")
    engine = create_engine_for(f"sqlite:///{app_dir / 'app.db'}")
    for role in auth.ROLES:
        auth.add_user(engine, f"{role}-user", role=role, password=PASSWORD)
    yield engine
    engine.dispose()


def app(secrets: dict | None = None, script: Path = APP) -> AppTest:
    at = AppTest.from_file(script, default_timeout=60)
    at.secrets = secrets or {"SALESML_TEST": "isolated"}
    return at


def signed_in_as(engine: Engine, role: str, script: Path = APP) -> AppTest:
    """A session already signed in as the role's user (as the sign-in form leaves it)."""
    at = app(script=script)
    user = auth.sign_in(engine, f"{role}-user", PASSWORD, client="test")
    at.session_state["_signed_in"] = signin._Kept(user, time.time())
    return rerun(at)


def pages_shown(at: AppTest) -> set[str]:
    """The page files the navigation offers this session."""
    return {
        Path(info["script_path"]).name
        for info in at._registered_pages.values()  # what switch_page resolves against
        if info.get("script_path")
    }


def sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="sign_in_name").input(name)
    at.text_input(key="sign_in_password").input(password)
    return click(at, "sign_in")


def follow_link(at: AppTest, url_path: str) -> AppTest:
    """Open the app at /url_path, as a link or the address bar does: Streamlit asks for the
    page by its URL path's hash, whether the navigation holds such a page or not."""
    at._page_hash = calc_hash(url_path)
    return rerun(at)


def button_keys(at: AppTest) -> set[str]:
    return {button.key for button in at.button} | {u.key for u in at.get("file_uploader")}


# --------------------------------------------------------------------------- sign-in


def test_with_no_user_the_app_opens_at_once_and_says_how_to_turn_sign_in_on(app_dir):
    at = rerun(app())
    assert [t.value for t in at.title] == ["Overview"]
    assert "Single-user mode" in texts(at.sidebar.caption)
    assert pages_shown(at) == PAGES


@pytest.mark.slow
def test_once_a_user_exists_nothing_is_drawn_before_sign_in(with_users):
    at = rerun(app())
    assert [t.value for t in at.title] == ["Sign in to salesml"]
    assert pages_shown(at) == set()
    assert not at.metric and not at.dataframe


@pytest.mark.slow
def test_a_user_signs_in_sees_who_they_are_and_signs_out(with_users):
    at = sign_in(rerun(app()), "analyst-user", PASSWORD)
    assert [t.value for t in at.title] == ["Overview"]
    assert "Signed in as **analyst\\-user** · analyst" in [c.value for c in at.sidebar.caption]
    at = click(at, "sign_out")
    assert [t.value for t in at.title] == ["Sign in to salesml"]
    assert "You are signed out." in texts(at.info)


@pytest.mark.slow
def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(with_users):
    at = sign_in(rerun(app()), "analyst-user", "not the password")
    wrong_password = texts(at.error)
    at = sign_in(at, "nobody", PASSWORD)
    assert texts(at.error) == wrong_password == auth.WRONG_SIGN_IN
    assert at.session_state["sign_in_password"] == ""  # taken out before checking it
    assert [t.value for t in at.title] == ["Sign in to salesml"]


@pytest.mark.slow
def test_the_password_is_not_kept_or_shown_after_signing_in(with_users):
    at = sign_in(rerun(app()), "analyst-user", PASSWORD)
    assert at.session_state["sign_in_password"] == ""
    shown = "\n".join(str(element.value) for element in at.main if hasattr(element, "value"))
    assert PASSWORD not in shown


@pytest.mark.slow
def test_five_failed_sign_ins_lock_the_name_out(with_users):
    at = rerun(app())
    for _ in range(auth.MAX_FAILURES):
        at = sign_in(at, "admin-user", "guess guess")
    at = sign_in(at, "admin-user", PASSWORD)
    assert "Too many failed sign-ins; try again in 15 minutes." in texts(at.error)


@pytest.mark.slow
def test_an_idle_session_signs_in_again(with_users, monkeypatch):
    monkeypatch.setenv("SALESML_SESSION_IDLE_MINUTES", "30")
    at = signed_in_as(with_users, "viewer")
    kept = at.session_state["_signed_in"]
    at.session_state["_signed_in"] = signin._Kept(kept.user, time.time() - 31 * 60)
    at = rerun(at)
    assert [t.value for t in at.title] == ["Sign in to salesml"]
    assert "signed out after 30 minutes" in texts(at.info)


@pytest.mark.slow
def test_a_disabled_user_is_signed_out_at_the_next_click(with_users):
    at = signed_in_as(with_users, "analyst")
    auth.set_disabled(with_users, "analyst-user", True)
    assert [t.value for t in rerun(at).title] == ["Sign in to salesml"]


@pytest.mark.slow
def test_a_new_password_signs_the_old_sessions_out(with_users):
    at = signed_in_as(with_users, "analyst")
    auth.reset_password(with_users, "analyst-user", "a brand new password")
    assert [t.value for t in rerun(at).title] == ["Sign in to salesml"]


@pytest.mark.slow
def test_a_new_role_applies_at_the_next_click(with_users):
    at = signed_in_as(with_users, "viewer")
    assert "data.py" not in pages_shown(at)
    auth.set_role(with_users, "viewer-user", "analyst")
    assert "data.py" in pages_shown(rerun(at))


# --------------------------------------------------------------------------- kept sessions


def browser_with_cookie(monkeypatch, secret: str | None) -> AppTest:
    """A new tab (or a reload) of a browser holding this session cookie."""
    monkeypatch.setattr(signin, "session_cookie", lambda: secret)
    return rerun(app())


def cookie_after_sign_in(engine: Engine, at: AppTest) -> str:
    """What the browser's fetch gets for the handoff the page just gave it."""
    [handoff] = [element.proto.body for element in at.get("html") if "fetch(" in element.proto.body]
    token = json.loads(json.loads(handoff.split("body: ", 1)[1].split("});", 1)[0]))["handoff"]
    return sessions.hand_over(engine, token)


@pytest.mark.slow
def test_signing_in_hands_the_browser_a_kept_session_that_a_reload_resumes(with_users, monkeypatch):
    at = sign_in(rerun(app()), "analyst-user", PASSWORD)
    secret = cookie_after_sign_in(with_users, at)
    assert PASSWORD not in str([element.proto.body for element in at.get("html")])
    reloaded = browser_with_cookie(monkeypatch, secret)
    assert [t.value for t in reloaded.title] == ["Overview"]
    assert "Signed in as **analyst-user** · analyst" in texts(reloaded.sidebar.caption)


@pytest.mark.slow
def test_signing_in_on_a_presenter_link_draws_nothing_in_the_sidebar(with_users):
    at = app()
    at.query_params["view"] = "present"
    at = sign_in(rerun(at), "analyst-user", PASSWORD)
    assert [t.value for t in at.title] == ["Overview"]
    assert cookie_after_sign_in(with_users, at)  # the page still hands the session over
    assert len(at.sidebar.children) == 0


@pytest.mark.slow
def test_signing_out_ends_the_kept_session(with_users, monkeypatch):
    at = sign_in(rerun(app()), "analyst-user", PASSWORD)
    secret = cookie_after_sign_in(with_users, at)
    click(at, "sign_out")
    reloaded = browser_with_cookie(monkeypatch, secret)
    assert [t.value for t in reloaded.title] == ["Sign in to salesml"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "change",
    [
        lambda engine: auth.reset_password(engine, "analyst-user", "a brand new password"),
        lambda engine: auth.set_disabled(engine, "analyst-user", True),
    ],
    ids=["new password", "disabled"],
)
def test_a_new_password_or_disabling_the_user_ends_the_kept_session(
    with_users, monkeypatch, change
):
    at = sign_in(rerun(app()), "analyst-user", PASSWORD)
    secret = cookie_after_sign_in(with_users, at)
    change(with_users)
    assert [t.value for t in rerun(at).title] == ["Sign in to salesml"]  # the open tab
    reloaded = browser_with_cookie(monkeypatch, secret)
    assert [t.value for t in reloaded.title] == ["Sign in to salesml"]


@pytest.mark.slow
def test_a_kept_session_idle_too_long_signs_in_again_and_says_why(with_users, monkeypatch):
    monkeypatch.setenv("SALESML_SESSION_IDLE_MINUTES", "30")
    at = sign_in(rerun(app()), "analyst-user", PASSWORD)
    secret = cookie_after_sign_in(with_users, at)
    with with_users.begin() as conn:
        conn.execute(sa.update(db.BrowserSession).values(last_seen_at=audit.now() - IDLE_31))
    reloaded = browser_with_cookie(monkeypatch, secret)
    assert [t.value for t in reloaded.title] == ["Sign in to salesml"]
    assert "signed out after 30 minutes without activity" in texts(reloaded.info)


@pytest.mark.slow
def test_an_open_tab_of_a_kept_session_no_tab_used_signs_in_again(with_users, monkeypatch):
    monkeypatch.setenv("SALESML_SESSION_IDLE_MINUTES", "30")
    at = sign_in(rerun(app()), "analyst-user", PASSWORD)
    with with_users.begin() as conn:
        conn.execute(sa.update(db.BrowserSession).values(last_seen_at=audit.now() - IDLE_31))
    at = rerun(at)
    assert [t.value for t in at.title] == ["Sign in to salesml"]
    assert "signed out after 30 minutes without activity" in texts(at.info)


@pytest.mark.slow
def test_a_tab_left_idle_does_not_sign_out_the_tab_in_use(with_users, monkeypatch):
    monkeypatch.setenv("SALESML_SESSION_IDLE_MINUTES", "30")
    idle_tab = sign_in(rerun(app()), "analyst-user", PASSWORD)
    busy_tab = browser_with_cookie(monkeypatch, cookie_after_sign_in(with_users, idle_tab))
    kept = idle_tab.session_state["_signed_in"]
    # The idle tab's last run was 31 minutes ago; the busy tab ran just now.
    idle_tab.session_state["_signed_in"] = signin._Kept(
        kept.user, time.time() - IDLE_31.total_seconds(), kept.session
    )
    rerun(idle_tab)
    assert [t.value for t in rerun(busy_tab).title] == ["Overview"]


@pytest.mark.parametrize(
    ("url", "cookies", "found"),
    [
        ("http://localhost:8501/", {"salesml_session": "ours"}, "ours"),
        ("https://sales.example.com/", {"__Host-salesml_session": "ours"}, "ours"),
        # Over https, a cookie without the prefix may come from another service on the
        # same host name (another port, over plain http): it signs nobody in.
        ("https://sales.example.com/", {"salesml_session": "planted"}, None),
        (
            "https://sales.example.com/",
            {"salesml_session": "planted", "__Host-salesml_session": "ours"},
            "ours",
        ),
    ],
    ids=["http", "https", "https, planted", "https, both"],
)
def test_over_https_only_the_host_only_cookie_is_read(monkeypatch, url, cookies, found):
    monkeypatch.setattr(signin.st, "context", SimpleNamespace(url=url, cookies=cookies))
    assert signin.session_cookie() == found


@pytest.mark.slow
def test_a_forged_cookie_signs_nobody_in(with_users, monkeypatch):
    at = browser_with_cookie(monkeypatch, "forged-" + "x" * 40)
    assert [t.value for t in at.title] == ["Sign in to salesml"]


OIDC = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a long random secret for the test",
    "client_id": "salesml",
    "client_secret": "not-a-real-secret",
    "server_metadata_url": "https://id.example.com/.well-known/openid-configuration",
}


@pytest.mark.slow
def test_with_openid_connect_configured_the_sign_in_page_offers_it(with_users):
    oidc = OIDC
    at = rerun(app({"SALESML_TEST": "isolated", "auth": oidc}))
    assert "oidc_default" in button_keys(at)
    named = rerun(app({"SALESML_TEST": "isolated", "auth": {"google": oidc}}))
    assert [b.label for b in named.button if b.key == "oidc_google"] == ["Sign in with Google"]


@pytest.mark.slow
def test_an_idle_identity_provider_session_asks_before_going_on(with_users, monkeypatch):
    auth.add_user(with_users, "eve", role="viewer", email="eve@example.com")
    monkeypatch.setattr(signin, "identity_email", lambda: "eve@example.com")
    at = rerun(app({"SALESML_TEST": "isolated", "auth": OIDC}))
    kept = at.session_state["_signed_in"]
    at.session_state["_signed_in"] = signin._Kept(kept.user, time.time() - 61 * 60)
    at = rerun(at)
    assert [t.value for t in at.title] == ["Sign in to salesml"]
    at = click(at, "oidc_continue")
    assert [t.value for t in at.title] == ["Overview"]


@pytest.mark.slow
def test_an_identity_providers_address_signs_in_as_its_user(with_users, monkeypatch):
    auth.add_user(with_users, "eve", role="viewer", email="eve@example.com")
    oidc = {"SALESML_TEST": "isolated", "auth": OIDC}
    monkeypatch.setattr(signin, "identity_email", lambda: "eve@example.com")
    at = rerun(app(oidc))
    assert [t.value for t in at.title] == ["Overview"]
    assert "Signed in as **eve** · viewer" in [c.value for c in at.sidebar.caption]
    monkeypatch.setattr(signin, "identity_email", lambda: "mallory@example.com")
    at = rerun(app(oidc))
    assert [t.value for t in at.title] == ["Sign in to salesml"]
    assert "mallory@example.com may not use this app yet" in texts(at.warning)
    assert "oidc_sign_out" in button_keys(at)


# --------------------------------------------------------------------------- role x page x action


@pytest.mark.slow
@pytest.mark.parametrize("role", auth.ROLES)
def test_each_role_sees_exactly_its_pages(with_users, role):
    assert pages_shown(signed_in_as(with_users, role)) == ROLE_PAGES[role]


ALLOWED = [(role, page) for role in auth.ROLES for page in sorted(ROLE_PAGES[role])]
FORBIDDEN = [(role, page) for role in auth.ROLES for page in sorted(PAGES - ROLE_PAGES[role])]


@pytest.mark.slow
@pytest.mark.parametrize(("role", "page"), ALLOWED)
def test_each_page_a_role_may_use_draws_for_it(with_users, role, page):
    at = rerun(signed_in_as(with_users, role).switch_page(f"pages/{page}"))
    assert not at.error, texts(at.error)
    assert at.title


@pytest.mark.slow
@pytest.mark.parametrize(("role", "page"), FORBIDDEN)
def test_a_page_the_role_may_not_use_refuses_it_on_the_server_too(with_users, role, page):
    """Run straight (as a crafted request would): the page itself checks the role."""
    at = signed_in_as(with_users, role, PAGES_DIR / page)
    assert f"{role}-user is a {role}" in texts(at.error)
    assert not button_keys(at) and not at.dataframe and not at.metric


@pytest.fixture
def users_on_each_backend(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The app on an empty database of each backend with a user of each role."""
    monkeypatch.setenv("SALESML_DATABASE_URL", database_url)
    engine = create_engine_for(database_url)
    init_db(engine)
    for role in auth.ROLES:
        auth.add_user(engine, f"{role}-user", role=role, password=PASSWORD)
    yield engine
    engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("role", auth.ROLES)
def test_on_each_backend_a_role_gets_its_pages_and_is_refused_the_others(
    users_on_each_backend, role
):
    engine = users_on_each_backend
    assert pages_shown(signed_in_as(engine, role)) == ROLE_PAGES[role]
    for page in sorted(PAGES - ROLE_PAGES[role]):
        refused = signed_in_as(engine, role, PAGES_DIR / page)
        assert f"{role}-user is a {role}" in texts(refused.error), page


@pytest.mark.slow
def test_a_viewer_following_a_link_to_data_is_told_why_they_are_on_overview(with_users):
    at = follow_link(signed_in_as(with_users, "viewer"), "data")
    assert [t.value for t in at.title] == ["Overview"]
    assert "Data needs the analyst role or higher; your role is viewer." in texts(at.info)
    assert not button_keys(at) & {"upload", "delete"}


@pytest.mark.slow
def test_an_analyst_following_a_link_to_team_is_told_it_is_for_admins(with_users):
    at = follow_link(signed_in_as(with_users, "analyst"), "team")
    assert [t.value for t in at.title] == ["Overview"]
    assert "Team needs the admin role; your role is analyst." in texts(at.info)


@pytest.mark.slow
def test_a_viewer_sees_neither_the_database_path_nor_an_admins_hint(with_users, app_dir):
    viewer = "\n".join(shown(c.value) for c in signed_in_as(with_users, "viewer").main.caption)
    admin = "\n".join(shown(c.value) for c in signed_in_as(with_users, "admin").main.caption)
    assert "Database:" in admin and str(app_dir) in admin
    assert "Database:" not in viewer and str(app_dir) not in viewer
    assert "SALESML_DATABASE_URL" not in viewer


@pytest.mark.slow
def test_a_viewer_forecasts_but_finds_no_save_button(with_users):
    at = signed_in_as(with_users, "viewer")
    at = rerun(at.switch_page("pages/forecast.py"))
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    assert "save_forecast" not in button_keys(at)


@pytest.mark.slow
def test_an_analyst_saves_a_forecast_recorded_under_their_name(with_users):
    at = rerun(signed_in_as(with_users, "analyst").switch_page("pages/forecast.py"))
    at = click(at, "save_forecast")
    assert "Saved the base forecast" in texts(at.success)
    entry = audit.entries(with_users, limit=1)[0]
    assert (entry.actor, entry.via, entry.action) == ("analyst-user", "app", "save forecast")


@pytest.mark.slow
def test_an_analyst_loads_files_but_finds_no_delete_control_or_by_column(with_users):
    at = rerun(signed_in_as(with_users, "analyst").switch_page("pages/data.py"))
    assert "upload" in button_keys(at)
    assert "delete" not in button_keys(at)
    assert "by" not in at.dataframe[0].value.columns


@pytest.mark.slow
def test_an_admin_deletes_a_batch_and_the_history_says_who_loaded_it(with_users):
    sales = b"date,product,quantity,revenue\n2025-01-02,Kettle,2,19.90\n"
    ingest_file(with_users, sales, name="kettles.csv", by=Actor("analyst-user", "api"))
    at = rerun(signed_in_as(with_users, "admin").switch_page("pages/data.py"))
    history = at.dataframe[0].value
    assert list(zip(history["file"], history["by"], strict=True)) == [
        ("kettles.csv", "analyst-user"),
        ("demo_sales.csv", None),  # loaded by a library call that named no one
    ]
    at.selectbox(key="delete_batch").select(2)
    at.checkbox(key="confirm_delete").check()
    at = click(rerun(at), "delete")
    assert "Deleted batch 2" in texts(at.success)
    assert [batch.id for batch in list_batches(with_users)] == [1]
    entry = audit.entries(with_users, limit=1)[0]
    assert (entry.actor, entry.via, entry.action) == ("admin-user", "app", "delete batch")


@pytest.mark.slow
def test_an_admin_adds_a_user_and_creates_a_token_shown_once(with_users):
    at = rerun(signed_in_as(with_users, "admin").switch_page("pages/team.py"))
    at.text_input(key="new_user_name").input("bob")
    at.selectbox(key="new_user_role").select("viewer")
    at.text_input(key="new_user_password").input("bobs long password")
    at = click(at, "add_user")
    assert "Added bob as viewer." in texts(at.success)
    at.selectbox(key="token_user").select("bob")
    at = click(at, "create_token")
    token = at.code[0].value
    assert auth.token_principal(with_users, token).name == "bob"
    assert token not in str([element.value for element in rerun(at).code])
    assert "bobs long password" not in str(at.dataframe[-1].value.to_dict())


@pytest.mark.slow
def test_the_team_page_refuses_a_name_that_differs_from_another_only_in_case(with_users):
    at = rerun(signed_in_as(with_users, "admin").switch_page("pages/team.py"))
    at.text_input(key="new_user_name").input("Viewer-User")
    at.selectbox(key="new_user_role").select("admin")
    at.text_input(key="new_user_password").input("a long enough password")
    at = click(at, "add_user")
    assert texts(at.error) == (
        "a user named 'viewer-user' exists already ('Viewer-User' differs only in case)"
    )
    assert [user.name for user in auth.list_users(with_users)] == [
        "admin-user",
        "analyst-user",
        "viewer-user",
    ]
