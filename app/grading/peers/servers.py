"""Reference servers: they listen before the program runs (``start``)."""

from __future__ import annotations

import socket
import struct

from app.grading.exchange import add_reply, nonce
from app.grading.messages import msg
from app.grading.peers.base import (
    MAX_UDP_PAYLOAD,
    Peer,
    TcpServer,
    UdpServer,
    graceful_close,
)


class NothingListening(Peer):
    """No peer at all: connections to the port are refused."""

    kind = "nothing_listening"

    def start(self) -> None:
        self.finished.set()


class TcpEchoServer(TcpServer):
    """Echoes every byte. With ``split: {segment, delay_ms}`` it answers in small,
    delayed pieces, as a real network may (advisory checks). With ``nonce`` it answers
    each piece with as many random characters instead: proof that a client prints what
    it received rather than what it sent."""

    kind = "tcp_echo_server"

    def intended_reply(self) -> bytes:
        if self.params.get("nonce"):
            return bytes(self.exchange.sent.data)
        return bytes(self.exchange.received.data)

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
            graceful_close(conn)
        self.finished.set()


class SilentTcpServer(TcpServer):
    """Accepts and reads, never answers, never closes first."""

    kind = "silent_tcp_server"

    def _serve(self, conn: socket.socket) -> None:
        while self._recv(conn):
            pass
        self.finished.set()


class SinkServer(TcpServer):
    """Reads until the program closes its side, then closes gracefully (FIN, no RST)."""

    kind = "sink_server"

    def _serve(self, conn: socket.socket) -> None:
        while self._recv(conn):
            pass
        graceful_close(conn)
        self.finished.set()


class ResetServer(TcpServer):
    """Accepts, then aborts the connection with RST after ``after_ms``."""

    kind = "reset_server"

    def _serve(self, conn: socket.socket) -> None:
        if self._wait(int(self.params.get("after_ms", 100)) / 1000):
            return
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
        self.exchange.log(self.started, "reset_sent")
        self.finished.set()


class PushServer(TcpServer):
    """Sends ``lines`` unprompted (one every ``interval_ms``; with ``nonce`` each ends in a
    random token) while recording what the program sends; keeps the connection open
    ``hold_ms`` more, then closes."""

    kind = "push_server"

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
        graceful_close(conn, drain=False)
        self.exchange.log(self.started, "close")
        self.finished.set()

    def _drain(self, conn: socket.socket) -> None:
        while self._recv(conn):
            pass


class UdpAckServer(UdpServer):
    """Answers each datagram with ``prefix`` + data (or, with ``nonce``, prefix + random
    characters of the same length), to the address it came from."""

    kind = "udp_ack_server"

    def _handle(self, sock: socket.socket, data: bytes, address: tuple, record: dict) -> None:
        prefix = str(self.params.get("prefix", "ACK: ")).encode()
        reply = prefix + (nonce(len(data)) if self.params.get("nonce") else data)
        if len(reply) > MAX_UDP_PAYLOAD:
            self.exchange.note_error(
                msg("peer.reply_too_big", size=len(data), reply=len(reply), most=MAX_UDP_PAYLOAD)
            )
            add_reply(record, None)
            return
        self.exchange.sending(reply, address[1])
        sock.sendto(reply, address)
        self.exchange.sent += reply
        add_reply(record, reply, self.port)


class SilentUdpServer(UdpServer):
    """Binds the port and reads every datagram, never answers: a client waiting for a
    reply must give up by itself."""

    kind = "silent_udp_server"
