"""One server, one port: the Streamlit app and the REST API in one ASGI application.

Beside salesml.ui this is the only module that imports Streamlit: it wires the API to the
app's own engine and loaded-model cache, so a model loaded by either is loaded once.
"""

from __future__ import annotations

import importlib
import json
import logging
import socket
import sys
import threading
from contextlib import asynccontextmanager
from pathlib import Path

from salesml import api, auth, config
from salesml.api.inflight import InFlight
from salesml.api.problems import MEDIA_TYPE
from salesml.api.services import ModelCache
from salesml.jobs import JobQueue
from salesml.theme import OneThemeForEveryPage

APP_SCRIPT = Path(__file__).resolve().parent.parent / "app.py"


class ServerServices:
    """The API's Services on the app's cached engine, loaded models and query results.

    Everything is resolved on first use: salesml.ui and the settings (which read
    .streamlit/secrets.toml) only once Streamlit's runtime and configuration are up.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._settings: config.Settings | None = None
        self._jobs: JobQueue | None = None
        self._engine = None
        # Models come from the app's cache (read from disk once, whichever face asks first);
        # the API keeps its own hold on the last few, as the app's cache does.
        self._models = ModelCache(lambda model_id: _ui().cached_model(model_id))
        self.loads = InFlight()

    @property
    def settings(self) -> config.Settings:
        with self._lock:
            if self._settings is None:
                self._settings = _ui().settings()
            return self._settings

    @property
    def jobs(self) -> JobQueue:
        workers = self.settings.max_trainings
        with self._lock:
            if self._jobs is None:
                self._jobs = JobQueue(workers)
            return self._jobs

    def engine(self):
        # The app's engine, kept once it connected: looking it up costs a settings read.
        if self._engine is None:
            self._engine = _ui().engine()
        return self._engine

    def load_model(self, model_id: int):
        return self._models.get(model_id)

    def loaded(self, model_id: int):
        return self._models.peek(model_id)

    def forget_models(self) -> None:
        self._models.clear()
        _ui().forget_models()

    def changed(self) -> None:
        _ui().clear_data_caches()

    def shutdown(self) -> None:
        if self._jobs is not None:
            self._jobs.shutdown()


def _ui():
    from salesml import ui

    return ui


def create_app():
    """The Streamlit app (app.py) with the API mounted at /api/v1."""
    from streamlit.starlette import App

    services = ServerServices()
    # The API calls the app's cached functions outside any page run, as intended; a filter
    # (Streamlit resets its loggers' levels when it reads its configuration) keeps each
    # request from logging that it did.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: "missing ScriptRunContext" not in record.msg
    )

    @asynccontextmanager
    async def lifespan(_app):
        yield None
        services.shutdown()

    from starlette.middleware import Middleware

    front = Middleware(api.ApiFirst, api=api.asgi(services))  # type: ignore[arg-type]
    theme = Middleware(OneThemeForEveryPage)  # type: ignore[arg-type]
    return App(str(APP_SCRIPT), middleware=[front, theme], lifespan=lifespan)


def reply_without_delay() -> None:
    """Make every accepted connection send small replies at once (TCP_NODELAY).

    Streamlit binds its listening socket with protocol 0, so asyncio does not set
    TCP_NODELAY on the connections it accepts; a client keeping its connection alive then
    waited about 40 ms for each reply's second segment (Nagle's algorithm against the
    client's delayed ACK): 48 ms for GET /api/v1/health instead of 2. Accepted sockets
    inherit the option from the listening one.
    """
    from streamlit.web.server.starlette import starlette_server

    bind = starlette_server._bind_socket
    if getattr(bind, "no_delay", False):
        return

    def bind_without_delay(address: str, port: int, backlog: int) -> socket.socket:
        sock = bind(address, port, backlog)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    bind_without_delay.no_delay = True  # type: ignore[attr-defined]
    starlette_server._bind_socket = bind_without_delay


# What the HTTP parser answers, before any application sees the request, when it cannot
# read a request: a request line or headers over about 64 KB (a long query string), or
# bytes that are not HTTP.
UNREADABLE = {
    "type": "urn:salesml:problem:bad-request",
    "title": "Bad request",
    "status": 400,
    "detail": "the server cannot read this request: its request line and headers must be "
    "well-formed HTTP of under 64 KB (send a long list of filters in a POST body or fewer "
    "values)",
}


def answer_unreadable_requests_with_problems() -> None:
    """Make uvicorn's own 400, for a request it cannot parse, an RFC 9457 problem like every
    other answer of the API instead of a line of plain text."""
    import h11
    from uvicorn.protocols.http import h11_impl, httptools_impl

    body = json.dumps(UNREADABLE).encode()
    head = [(b"content-type", MEDIA_TYPE.encode()), (b"connection", b"close")]

    def send_with_httptools(self, msg: str) -> None:
        lines = [b"HTTP/1.1 400 Bad Request\r\n"]
        for name, value in [*self.server_state.default_headers, *head]:
            lines.append(name + b": " + value + b"\r\n")
        lines.append(b"content-length: %d\r\n\r\n" % len(body))
        self.transport.write(b"".join(lines) + body)
        self.transport.close()

    def send_with_h11(self, msg: str) -> None:
        length = (b"content-length", str(len(body)).encode())
        events = (
            h11.Response(status_code=400, headers=[*head, length], reason=b"Bad Request"),
            h11.Data(data=body),
            h11.EndOfMessage(),
        )
        self.transport.write(b"".join(self.conn.send(event) for event in events))
        self.transport.close()

    httptools_impl.HttpToolsProtocol.send_400_response = send_with_httptools
    h11_impl.H11Protocol.send_400_response = send_with_h11


LOOPBACK = "127.0.0.1"
ALL_INTERFACES = "0.0.0.0"


def listen_address(requested: str | None, *, sign_in_on: bool) -> tuple[str, str | None]:
    """The address to listen on, and a line telling why when it is not the one asked for.

    With no users (sign-in off) anyone who reaches the server has every right, so it
    listens on this machine only; once sign-in is on, on every interface unless told.
    """
    if sign_in_on:
        return requested or ALL_INTERFACES, None
    if requested is None or auth.is_local_host(requested):
        return requested or LOOPBACK, None
    return LOOPBACK, (
        f"sign-in is off (there are no users), so the server listens on {LOOPBACK} only, "
        f"not {requested}; add a user first: python -m salesml users add NAME --role admin"
    )


# What every page draws with, imported before the server listens so that the first visitor's
# page does not wait for it: pandas and SQLAlchemy's queries, Altair, and Streamlit's emoji
# table (the navigation's page icons). Not salesml.ui, whose caches need Streamlit's runtime,
# nor the forecasting stack, which only the Train and Forecast pages load.
PAGE_LIBRARIES = ("salesml.analytics", "salesml.charts", "salesml.ingest", "streamlit.emojis")


def import_page_libraries() -> None:
    """Import the libraries every page draws with (PAGE_LIBRARIES)."""
    for name in PAGE_LIBRARIES:
        importlib.import_module(name)


def serve(*, host: str | None = None, port: int | None = None) -> None:
    """Serve the app and the API until stopped (Ctrl+C)."""
    reply_without_delay()
    answer_unreadable_requests_with_problems()
    import_page_libraries()
    # A server does not rerun pages when their files change; polling them cost every request.
    overrides: dict[str, object] = {"server.fileWatcherType": "none"}
    if host is not None:
        overrides["server.address"] = host
    if port is not None:
        overrides["server.port"] = port
    app = create_app()
    # Streamlit anchors its script-level configuration (.streamlit/) at the launching
    # script: name app.py, as `streamlit run app.py` would, not salesml/__main__.py.
    sys.argv = [str(APP_SCRIPT)]
    app.run(config=overrides)
