"""The door of the live result pages' WebSockets, in front of Socket.IO.

The page connects over WebSocket only (no long-polling), so each open socket is one WSGI
call that lasts as long as the connection. This middleware answers the upgrade request
before Engine.IO sees it: ``401`` without a signed-in user, ``429`` when the user already
holds ``SOCKETS_PER_USER`` sockets in this process. Counting around the call is exact:
the count drops when the connection ends, however it ends.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from flask_login import current_user

WsgiApp = Callable[..., Iterable[bytes]]


class SocketGate:
    def __init__(self, wsgi_app: WsgiApp, app: Flask, path: str = "/socket.io"):
        self.wsgi_app = wsgi_app
        self.app = app
        self.path = path.rstrip("/") + "/"
        self.limit = int(app.config["SOCKETS_PER_USER"])
        self.open: Counter[int] = Counter()
        self._lock = threading.Lock()

    def total(self) -> int:
        with self._lock:
            return sum(self.open.values())

    def __call__(self, environ: dict[str, Any], start_response) -> Iterable[bytes]:
        if not environ.get("PATH_INFO", "").startswith(self.path):
            return self.wsgi_app(environ, start_response)
        user_id = self._user_of(environ)
        if user_id is None:
            return _refuse(start_response, "401 Unauthorized", b"Sign in to follow a grading.")
        with self._lock:
            if self.open[user_id] >= self.limit:
                refused = True
            else:
                refused = False
                self.open[user_id] += 1
        if refused:
            return _refuse(start_response, "429 Too Many Requests", b"Too many open pages.")
        try:
            # The whole WebSocket conversation happens inside this call.
            return self.wsgi_app(environ, start_response)
        finally:
            with self._lock:
                self.open[user_id] -= 1
                if self.open[user_id] <= 0:
                    del self.open[user_id]

    def _user_of(self, environ: dict[str, Any]) -> int | None:
        """The signed-in user's id, read from the session (or remember) cookie as any
        page request would; the request context's teardown returns the DB session."""
        with self.app.request_context(dict(environ)):
            if current_user.is_authenticated:
                return int(current_user.get_id())
        return None


def _refuse(start_response, status: str, body: bytes) -> Iterable[bytes]:
    start_response(
        status,
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]


def init_app(app: Flask) -> None:
    gate = SocketGate(app.wsgi_app, app)
    app.wsgi_app = gate  # type: ignore[method-assign]
    app.extensions["socket_gate"] = gate
