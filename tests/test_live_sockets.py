"""Live result pages' WebSockets on the real `make run` stack (gevent web workers): many
open sockets do not take the web offline, anonymous ones are refused at the handshake,
one user holds at most SOCKETS_PER_USER."""

from __future__ import annotations

import time

import pytest
import requests
import websocket

from tests.helpers import LiveServer, require, web_user_ids
from tests.test_serve import sign_up

CAP = 70  # above the 64 threads that used to be the whole web's limit


@pytest.fixture
def live(migrated_database, tmp_path):
    require(web_user_ids() is not None, "needs root and the web's user (run `make setup` as root)")
    server = LiveServer(tmp_path, migrated_database, SECRET_KEY="sockets", SOCKETS_PER_USER=CAP)
    server.start()
    yield server
    server.stop()


def open_socket(live: LiveServer, session: requests.Session | None) -> websocket.WebSocket:
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies) if session else None
    url = live.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    ws = websocket.create_connection(url, cookie=cookie, timeout=10)
    assert ws.recv().startswith("0{")  # Engine.IO's open packet
    return ws


def handshake_status(live: LiveServer, session: requests.Session | None) -> int:
    try:
        open_socket(live, session).close()
    except websocket.WebSocketBadStatusException as refused:
        return refused.status_code
    return 101


def test_pages_answer_while_one_user_holds_many_sockets(live):
    session = sign_up(live, "watcher@example.com")
    assert handshake_status(live, None) == 401
    sockets = [open_socket(live, session) for _ in range(CAP)]
    try:
        assert handshake_status(live, session) == 429
        started = time.monotonic()
        page = requests.get(live.url + "/", timeout=5)
        assert page.status_code == 200 and time.monotonic() - started < 1.0
        assert handshake_status(live, None) == 401  # still refused, still answered
    finally:
        for ws in sockets:
            ws.close()
    # The count drops as connections end: the user may open a page again.
    deadline = time.monotonic() + 10
    while handshake_status(live, session) != 101:
        assert time.monotonic() < deadline, "closed sockets still counted"
        time.sleep(0.2)
