"""One light or dark theme for the whole app, remembered by the browser.

Streamlit remembers the theme a user picks in its menu under a key per page address
("stActiveTheme-/train-v2"), so a choice made on one page would not hold on another. The
server adds a few lines of script to the head of the app's page, run before Streamlit's
own, that store every page's choice under one key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SHARED_KEY = "stActiveTheme-salesml"
SCRIPT = (
    "<script>(() => {"
    # A page's key names its address; the version suffix stays, so a new format starts afresh.
    r"const perPage = /^stActiveTheme-.*(-v\d+)$/;"
    f'const shared = (key) => String(key).replace(perPage, "{SHARED_KEY}$1");'
    "const store = Storage.prototype;"
    'for (const name of ["getItem", "setItem", "removeItem"]) {'
    "const own = store[name];"
    "store[name] = function (key, ...rest) { return own.call(this, shared(key), ...rest); };"
    "}})();</script>"
)
_HEAD = b"<head>"
# The page is edited as sent, so it must come uncompressed, and a browser's cached copy
# (from before this script, or another version of it) must not be revalidated by its tag.
_DROPPED_REQUEST_HEADERS = {b"accept-encoding", b"if-none-match", b"if-modified-since"}
_DROPPED_RESPONSE_HEADERS = {b"content-length", b"etag", b"last-modified"}


def with_shared_theme(page: bytes) -> bytes:
    """The app's HTML page with the script that keeps one theme for every address."""
    return page.replace(_HEAD, _HEAD + SCRIPT.encode(), 1)


class OneThemeForEveryPage:
    """ASGI middleware: every HTML page the server sends carries SCRIPT in its head."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _asks_for_a_page(scope):
            await self.app(scope, receive, send)
            return
        scope = dict(scope)
        scope["headers"] = [
            (name, value)
            for name, value in scope["headers"]
            if name.lower() not in _DROPPED_REQUEST_HEADERS
        ]
        start: Message | None = None
        body: list[bytes] = []

        async def edit(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if _is_html(message):
                    start = message
                    return
            elif start is not None and message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                page = with_shared_theme(b"".join(body))
                headers = [
                    (name, value)
                    for name, value in start["headers"]
                    if name.lower() not in _DROPPED_RESPONSE_HEADERS
                ]
                headers.append((b"content-length", str(len(page)).encode()))
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": page})
                return
            await send(message)

        await self.app(scope, receive, edit)


def _asks_for_a_page(scope: Scope) -> bool:
    # A browser asks for text/html only when it opens an address; scripts, images, the
    # health check and the API ask for something else.
    if scope["type"] != "http" or scope["method"] != "GET":
        return False
    accept = dict(scope["headers"]).get(b"accept", b"")
    return b"text/html" in accept


def _is_html(start: Message) -> bool:
    headers = dict(start["headers"])
    return start["status"] == 200 and headers.get(b"content-type", b"").startswith(b"text/html")
