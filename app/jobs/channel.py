"""The local channel between the grading service and the web processes: a Unix socket in
the instance folder (``GRADING_SOCKET``), owned by root and the web user's group, 0660.

* service -> web: every progress event, one JSON object per line, to every connected web
  process (each emits the ones of its watchers' rooms on Socket.IO);
* web -> service: only *wake-ups*. Whatever bytes a web process sends, the service reads
  and discards them and looks at the database's queue sooner; it parses nothing and never
  takes work from the socket. Work is only what the database holds, so the socket gives
  the web no way to run code it could not already queue as a submission.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

SEND_TIMEOUT = 2.0  # a web process that does not read for this long is dropped (it resyncs)


class EventServer:
    """The service's end: accepts web processes, broadcasts events, turns any bytes they
    send into a wake-up."""

    def __init__(self, path: str, gid: int | None, on_wake: Callable[[], None]):
        self.path = path
        self.on_wake = on_wake
        self._listener = _bind(path, gid)
        self._peers: dict[socket.socket, threading.Lock] = {}
        self._peers_lock = threading.Lock()
        self._closed = threading.Event()
        threading.Thread(target=self._accept, name="channel-accept", daemon=True).start()

    def broadcast(self, payload: dict[str, Any]) -> None:
        line = (json.dumps(payload, ensure_ascii=False, default=str) + "\n").encode()
        with self._peers_lock:
            peers = list(self._peers.items())
        for peer, lock in peers:
            try:
                with lock:
                    peer.sendall(line)
            except OSError:
                self._drop(peer)

    def subscribers(self) -> int:
        with self._peers_lock:
            return len(self._peers)

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        with self._peers_lock:
            peers = list(self._peers)
        for peer in peers:
            self._drop(peer)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                peer, _ = self._listener.accept()
            except OSError:
                if self._closed.is_set():
                    return
                continue
            peer.settimeout(SEND_TIMEOUT)
            with self._peers_lock:
                self._peers[peer] = threading.Lock()
            threading.Thread(
                target=self._read_wakeups, args=(peer,), name="channel-peer", daemon=True
            ).start()

    def _read_wakeups(self, peer: socket.socket) -> None:
        while not self._closed.is_set():
            try:
                data = peer.recv(256)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            self.on_wake()  # the bytes themselves mean nothing
        self._drop(peer)

    def _drop(self, peer: socket.socket) -> None:
        with self._peers_lock:
            self._peers.pop(peer, None)
        peer.close()


def _bind(path: str, gid: int | None) -> socket.socket:
    """Bind the socket 0660, root and ``gid``'s. A leftover socket (or a symlink) at the
    path is removed; anything else there is an error, not something to delete."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        pass
    else:
        if not (stat.S_ISSOCK(found.st_mode) or stat.S_ISLNK(found.st_mode)):
            raise RuntimeError(f"{path} exists and is not a socket: remove it")
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # umask is per process: the service binds before it starts any thread.
    previous = os.umask(0o117)
    try:
        listener.bind(path)
    finally:
        os.umask(previous)
    if gid is not None:
        # Never follow a symlink someone put there in the meantime.
        os.chown(path, os.geteuid(), gid, follow_symlinks=False)
    listener.listen(64)
    return listener


class EventClient:
    """A web process's end: keeps a connection to the service, hands each event to
    ``on_event`` and sends wake-ups. Reconnects when the service restarts."""

    def __init__(self, path: str, on_event: Callable[[dict[str, Any]], None]):
        self.path = path
        self.on_event = on_event
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="grading-events", daemon=True
                )
                self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            if self._sock is not None:
                self._sock.close()

    def wake(self) -> bool:
        """Tell the service to look at the queue; False when it is not connected (it
        still finds the work within a second, by polling the database)."""
        with self._lock:
            if self._sock is None:
                return False
            try:
                self._sock.send(b"\n", socket.MSG_DONTWAIT)
                return True
            except OSError:
                return False

    def _run(self) -> None:
        delay, warned = 0.2, False
        while not self._stopping.is_set():
            try:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.connect(self.path)
            except OSError as exc:
                sock.close()
                if not warned:
                    log.warning(
                        "grading service not reachable at %s (%s); retrying", self.path, exc
                    )
                    warned = True
                self._stopping.wait(delay)
                delay = min(delay * 2, 5.0)
                continue
            log.info("connected to the grading service at %s", self.path)
            delay, warned = 0.2, False
            with self._lock:
                self._sock = sock
            self.connected.set()
            try:
                self._read(sock)
            finally:
                self.connected.clear()
                with self._lock:
                    self._sock = None
                sock.close()

    def _read(self, sock: socket.socket) -> None:
        with sock.makefile("rb") as lines:
            for line in lines:
                try:
                    self.on_event(json.loads(line))
                except Exception:
                    log.exception("grading event not relayed")
