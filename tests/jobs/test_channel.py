"""The local channel of the grading service (app/jobs/channel.py): events reach every web
process; what a web process sends is only ever a wake-up; the socket is root's and the
web group's, 0660."""

from __future__ import annotations

import os
import socket
import threading

import pytest

from app.jobs.channel import EventClient, EventServer
from tests.jobs.conftest import wait_for


@pytest.fixture
def channel(tmp_path):
    wakes: list[int] = []
    path = str(tmp_path / "grading.sock")
    server = EventServer(path, os.getegid(), lambda: wakes.append(1))
    yield server, path, wakes
    server.close()


def test_events_reach_every_connected_web_process(channel):
    server, path, _ = channel
    inboxes: list[list[dict]] = [[], []]
    clients = [EventClient(path, inbox.append) for inbox in inboxes]
    for client in clients:
        client.start()
    try:
        wait_for(lambda: server.subscribers() == 2, 10, "both web processes to connect")
        server.broadcast({"id": 7, "event": "finished", "verdict": "passed", "text": "中文"})
        wait_for(lambda: all(inboxes), 10, "the event")
        assert (
            inboxes[0]
            == inboxes[1]
            == [{"id": 7, "event": "finished", "verdict": "passed", "text": "中文"}]
        )
    finally:
        for client in clients:
            client.stop()


def test_whatever_a_web_process_sends_is_only_a_wake_up(channel):
    server, path, wakes = channel
    received: list[dict] = []
    client = EventClient(path, received.append)
    client.start()
    try:
        wait_for(lambda: client.connected.is_set(), 10, "the connection")
        assert client.wake()
        wait_for(lambda: wakes, 10, "the wake-up")
        with socket.socket(socket.AF_UNIX) as raw:  # a web process turned hostile
            raw.connect(path)
            raw.sendall(b'{"run": "import os; os.system(\\"id\\")", "files": {}}\n' * 100)
            wait_for(lambda: len(wakes) > 1, 10, "the bytes to be read")
        assert received == []  # nothing was answered, nothing was run: wake-ups only
    finally:
        client.stop()


def test_the_socket_is_roots_and_the_groups_only(channel):
    _, path, _ = channel
    found = os.stat(path)
    assert found.st_mode & 0o777 == 0o660
    assert (found.st_uid, found.st_gid) == (os.geteuid(), os.getegid())


def test_a_stale_socket_is_replaced_but_nothing_else_is_deleted(tmp_path):
    path = tmp_path / "grading.sock"
    EventServer(str(path), None, lambda: None).close()  # a crashed service left it
    EventServer(str(path), None, lambda: None).close()
    path.unlink()
    path.write_text("somebody's file")
    with pytest.raises(RuntimeError, match="not a socket"):
        EventServer(str(path), None, lambda: None)
    assert path.read_text() == "somebody's file"


def test_a_client_reconnects_when_the_service_restarts(tmp_path):
    path = str(tmp_path / "grading.sock")
    received: list[dict] = []
    client = EventClient(path, received.append)
    client.start()  # before any service listens: it keeps trying
    try:
        first = EventServer(path, None, lambda: None)
        wait_for(lambda: first.subscribers() == 1, 10, "the first connection")
        first.close()
        wait_for(lambda: not client.connected.is_set(), 10, "the client to notice")
        second = EventServer(path, None, lambda: None)
        wait_for(lambda: second.subscribers() == 1, 15, "the client to reconnect")
        second.broadcast({"id": 1, "event": "started"})
        wait_for(lambda: received, 10, "the event from the new service")
        second.close()
    finally:
        client.stop()
    assert threading.active_count() < 50
