"""The server that serves the app and the API on one port."""

from __future__ import annotations

import socket

from salesml import server


def accepted_connection_no_delay(bind) -> int:
    listener = bind("127.0.0.1", 0, 8)
    listener.setblocking(True)
    with listener, socket.create_connection(listener.getsockname()) as client:
        accepted, _ = listener.accept()
        with accepted:
            client.sendall(b"x")
            return accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_connections_the_server_accepts_send_small_replies_at_once(monkeypatch):
    from streamlit.web.server.starlette import starlette_server

    monkeypatch.setattr(starlette_server, "_bind_socket", starlette_server._bind_socket)
    # Without it a keep-alive client waits ~40 ms for each reply (Nagle vs delayed ACK).
    server.reply_without_delay()
    assert accepted_connection_no_delay(starlette_server._bind_socket) != 0


def test_the_server_serves_the_projects_app_script():
    assert server.APP_SCRIPT.name == "app.py" and server.APP_SCRIPT.is_file()
