"""Reference clients: they act once the submitted server listens (``drive``)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from app.grading.exchange import add_reply, datagram_record
from app.grading.messages import msg
from app.grading.peers.base import HOST, RECV_SIZE, Peer, graceful_close

TEXT_LINE = "{:06d} the quick brown fox jumps over the lazy dog 0123456789\n"


class TcpClient(Peer):
    """Connects to the submitted server and sends ``messages`` (or ``size`` bytes in
    ``chunk``-sized pieces every ``delay_ms``: lines of ASCII text with ``text``, every
    byte value otherwise), reading all the while. With ``interactive`` it waits for the
    echo of each piece (``reply_timeout_ms``) before it sends the next one or closes its
    side, as a person at a terminal would. Then, with ``half_close``, it shuts down its
    sending side and reads until the server closes, for at most ``eof_timeout_ms`` once
    everything came back. With no messages it just waits for the server to close.
    ``read_start_ms``, ``read_delay_ms`` and ``rcvbuf`` make it a slow reader."""

    kind = "tcp_client"
    is_server = False

    def payload(self) -> list[bytes]:
        if "size" in self.params:
            size = int(self.params["size"])
            chunk = int(self.params.get("chunk", 4096))
            if self.params.get("text"):
                lines = (TEXT_LINE.format(i) for i in range(size // len(TEXT_LINE.format(0)) + 1))
                data = "".join(lines).encode()[:size]
            else:
                data = bytes((i * 7 + 13) % 251 for i in range(size))
            return [data[i : i + chunk] for i in range(0, size, chunk)]
        return [str(m).encode() for m in self.params.get("messages", [])]

    def observation(self) -> dict[str, Any]:
        # what it meant to send: a connection that ends early cuts what it did send short
        return {**super().observation(), "planned_total": sum(map(len, self.payload()))}

    def _drive(self, deadline: float) -> None:
        conn = self._connect(deadline)
        if conn is None:
            return
        chunks = self.payload()
        reader = threading.Thread(target=self._guarded, args=(self._read_all, conn), daemon=True)
        reader.start()
        if self._send_all(conn, chunks) and chunks and self.params.get("half_close", True):
            try:
                conn.shutdown(socket.SHUT_WR)
                self.exchange.log(self.started, "half_close")
            except OSError:
                pass
        self._await_close(reader, sum(len(c) for c in chunks), deadline)
        graceful_close(conn, drain=False)

    def _connect(self, deadline: float) -> socket.socket | None:
        conn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sockets.append(conn)  # before connecting: abort() must reach it
        if "rcvbuf" in self.params:  # before connect(): it sets the window scale
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(self.params["rcvbuf"]))
        conn.settimeout(min(2.0, max(deadline - time.monotonic(), 0.05)))
        try:
            conn.connect((HOST, self.port))
        except OSError as exc:
            self.exchange.error = msg("peer.connect_failed", port=self.port, error=str(exc))
            return None
        self.exchange.ports.add(conn.getsockname()[1])
        self.exchange.connections += 1
        self.exchange.log(self.started, "connect")
        conn.settimeout(max(deadline - time.monotonic(), 0.05))
        return conn

    def _send_all(self, conn: socket.socket, chunks: list[bytes]) -> bool:
        """Send every chunk (waiting for each echo when interactive); False if it stopped
        early."""
        delay = int(self.params.get("delay_ms", 0)) / 1000
        reply_timeout = int(self.params.get("reply_timeout_ms", 2000)) / 1000
        sent = 0
        for index, chunk in enumerate(chunks):
            if not self._send(conn, chunk):
                return False
            sent += len(chunk)
            if self.params.get("interactive") and not self._echoed(sent, reply_timeout):
                self.exchange.unanswered = index
                self.exchange.log(self.started, "no_echo")
                return False
            if delay and self._wait(delay):
                return False
        return True

    def _echoed(self, total: int, timeout: float) -> bool:
        """Wait until ``total`` bytes have come back (or the check ends)."""
        give_up = time.monotonic() + timeout
        while self.exchange.received.total < total:
            if time.monotonic() >= give_up or self._wait(0.002):
                return False
        return True

    def _await_close(self, reader: threading.Thread, expected: int, deadline: float) -> None:
        """Read on until the server closes; with ``eof_timeout_ms``, give up that long
        after everything has come back."""
        wait_for_eof = self.params.get("wait_for_eof", True)
        eof_timeout = self.params.get("eof_timeout_ms")
        echoed_at: float | None = None
        while reader.is_alive() and time.monotonic() < deadline and not self._closing.is_set():
            if self.exchange.received.total >= expected:
                if not wait_for_eof:
                    return
                echoed_at = echoed_at or time.monotonic()
                if eof_timeout is not None and time.monotonic() - echoed_at > eof_timeout / 1000:
                    self.exchange.log(self.started, "no_close")
                    return
            reader.join(0.01)

    def _read_all(self, conn: socket.socket) -> None:
        if self._wait(int(self.params.get("read_start_ms", 0)) / 1000):
            return
        pause = int(self.params.get("read_delay_ms", 0)) / 1000
        while self._recv(conn):
            if pause and self._wait(pause):
                return


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
            self.exchange.sending(data, sock.getsockname()[1])
            sock.sendto(data, (HOST, self.port))
            self.exchange.sent += data
            self.exchange.log(self.started, "send", data)
            record = datagram_record(sock.getsockname()[1], data, whole=True)
            sock.settimeout(max(min(timeout, deadline - time.monotonic()), 0.01))
            try:
                reply, address = sock.recvfrom(RECV_SIZE)
                add_reply(record, reply, address[1])
                self.exchange.receive(reply, sock.getsockname()[1])
                self.exchange.log(self.started, "recv", reply)
            except OSError:
                add_reply(record, None)
                self.exchange.log(self.started, "no_reply")
            self.exchange.datagrams.append(record)
