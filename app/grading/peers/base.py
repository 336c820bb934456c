"""What every reference peer shares: its record, its threads, ``abort``, reading and
sending within its budget. The peers themselves are in servers.py and clients.py.

Trusted reference peers are the other end of the submitted program's connection.

Peers are threads of the grader, created inside the check's network namespace: outside
the sandbox's pid namespace, so a submission can neither see nor kill them, nor forge
what they observed. Each peer records what it received and sent, in order, with times,
and the far-end port of every connection it made or accepted: packet facts are judged on
those connections only.

Servers start listening before the program runs (``start``); clients act once the
submitted server listens (``drive``). Every blocking call of a peer ends when the check's
watchdog calls ``abort``; every peer thread reports what went wrong on the check instead
of dying silently. Every peer is chosen and parameterised by the spec.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from app.grading.exchange import Exchange, datagram_record
from app.grading.messages import msg

HOST = "127.0.0.1"
RECV_SIZE = 65536
MAX_CONNECTIONS = 16
MAX_UDP_PAYLOAD = 65507  # what one IPv4 datagram can carry


class Peer:
    kind = "none"
    is_server = True

    def __init__(self, port: int, **params: Any):
        self.port = port
        self.params = params
        self.exchange = Exchange()
        self.started = time.monotonic()
        self.finished = threading.Event()
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Bind and serve (servers). Call inside the check's namespace."""

    def drive(self, deadline: float) -> None:
        """Act against the submitted server (clients), in the caller's thread, until done,
        aborted or ``deadline``. Call inside the namespace."""
        try:
            self._drive(deadline)
        except Exception as exc:  # noqa: BLE001 - reported on the check, never lost
            self._report(exc)
        finally:
            self.finished.set()

    def _drive(self, deadline: float) -> None:
        pass

    def abort(self) -> None:
        """Wake every blocking call of this peer now (the check is over). Safe from any
        thread, any number of times."""
        self._closing.set()
        for sock in list(self._sockets):
            # shutdown() wakes a thread blocked in accept()/recv()/send(); close() does not.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self.abort()
        for sock in list(self._sockets):
            sock.close()
        for thread in self._threads:
            thread.join(1)

    def observation(self) -> dict[str, Any]:
        ex = self.exchange
        return {
            "kind": self.kind,
            "received": bytes(ex.received.data),
            "sent": bytes(ex.sent.data),
            "received_total": ex.received.total,
            "sent_total": ex.sent.total,
            "received_digest": ex.received.digest(),
            "sent_digest": ex.sent.digest(),
            "events": ex.events,
            "events_dropped": ex.events_dropped,
            "connections": ex.connections,
            "ports": sorted(ex.ports),
            "eof": ex.eof,
            "reset": ex.reset,
            "error": ex.error,
            "datagrams": ex.datagrams,
            "unanswered": ex.unanswered,
            "finished": self.finished.is_set(),
            "reply": self.intended_reply(),
            "transcript": ex.transcript.to_json(),
        }

    def intended_reply(self) -> bytes:
        """The whole answer this peer means to give (what a client should print)."""
        return bytes(self.exchange.sent.data)

    # -- helpers -----------------------------------------------------------------------
    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=self._guarded, args=(target, *args), daemon=True)
        thread.start()
        self._threads.append(thread)

    def _guarded(self, target: Callable[..., None], *args: Any) -> None:
        try:
            target(*args)
        except Exception as exc:  # noqa: BLE001 - reported on the check, never lost
            self._report(exc)

    def _report(self, exc: Exception) -> None:
        if self._closing.is_set() and isinstance(exc, OSError):
            return  # woken by abort(): the check is over, not a problem
        error = f"{type(exc).__name__}: {exc}"
        self.exchange.note_error(msg("peer.failed", peer=self.kind, error=error))
        self.exchange.log(self.started, "peer_error")

    def _wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless the check ends first; True if it did."""
        return self._closing.wait(seconds)

    def _listen(self) -> socket.socket:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((HOST, self.port))
        server.listen(8)
        self._sockets.append(server)
        return server

    def _accept_loop(self, server: socket.socket, handler: Callable[..., None]) -> None:
        while not self._closing.is_set():
            try:
                conn, address = server.accept()
            except OSError:
                return
            self.exchange.connections += 1
            if self.exchange.connections > MAX_CONNECTIONS:
                conn.close()  # a connection flood gets no grader threads
                continue
            self.exchange.ports.add(address[1])
            self._sockets.append(conn)
            self.exchange.log(self.started, "accept")
            self._spawn(handler, conn)

    def _recv(self, conn: socket.socket) -> bytes | None:
        """One read; b"" at EOF, None when the connection was reset, closed by us, or the
        peer's budget is spent."""
        if not self.exchange.within_budget():
            self.exchange.log(self.started, "budget_spent")
            return None
        try:
            data = conn.recv(RECV_SIZE)
        except ConnectionResetError:
            self.exchange.reset = True
            self.exchange.log(self.started, "reset")
            return None
        except OSError:
            return None
        if data:
            self.exchange.receive(data, self._flow_port(conn))
            self.exchange.log(self.started, "recv", data)
        else:
            self.exchange.eof = True
            self.exchange.log(self.started, "eof")
        return data

    def _flow_port(self, conn: socket.socket) -> int | None:
        """The port of the connection's far end from the check's port: it tells the
        connections apart in the transcript."""
        try:
            local, remote = conn.getsockname()[1], conn.getpeername()[1]
        except OSError:
            return None
        return remote if local == self.port else local

    def _send(self, conn: socket.socket, data: bytes) -> bool:
        self.exchange.sending(data, self._flow_port(conn))
        try:
            conn.sendall(data)
        except OSError:
            return False
        self.exchange.sent += data
        self.exchange.log(self.started, "send", data)
        return True


def graceful_close(conn: socket.socket, drain: bool = True) -> None:
    try:
        conn.shutdown(socket.SHUT_WR)
        if drain:
            conn.settimeout(0.5)
            while conn.recv(RECV_SIZE):
                pass
    except OSError:
        pass
    conn.close()


class TcpServer(Peer):
    """A reference TCP server: listens on the check's port and serves each connection
    (``_serve``) in a thread of its own."""

    def start(self) -> None:
        self._spawn(self._accept_loop, self._listen(), self._serve)

    def _serve(self, conn: socket.socket) -> None:
        raise NotImplementedError


class UdpServer(Peer):
    """A reference UDP server: binds the check's port and handles each datagram
    (``_handle``), within the peer's budget."""

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((HOST, self.port))
        self._sockets.append(sock)
        self._spawn(self._serve, sock)

    def _serve(self, sock: socket.socket) -> None:
        ex = self.exchange
        while not self._closing.is_set() and ex.within_budget():
            try:
                data, address = sock.recvfrom(RECV_SIZE)
            except OSError:
                return
            if address is None:  # woken by abort()
                return
            ex.datagrams_handled += 1
            ex.ports.add(address[1])
            ex.receive(data, address[1])
            ex.log(self.started, "recv", data)
            record = datagram_record(address[1], data)
            ex.datagrams.append(record)
            self._handle(sock, data, address, record)
            self.finished.set()
        if not ex.within_budget():
            ex.log(self.started, "budget_spent")

    def _handle(self, sock: socket.socket, data: bytes, address: tuple, record: dict) -> None:
        """Answer one datagram (or not)."""
