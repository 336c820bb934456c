"""Trusted reference peers: the other end of the submitted program's connection.

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
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

from app.grading.exchange import Exchange, add_reply, datagram_record, nonce

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
            "finished": self.finished.is_set(),
            "reply": self.intended_reply(),
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
        self.exchange.note_error(f"the reference {self.kind} failed: {type(exc).__name__}: {exc}")
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
            self.exchange.received += data
            self.exchange.log(self.started, "recv", data)
        else:
            self.exchange.eof = True
            self.exchange.log(self.started, "eof")
        return data

    def _send(self, conn: socket.socket, data: bytes) -> bool:
        try:
            conn.sendall(data)
        except OSError:
            return False
        self.exchange.sent += data
        self.exchange.log(self.started, "send", data)
        return True


class NothingListening(Peer):
    """No peer at all: connections to the port are refused."""

    kind = "nothing_listening"

    def start(self) -> None:
        self.finished.set()


class TcpEchoServer(Peer):
    """Echoes every byte. With ``split: {segment, delay_ms}`` it answers in small,
    delayed pieces, as a real network may (advisory checks). With ``nonce`` it answers
    each piece with as many random characters instead: proof that a client prints what
    it received rather than what it sent."""

    kind = "tcp_echo_server"

    def intended_reply(self) -> bytes:
        if self.params.get("nonce"):
            return bytes(self.exchange.sent.data)
        return bytes(self.exchange.received.data)

    def start(self) -> None:
        self._spawn(self._accept_loop, self._listen(), self._serve)

    def _serve(self, conn: socket.socket) -> None:
        split = self.params.get("split") or {}
        segment = int(split.get("segment", 0))
        delay = int(split.get("delay_ms", 0)) / 1000
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while (data := self._recv(conn)) and not self._closing.is_set():
            if self.params.get("nonce"):  # a reply of the same length nobody can predict
                data = nonce(len(data))
            pieces = (
                [data[i : i + segment] for i in range(0, len(data), segment)] if segment else [data]
            )
            for piece in pieces:
                if not self._send(conn, piece) or (delay and self._wait(delay)):
                    return
        if data == b"":
            _graceful_close(conn)
        self.finished.set()


class SilentTcpServer(Peer):
    """Accepts and reads, never answers, never closes first."""

    kind = "silent_tcp_server"

    def start(self) -> None:
        self._spawn(self._accept_loop, self._listen(), self._serve)

    def _serve(self, conn: socket.socket) -> None:
        while self._recv(conn):
            pass
        self.finished.set()


class SinkServer(Peer):
    """Reads until the program closes its side, then closes gracefully (FIN, no RST)."""

    kind = "sink_server"

    def start(self) -> None:
        self._spawn(self._accept_loop, self._listen(), self._serve)

    def _serve(self, conn: socket.socket) -> None:
        while self._recv(conn):
            pass
        _graceful_close(conn)
        self.finished.set()


class ResetServer(Peer):
    """Accepts, then aborts the connection with RST after ``after_ms``."""

    kind = "reset_server"

    def start(self) -> None:
        self._spawn(self._accept_loop, self._listen(), self._serve)

    def _serve(self, conn: socket.socket) -> None:
        if self._wait(int(self.params.get("after_ms", 100)) / 1000):
            return
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
        self.exchange.log(self.started, "reset_sent")
        self.finished.set()


class PushServer(Peer):
    """Sends ``lines`` unprompted (one every ``interval_ms``; with ``nonce`` each ends in a
    random token) while recording what the program sends; keeps the connection open
    ``hold_ms`` more, then closes."""

    kind = "push_server"

    def start(self) -> None:
        self._spawn(self._accept_loop, self._listen(), self._serve)

    def _serve(self, conn: socket.socket) -> None:
        self._spawn(self._drain, conn)
        if self._wait(int(self.params.get("first_delay_ms", 100)) / 1000):
            return
        interval = int(self.params.get("interval_ms", 100)) / 1000
        for line in self.params.get("lines", []):
            if self.params.get("nonce"):
                line = f"{line} {nonce(6).decode()}"
            if not self._send(conn, (line + "\n").encode()) or self._wait(interval):
                return
        if self._wait(int(self.params.get("hold_ms", 1000)) / 1000):
            return
        _graceful_close(conn, drain=False)
        self.exchange.log(self.started, "close")
        self.finished.set()

    def _drain(self, conn: socket.socket) -> None:
        while self._recv(conn):
            pass


class UdpAckServer(Peer):
    """Answers each datagram with ``prefix`` + data (or, with ``nonce``, prefix + random
    characters of the same length), to the address it came from."""

    kind = "udp_ack_server"

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((HOST, self.port))
        self._sockets.append(sock)
        self._spawn(self._serve, sock)

    def _serve(self, sock: socket.socket) -> None:
        prefix = str(self.params.get("prefix", "ACK: ")).encode()
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
            ex.received += data
            ex.log(self.started, "recv", data)
            record = datagram_record(address[1], data)
            ex.datagrams.append(record)
            reply = prefix + (nonce(len(data)) if self.params.get("nonce") else data)
            if len(reply) > MAX_UDP_PAYLOAD:
                ex.note_error(
                    f"a {len(data)}-byte datagram cannot be answered: the reply would be "
                    f"{len(reply)} bytes, more than one datagram holds ({MAX_UDP_PAYLOAD})"
                )
                add_reply(record, None)
                continue
            sock.sendto(reply, address)
            ex.sent += reply
            add_reply(record, reply, self.port)
            self.finished.set()
        if not ex.within_budget():
            ex.log(self.started, "budget_spent")


class TcpClient(Peer):
    """Connects to the submitted server and sends ``messages`` (or ``size`` bytes in
    ``chunk``-sized pieces every ``delay_ms``), reading all the while. Then, with
    ``half_close``, shuts down its sending side and reads until the server closes.
    With no messages it just waits for the server to close (graceful close checks).
    ``read_delay_ms`` makes it a slow reader."""

    kind = "tcp_client"
    is_server = False

    def payload(self) -> list[bytes]:
        if "size" in self.params:
            size = int(self.params["size"])
            chunk = int(self.params.get("chunk", 4096))
            data = bytes((i * 7 + 13) % 251 for i in range(size))
            return [data[i : i + chunk] for i in range(0, size, chunk)]
        return [str(m).encode() for m in self.params.get("messages", [])]

    def _drive(self, deadline: float) -> None:
        timeout = min(2.0, max(deadline - time.monotonic(), 0.05))
        conn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sockets.append(conn)  # before connecting: abort() must reach it
        conn.settimeout(timeout)
        try:
            conn.connect((HOST, self.port))
        except OSError as exc:
            self.exchange.error = f"could not connect to 127.0.0.1:{self.port}: {exc}"
            return
        self.exchange.ports.add(conn.getsockname()[1])
        self.exchange.connections += 1
        self.exchange.log(self.started, "connect")
        conn.settimeout(max(deadline - time.monotonic(), 0.05))
        chunks = self.payload()
        reader = threading.Thread(target=self._guarded, args=(self._read_all, conn), daemon=True)
        reader.start()
        delay = int(self.params.get("delay_ms", 0)) / 1000
        for chunk in chunks:
            if not self._send(conn, chunk) or (delay and self._wait(delay)):
                break
        if chunks and self.params.get("half_close", True):
            try:
                conn.shutdown(socket.SHUT_WR)
                self.exchange.log(self.started, "half_close")
            except OSError:
                pass
        expected = sum(len(c) for c in chunks)
        wait_for_eof = self.params.get("wait_for_eof", True)
        while reader.is_alive() and time.monotonic() < deadline and not self._closing.is_set():
            if not wait_for_eof and self.exchange.received.total >= expected:
                break
            reader.join(0.01)
        _graceful_close(conn, drain=False)

    def _read_all(self, conn: socket.socket) -> None:
        pause = int(self.params.get("read_delay_ms", 0)) / 1000
        try:
            while self._recv(conn):
                if pause and self._wait(pause):
                    return
        except TimeoutError:
            self.exchange.error = "timed out waiting for the server"


class UdpClient(Peer):
    """Sends ``datagrams`` from ``senders`` different ports (round robin) and waits up to
    ``reply_timeout_ms`` for each reply."""

    kind = "udp_client"
    is_server = False

    def _drive(self, deadline: float) -> None:
        count = int(self.params.get("senders", 1))
        timeout = int(self.params.get("reply_timeout_ms", 1000)) / 1000
        senders = []
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((HOST, 0))
            self._sockets.append(sock)
            senders.append(sock)
            self.exchange.ports.add(sock.getsockname()[1])
        for index, text in enumerate(self.params.get("datagrams", [])):
            if self._closing.is_set():
                return
            sock = senders[index % count]
            data = str(text).encode()
            sock.sendto(data, (HOST, self.port))
            self.exchange.sent += data
            self.exchange.log(self.started, "send", data)
            record = datagram_record(sock.getsockname()[1], data, whole=True)
            sock.settimeout(max(min(timeout, deadline - time.monotonic()), 0.01))
            try:
                reply, address = sock.recvfrom(RECV_SIZE)
                add_reply(record, reply, address[1])
                self.exchange.received += reply
                self.exchange.log(self.started, "recv", reply)
            except OSError:
                add_reply(record, None)
                self.exchange.log(self.started, "no_reply")
            self.exchange.datagrams.append(record)


def _graceful_close(conn: socket.socket, drain: bool = True) -> None:
    try:
        conn.shutdown(socket.SHUT_WR)
        if drain:
            conn.settimeout(0.5)
            while conn.recv(RECV_SIZE):
                pass
    except OSError:
        pass
    conn.close()


CATALOG: dict[str, type[Peer]] = {
    cls.kind: cls
    for cls in (
        NothingListening,
        TcpEchoServer,
        SilentTcpServer,
        SinkServer,
        ResetServer,
        PushServer,
        UdpAckServer,
        TcpClient,
        UdpClient,
    )
}


def make_peer(config: dict[str, Any], port: int) -> Peer:
    params = {k: v for k, v in config.items() if k != "kind"}
    return CATALOG[config["kind"]](port, **params)
