"""Trusted reference peers: the other end of the submitted program's connection.

Peers are threads of the grader, created inside the check's network namespace: outside
the sandbox's pid namespace, so a submission can neither see nor kill them, nor forge
what they observed. Each peer records what it received and sent, in order, with times.

Servers start listening before the program runs (``start``); clients act once the
submitted server listens (``drive``). Every peer is chosen and parameterised by the spec.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import socket
import string
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any

HOST = "127.0.0.1"
RECV_SIZE = 65536


# What a peer keeps, whatever the program sends: the grader's memory stays bounded.
STORED_BYTES = 8 * 1024 * 1024
MAX_EVENTS = 200
MAX_DATAGRAMS = 1000
MAX_CONNECTIONS = 16


class Stream:
    """Bytes in one direction: the first STORED_BYTES, plus the total and a digest of all."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.total = 0
        self._digest = hashlib.sha256()

    def __iadd__(self, chunk: bytes) -> Stream:
        self.total += len(chunk)
        self._digest.update(chunk)
        room = STORED_BYTES - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        return self

    def digest(self) -> str:
        return self._digest.hexdigest()


@dataclass
class Exchange:
    """What one peer saw: bytes in both directions, events in order, how it ended."""

    received: Stream = field(default_factory=Stream)
    sent: Stream = field(default_factory=Stream)
    events: list[dict[str, Any]] = field(default_factory=list)
    events_dropped: int = 0
    connections: int = 0
    eof: bool = False  # the program closed its side (FIN reached us)
    reset: bool = False  # the program reset the connection
    error: str | None = None
    datagrams: list[dict[str, Any]] = field(default_factory=list)

    def log(self, started: float, kind: str, data: bytes = b"") -> None:
        if len(self.events) >= MAX_EVENTS:
            self.events_dropped += 1
            return
        entry: dict[str, Any] = {
            "t_ms": round((time.monotonic() - started) * 1000, 1),
            "event": kind,
        }
        if data:
            entry["bytes"] = len(data)
            entry["text"] = data[:120].decode("utf-8", "replace")
        self.events.append(entry)


def nonce(length: int) -> bytes:
    """Random letters and digits: a reply the program cannot know in advance."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(max(length, 1))).encode()


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
        """Act against the submitted server (clients). Call inside the namespace."""
        self.finished.set()

    def stop(self) -> None:
        self._closing.set()
        for sock in self._sockets:
            # shutdown() wakes a thread blocked in accept()/recv(); close() does not.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
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
    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _listen(self) -> socket.socket:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((HOST, self.port))
        server.listen(8)
        self._sockets.append(server)
        return server

    def _accept_loop(self, server: socket.socket, handler) -> None:
        while not self._closing.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            self.exchange.connections += 1
            if self.exchange.connections > MAX_CONNECTIONS:
                conn.close()  # a connection flood gets no grader threads
                continue
            self._sockets.append(conn)
            self.exchange.log(self.started, "accept")
            self._spawn(handler, conn)

    def _recv(self, conn: socket.socket) -> bytes | None:
        """One read; b"" at EOF, None when the connection was reset or closed by us."""
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
                if not self._send(conn, piece):
                    return
                if delay:
                    time.sleep(delay)
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
        time.sleep(int(self.params.get("after_ms", 100)) / 1000)
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
        first_delay = int(self.params.get("first_delay_ms", 100)) / 1000
        interval = int(self.params.get("interval_ms", 100)) / 1000
        time.sleep(first_delay)
        for line in self.params.get("lines", []):
            if self.params.get("nonce"):
                line = f"{line} {nonce(6).decode()}"
            if self._closing.is_set() or not self._send(conn, (line + "\n").encode()):
                break
            time.sleep(interval)
        self._closing.wait(int(self.params.get("hold_ms", 1000)) / 1000)
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
        while not self._closing.is_set():
            try:
                data, address = sock.recvfrom(RECV_SIZE)
            except OSError:
                return
            if address is None:  # woken by stop()
                return
            self.exchange.received += data
            self.exchange.log(self.started, "recv", data)
            reply = prefix + (nonce(len(data)) if self.params.get("nonce") else data)
            sock.sendto(reply, address)
            self.exchange.sent += reply
            if len(self.exchange.datagrams) < MAX_DATAGRAMS:
                self.exchange.datagrams.append({"from": address[1], "data": data, "reply": reply})
            self.finished.set()


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

    def drive(self, deadline: float) -> None:
        try:
            conn = socket.create_connection((HOST, self.port), timeout=2)
        except OSError as exc:
            self.exchange.error = f"could not connect to 127.0.0.1:{self.port}: {exc}"
            self.finished.set()
            return
        self._sockets.append(conn)
        self.exchange.connections += 1
        self.exchange.log(self.started, "connect")
        conn.settimeout(max(deadline - time.monotonic(), 0.05))
        chunks = self.payload()
        reader = threading.Thread(target=self._read_all, args=(conn,), daemon=True)
        reader.start()
        delay = int(self.params.get("delay_ms", 0)) / 1000
        for chunk in chunks:
            if not self._send(conn, chunk):
                break
            if delay:
                time.sleep(delay)
        if chunks and self.params.get("half_close", True):
            try:
                conn.shutdown(socket.SHUT_WR)
                self.exchange.log(self.started, "half_close")
            except OSError:
                pass
        expected = sum(len(c) for c in chunks)
        wait_for_eof = self.params.get("wait_for_eof", True)
        while reader.is_alive() and time.monotonic() < deadline:
            if not wait_for_eof and self.exchange.received.total >= expected:
                break
            reader.join(0.01)
        _graceful_close(conn, drain=False)
        self.finished.set()

    def _read_all(self, conn: socket.socket) -> None:
        pause = int(self.params.get("read_delay_ms", 0)) / 1000
        try:
            while self._recv(conn):
                if pause:
                    time.sleep(pause)
        except TimeoutError:
            self.exchange.error = "timed out waiting for the server"


class UdpClient(Peer):
    """Sends ``datagrams`` from ``senders`` different ports (round robin) and waits up to
    ``reply_timeout_ms`` for each reply."""

    kind = "udp_client"
    is_server = False

    def drive(self, deadline: float) -> None:
        count = int(self.params.get("senders", 1))
        timeout = int(self.params.get("reply_timeout_ms", 1000)) / 1000
        senders = []
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((HOST, 0))
            self._sockets.append(sock)
            senders.append(sock)
        for index, text in enumerate(self.params.get("datagrams", [])):
            sock = senders[index % count]
            data = str(text).encode()
            sock.sendto(data, (HOST, self.port))
            self.exchange.sent += data
            self.exchange.log(self.started, "send", data)
            record: dict[str, Any] = {"from": sock.getsockname()[1], "data": data, "reply": None}
            sock.settimeout(max(min(timeout, deadline - time.monotonic()), 0.01))
            try:
                reply, address = sock.recvfrom(RECV_SIZE)
                record["reply"], record["reply_from"] = reply, address[1]
                self.exchange.received += reply
                self.exchange.log(self.started, "recv", reply)
            except (TimeoutError, OSError):
                self.exchange.log(self.started, "no_reply")
            self.exchange.datagrams.append(record)
        self.finished.set()


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
