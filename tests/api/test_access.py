"""Who may call what: bearer tokens, roles per endpoint, and the single-user mode."""

from __future__ import annotations

import datetime as dt

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from salesml import api, audit, auth, db, sessions
from tests.api.conftest import V1, assert_problem, wait_for_job

PASSWORD = "correct horse battery"


def rows(tag: str) -> dict:
    """Sales rows no other call of the test sends."""
    return {
        "name": f"rows-{tag}",
        "rows": [
            {"date": "2025-01-15", "product_name": f"Widget {tag}", "quantity": 2, "revenue": "9.5"}
        ],
    }


def add_users(services: api.Services) -> dict[str, str]:
    """A user of each role with a token (sign-in is on from now); role -> token."""
    engine = services.engine()
    found = {}
    for role in auth.ROLES:
        auth.add_user(engine, f"{role}-user", role=role, password=PASSWORD)
        found[role] = auth.create_token(engine, f"{role}-user")[1]
    return found


@pytest.fixture
def tokens(services: api.Services) -> dict[str, str]:
    """A user of each role with a token, on an empty database."""
    return add_users(services)


@pytest.fixture
def trained_tokens(services: api.Services, loaded: dict, trained: int) -> dict[str, str]:
    """A user of each role with a token, added once a model was trained without sign-in."""
    return add_users(services)


def as_user(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# Every operation, and the action it needs (salesml.auth.ACTIONS); {model}, {batch}: real ids.
OPERATIONS = [
    ("GET", "/batches", "read"),
    ("GET", "/batches/{batch}", "read"),
    ("GET", "/batches/{batch}/rejections", "read"),
    ("GET", "/sales/summary", "read"),
    ("GET", "/jobs", "read"),
    ("GET", "/models", "read"),
    ("GET", "/models/{model}", "read"),
    ("GET", "/predictions", "read"),
    ("GET", "/predictions/runs", "read"),
    ("GET", "/predictions/accuracy", "read"),
    ("POST", "/models/{model}/forecast", "forecast"),
    ("POST", "/sales", "load"),
    ("POST", "/models", "train"),
    ("POST", "/models/{model}/forecast?save", "save"),
    ("DELETE", "/batches/{batch}", "delete"),
    ("DELETE", "/models/{model}", "delete"),
]


def call(client: TestClient, method: str, path: str, token: str | None, ids: dict, tag: str):
    headers = as_user(token) if token else {}
    url = V1 + path.replace("?save", "").format(**ids)
    if (method, path) == ("POST", "/sales"):
        return client.post(url, json=rows(tag), headers=headers)
    if (method, path) == ("POST", "/models"):
        body = {"level": "total", "freq": "M", "horizon": 3, "models": ["snaive"]}
        return client.post(url, json=body, headers=headers)
    if path.startswith("/models/{model}/forecast"):
        body = {"horizon": 3, "save": path.endswith("?save")}
        return client.post(url, json=body, headers=headers)
    return client.request(method, url, headers=headers)


SUCCESS = {"GET": 200, "POST": 200, "DELETE": 204}


@pytest.mark.slow
@pytest.mark.parametrize("role", auth.ROLES)
def test_each_role_may_call_exactly_the_operations_its_actions_allow(
    client: TestClient, trained_tokens: dict, loaded: dict, trained: int, role
):
    tokens = trained_tokens
    user = auth.Principal(f"{role}-user", role)
    token = tokens[role]
    # Deletions last, each of something of its own: the model and batch the rest use stay.
    own_batch = client.post(
        f"{V1}/sales", json=rows(f"{role}-own"), headers=as_user(tokens["admin"])
    )
    assert own_batch.status_code == 201, own_batch.text
    for method, path, action in OPERATIONS:
        ids = {"model": trained, "batch": loaded["batch_id"]}
        if method == "DELETE":
            ids["batch"] = own_batch.json()["batch_id"]
        response = call(client, method, path, token, ids, role)
        if not user.can(action):
            assert_problem(response, 403, f"{role}-user is a {role}")
            continue
        expected = {("POST", "/sales"): 201, ("POST", "/models"): 202}.get(
            (method, path), SUCCESS[method]
        )
        assert response.status_code == expected, (method, path, response.text)
        if (method, path) == ("POST", "/models"):
            job = wait_for_job(client, response.json()["job_id"], headers=as_user(token))
            assert job["status"] == "done", job


@pytest.mark.slow
def test_a_viewer_forecasts_but_may_not_load_or_save(client, trained_tokens, trained):
    tokens = trained_tokens
    viewer = as_user(tokens["viewer"])
    assert (
        client.post(
            f"{V1}/models/{trained}/forecast", json={"horizon": 2}, headers=viewer
        ).status_code
        == 200
    )
    refused = client.post(f"{V1}/sales", json=rows("viewer"), headers=viewer)
    assert_problem(refused, 403, "analyst role")
    saving = client.post(
        f"{V1}/models/{trained}/forecast", json={"horizon": 2, "save": True}, headers=viewer
    )
    assert_problem(saving, 403, "analyst role")


def test_without_a_token_every_operation_but_health_is_401(client, tokens):
    for method, path, _ in OPERATIONS:
        response = call(client, method, path, None, {"model": 1, "batch": 1}, "x")
        assert_problem(response, 401, "Authorization: Bearer")
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert client.get(f"{V1}/health").status_code == 200


@pytest.mark.slow
@pytest.mark.parametrize(
    "header", ["Bearer sml_made-up", "Bearer ", "Basic YW5hOnB3", "Bearer " + "sml_" + "a" * 300]
)
def test_a_bad_token_is_401_and_says_nothing_of_why(client, tokens, header):
    response = client.get(f"{V1}/models", headers={"Authorization": header})
    body = assert_problem(response, 401)
    assert "sml_made-up" not in body["detail"]


def test_a_revoked_token_and_a_disabled_users_token_are_refused_at_once(client, services, tokens):
    engine = services.engine()
    analyst = as_user(tokens["analyst"])
    assert client.get(f"{V1}/models", headers=analyst).status_code == 200
    token_id = next(t.id for t in auth.list_tokens(engine) if t.user == "analyst-user")
    auth.revoke_token(engine, token_id)
    assert_problem(client.get(f"{V1}/models", headers=analyst), 401, "revoked")
    viewer = as_user(tokens["viewer"])
    auth.set_disabled(engine, "viewer-user", True)
    assert_problem(client.get(f"{V1}/models", headers=viewer), 401)


@pytest.mark.slow
def test_a_role_change_applies_to_the_next_request(client, services, tokens):
    viewer = as_user(tokens["viewer"])
    assert_problem(client.post(f"{V1}/sales", json=rows("promoted"), headers=viewer), 403)
    auth.set_role(services.engine(), "viewer-user", "analyst")
    assert client.post(f"{V1}/sales", json=rows("promoted"), headers=viewer).status_code == 201


@pytest.mark.slow
def test_changes_made_through_the_api_name_the_tokens_user(
    client, services, trained_tokens, trained
):
    tokens = trained_tokens
    analyst = as_user(tokens["analyst"])
    loaded = client.post(f"{V1}/sales", json=rows("audit"), headers=analyst).json()
    assert db.get_batch(services.engine(), loaded["batch_id"]).loaded_by == "analyst-user"
    client.post(
        f"{V1}/models/{trained}/forecast", json={"horizon": 2, "save": True}, headers=analyst
    )
    admin = as_user(tokens["admin"])
    assert client.delete(f"{V1}/batches/{loaded['batch_id']}", headers=admin).status_code == 204
    engine = services.engine()
    entries = [(e.actor, e.via, e.action) for e in audit.entries(engine, limit=3)]
    assert entries == [
        ("admin-user", "api", "delete batch"),
        ("analyst-user", "api", "save forecast"),
        ("analyst-user", "api", "load"),
    ]


@pytest.mark.slow
def test_a_training_through_the_api_is_recorded_as_its_users(client, services, loaded):
    tokens = add_users(services)
    response = client.post(
        f"{V1}/models",
        json={"level": "total", "freq": "M", "horizon": 3, "models": ["snaive"]},
        headers=as_user(tokens["analyst"]),
    )
    job = wait_for_job(client, response.json()["job_id"], headers=as_user(tokens["analyst"]))
    assert job["status"] == "done", job
    actions = {(e.actor, e.via, e.action) for e in audit.entries(services.engine(), limit=5)}
    assert ("analyst-user", "api", "train and save model") in actions


# --------------------------------------------------------------------------- single-user mode


def test_without_users_the_api_serves_the_local_user_but_refuses_other_sites(client, services):
    payload = rows("local")
    other_site = client.post(
        f"{V1}/sales", json=payload, headers={"Origin": "https://evil.example"}
    )
    assert_problem(other_site, 403, "another site")
    same_site = client.post(f"{V1}/sales", json=payload, headers={"Origin": "http://localhost"})
    assert same_site.status_code == 201, same_site.text
    assert (
        client.get(f"{V1}/batches", headers={"Origin": "https://evil.example"}).status_code == 200
    )
    assert audit.entries(services.engine(), limit=1)[0].actor == "local"
    rebound = client.get(f"{V1}/batches", headers={"Host": "attacker.example:8501"})
    assert_problem(rebound, 403, "localhost only")


def test_without_users_health_under_a_foreign_host_is_refused_like_every_route(client):
    assert client.get(f"{V1}/health").status_code == 200
    rebound = client.get(f"{V1}/health", headers={"Host": "attacker.example"})
    assert_problem(rebound, 403, "localhost only")


def test_with_users_health_answers_without_a_token_under_any_host(client, tokens):
    # A load balancer probes the server by its address, with no token.
    assert client.get(f"{V1}/health", headers={"Host": "10.0.0.5:8501"}).status_code == 200


# --------------------------------------------------------------------------- the app's WebSocket


def stream_server(services: api.Services) -> TestClient:
    """The server's front (ApiFirst) over a stand-in for Streamlit's /_stcore/stream."""

    async def stream(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("the overview figures")
        await websocket.close()

    app = Starlette(routes=[WebSocketRoute("/_stcore/stream", stream)])
    return TestClient(api.ApiFirst(app, api=api.asgi(services)))


def read_stream(client: TestClient, **headers: str) -> str:
    """What the stream sends a client addressing localhost:8701 (unless told another host)."""
    headers = {"host": "localhost:8701", **headers}
    with client.websocket_connect("/_stcore/stream", headers=headers) as websocket:
        return websocket.receive_text()


def test_without_users_a_websocket_from_another_local_origin_is_refused(services):
    with stream_server(services) as client:
        with pytest.raises(WebSocketDisconnect) as refused:
            read_stream(client, origin="http://127.0.0.1:8799")
        assert refused.value.code == 1008
        assert read_stream(client, origin="http://localhost:8701") == "the overview figures"


def test_without_users_a_websocket_under_a_foreign_host_is_refused(services):
    with stream_server(services) as client, pytest.raises(WebSocketDisconnect):
        read_stream(client, host="attacker.example:8701", origin="http://attacker.example:8701")


def test_with_users_a_websocket_from_another_origin_is_refused_too(services):
    add_users(services)
    with stream_server(services) as client:
        with pytest.raises(WebSocketDisconnect):
            read_stream(client, origin="http://127.0.0.1:8799")
        # Sign-in is on: the server is reached under its own name, from its own pages.
        same = {"host": "sales.example:8701", "origin": "http://sales.example:8701"}
        assert read_stream(client, **same) == "the overview figures"


# --------------------------------------------------------------------------- headers


def test_every_response_of_the_server_carries_the_security_headers(services):
    app = Starlette(routes=[Route("/", lambda request: PlainTextResponse("page"))])
    server = api.ApiFirst(app, api=api.asgi(services))
    with TestClient(server, base_url="http://localhost") as test_client:
        for path in ("/", f"{V1}/health", f"{V1}/nowhere"):
            headers = test_client.get(path).headers
            assert headers["x-frame-options"] == "SAMEORIGIN", path
            assert headers["content-security-policy"] == "frame-ancestors 'self'"
            assert headers["x-content-type-options"] == "nosniff"


# --------------------------------------------------------------------------- kept sessions


def handoff_for(services: api.Services, name: str) -> str:
    """The one-time token the app's page gets when the user signs in."""
    user = auth.sign_in(services.engine(), name, PASSWORD, client="test")
    return sessions.open_session(services.engine(), user, idle=dt.timedelta(hours=1))[1]


SAME_ORIGIN = {"Origin": "http://localhost"}


@pytest.mark.slow
def test_the_page_exchanges_its_handoff_for_an_httponly_strict_cookie(client, services, tokens):
    response = client.post(
        sessions.HANDOFF_URL,
        json={"handoff": handoff_for(services, "viewer-user")},
        headers=SAME_ORIGIN,
    )
    assert response.status_code == 204, response.text
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{sessions.COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http: a Secure cookie would never come back
    secret = response.cookies[sessions.COOKIE]
    user = sessions.resume(services.engine(), secret, idle=dt.timedelta(hours=1))[1]
    assert user.name == "viewer-user"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("base_url", "headers"),
    [
        ("https://localhost", {}),
        ("http://localhost", {"X-Forwarded-Proto": "https"}),  # behind a TLS proxy
        ("http://localhost", {}),  # a proxy that does not say so: the page's origin does
    ],
    ids=["https", "proxy says https", "https origin"],
)
def test_over_https_the_cookie_is_a_secure_host_only_cookie(services, tokens, base_url, headers):
    """The __Host- prefix: the browser takes the cookie only with Secure, Path=/ and no Domain,
    so a page over plain http (another port of this host) cannot set one of that name."""
    with TestClient(api.asgi(services), base_url=base_url) as client:
        response = client.post(
            sessions.HANDOFF_URL,
            json={"handoff": handoff_for(services, "viewer-user")},
            headers={"Origin": "https://localhost", **headers},
        )
    assert response.status_code == 204, response.text
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"__Host-{sessions.COOKIE}=")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie


def test_a_handoff_is_exchanged_once(client, services, tokens):
    body = {"handoff": handoff_for(services, "viewer-user")}
    assert client.post(sessions.HANDOFF_URL, json=body, headers=SAME_ORIGIN).status_code == 204
    again = client.post(sessions.HANDOFF_URL, json=body, headers=SAME_ORIGIN)
    assert_problem(again, 401, "sign in again")
    assert "set-cookie" not in again.headers


@pytest.mark.slow
@pytest.mark.parametrize("origin", [None, "https://evil.example", "http://localhost:8799"])
def test_only_the_servers_own_page_may_ask_for_the_cookie(client, services, tokens, origin):
    body = {"handoff": handoff_for(services, "viewer-user")}
    headers = {"Origin": origin} if origin else {}
    refused = client.post(sessions.HANDOFF_URL, json=body, headers=headers)
    assert_problem(refused, 403, "own pages")
    assert "set-cookie" not in refused.headers
