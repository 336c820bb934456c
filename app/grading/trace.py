"""Packet capture on the check's private loopback, and the facts read from it.

An AF_PACKET socket bound to ``lo`` sees every frame twice (out and in); only the
outgoing copy is kept. The kernel buffers frames with their timestamps until the check
ends, so capture costs no thread.
"""

from __future__ import annotations

import ctypes
import os
import select
import socket
import struct
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SO_TIMESTAMPNS = 35
SO_RCVBUFFORCE = 33
SNAPLEN = 128  # headers are all we need

FLAG_NAMES = (("FIN", 0x01), ("SYN", 0x02), ("RST", 0x04), ("PSH", 0x08), ("ACK", 0x10))


@dataclass
class Packet:
    t_ms: float
    proto: str  # "tcp" | "udp"
    src_port: int
    dst_port: int
    flags: list[str]
    length: int  # payload bytes
    seq: int = 0
    ack: int = 0

    def has(self, flag: str) -> bool:
        return flag in self.flags


SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_ATTACH_FILTER = 26
SKF_AD_PKTTYPE = (-0x1000 + 4) & 0xFFFFFFFF
MAX_DATA_PACKETS = 2000  # SYN, FIN and RST packets are always kept


def port_filter(port: int) -> bytes:
    """Classic BPF: outgoing IPv4 TCP/UDP frames to or from ``port``, cut to SNAPLEN.
    Everything else never reaches the capture's buffer."""
    program = [
        (0x30, 0, 0, SKF_AD_PKTTYPE),  # 0 ldb pkttype
        (0x15, 0, 11, PACKET_OUTGOING),  # 1 outgoing? else drop
        (0x28, 0, 0, 12),  # 2 ldh ethertype
        (0x15, 0, 9, 0x0800),  # 3 IPv4? else drop
        (0x30, 0, 0, 23),  # 4 ldb protocol
        (0x15, 1, 0, 6),  # 5 TCP -> 7
        (0x15, 0, 6, 17),  # 6 UDP? else drop
        (0xB1, 0, 0, 14),  # 7 x = IP header length
        (0x48, 0, 0, 14),  # 8 ldh source port
        (0x15, 2, 0, port),  # 9 -> accept
        (0x48, 0, 0, 16),  # 10 ldh destination port
        (0x15, 0, 1, port),  # 11 else drop
        (0x06, 0, 0, SNAPLEN),  # 12 accept
        (0x06, 0, 0, 0),  # 13 drop
    ]
    return b"".join(struct.pack("HBBI", *instruction) for instruction in program)


def control_filter(port: int) -> bytes:
    """Classic BPF: like :func:`port_filter`, but TCP frames with SYN, FIN or RST only.
    Once a check has captured MAX_DATA_PACKETS, a flood of data costs the grader
    nothing: its frames never reach the capture."""
    program = [
        (0x30, 0, 0, SKF_AD_PKTTYPE),  # 0 ldb pkttype
        (0x15, 0, 11, PACKET_OUTGOING),  # 1 outgoing? else drop
        (0x28, 0, 0, 12),  # 2 ldh ethertype
        (0x15, 0, 9, 0x0800),  # 3 IPv4? else drop
        (0x30, 0, 0, 23),  # 4 ldb protocol
        (0x15, 0, 7, 6),  # 5 TCP? else drop
        (0xB1, 0, 0, 14),  # 6 x = IP header length
        (0x48, 0, 0, 14),  # 7 ldh source port
        (0x15, 2, 0, port),  # 8 -> flags
        (0x48, 0, 0, 16),  # 9 ldh destination port
        (0x15, 0, 2, port),  # 10 else drop
        (0x50, 0, 0, 27),  # 11 ldb TCP flags
        (0x45, 1, 0, 0x07),  # 12 SYN, FIN or RST? -> accept
        (0x06, 0, 0, 0),  # 13 drop
        (0x06, 0, 0, SNAPLEN),  # 14 accept
    ]
    return b"".join(struct.pack("HBBI", *instruction) for instruction in program)


def _attach(sock: socket.socket, code: bytes) -> None:
    buffer = ctypes.create_string_buffer(code, len(code))
    program = struct.pack("HxxxxxxQ", len(code) // 8, ctypes.addressof(buffer))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, program)


class Capture:
    """Captures the check's traffic on ``lo`` in a thread, so a busy program cannot fill
    the kernel buffer; any packet the kernel still dropped is counted."""

    def __init__(self, port: int) -> None:
        # Protocol 0 at creation, the real one at bind: registering the packet hook once
        # instead of twice saves a network-wide RCU grace period.
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        self.port = port
        _attach(self.sock, port_filter(port))
        self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 * 1024 * 1024)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.bind(("lo", ETH_P_ALL))
        self.sock.setblocking(False)
        self.packets: list[Packet] = []
        self.omitted = 0
        self.complete = True
        self._wake_read, self._wake_write = os.pipe()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        stopping = False
        while True:
            if not stopping:
                ready, _, _ = select.select([self.sock, self._wake_read], [], [])
                stopping = self._wake_read in ready
            try:
                data, ancillary, _, _ = self.sock.recvmsg(SNAPLEN, 64)
            except BlockingIOError:
                if stopping:  # told to stop and nothing is left to read
                    return
                continue
            except OSError:
                return
            self._keep(parse_frame(data, _timestamp(ancillary)))

    def _keep(self, packet: Packet | None) -> None:
        if packet is None:
            return
        if len(self.packets) < MAX_DATA_PACKETS or {"SYN", "FIN", "RST"} & set(packet.flags):
            self.packets.append(packet)
            if len(self.packets) == MAX_DATA_PACKETS:
                _attach(self.sock, control_filter(self.port))
        else:
            self.omitted += 1  # queued before the filter changed

    def collect(self) -> list[Packet]:
        """Stop capturing (after draining what the kernel holds) and return the packets."""
        os.write(self._wake_write, b"x")
        self._reader.join(5)
        os.close(self._wake_read)
        os.close(self._wake_write)
        stats = self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
        self.complete = struct.unpack("II", stats)[1] == 0
        # Closing a packet socket waits for an RCU grace period (~10 ms): not our wait.
        threading.Thread(target=self.sock.close, daemon=True).start()
        frames = self.packets
        if frames:
            origin = frames[0].t_ms
            for packet in frames:
                packet.t_ms = round(packet.t_ms - origin, 3)
        return frames


def _timestamp(ancillary: list[tuple[int, int, bytes]]) -> float:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            seconds, nanos = struct.unpack("qq", data[:16])
            return seconds * 1000 + nanos / 1e6
    return 0.0


def parse_frame(frame: bytes, t_ms: float) -> Packet | None:
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    header_len = (ip[0] & 0x0F) * 4
    total_len = struct.unpack("!H", ip[2:4])[0]
    proto = ip[9]
    body = ip[header_len:]
    if proto == 6 and len(body) >= 20:
        src, dst, seq, ack, offset_flags = struct.unpack("!HHIIH", body[:14])
        data_offset = (offset_flags >> 12) * 4
        flags = [name for name, bit in FLAG_NAMES if offset_flags & bit]
        length = total_len - header_len - data_offset
        return Packet(t_ms, "tcp", src, dst, flags, length, seq, ack)
    if proto == 17 and len(body) >= 8:
        src, dst, udp_len = struct.unpack("!HHH", body[:6])
        return Packet(t_ms, "udp", src, dst, [], udp_len - 8)
    return None


MAX_SHOWN = 300


def to_json(
    packets: list[Packet], server_port: int, peer_ports: Iterable[int] | None = None
) -> list[dict[str, Any]]:
    """The trace as shown to learners: which side sent what, in order (the first
    MAX_SHOWN packets, and every SYN, FIN and RST after them). With ``peer_ports`` (a
    server check's reference client), packets of connections that were not the peer's
    are marked ``foreign``: the program's own, and never judged."""
    ours = set(peer_ports) if peer_ports is not None else None
    rows = []
    for index, packet in enumerate(packets):
        if index >= MAX_SHOWN and not {"SYN", "FIN", "RST"} & set(packet.flags):
            continue
        row = asdict(packet)
        row["from"] = "server" if packet.src_port == server_port else "client"
        if ours is not None and _client_port(packet, server_port) not in ours:
            row["foreign"] = True
        rows.append(row)
    return rows


# -- facts -----------------------------------------------------------------------------
def _client_port(packet: Packet, server_port: int) -> int:
    return packet.dst_port if packet.src_port == server_port else packet.src_port


def tcp_packets(
    packets: list[Packet], server_port: int, client_ports: Iterable[int] | None = None
) -> list[Packet]:
    """TCP packets to or from ``server_port``; with ``client_ports``, only those of the
    connections between it and one of these ports (the reference peer's own)."""
    ports = set(client_ports) if client_ports is not None else None
    return [
        p
        for p in packets
        if p.proto == "tcp"
        and server_port in (p.src_port, p.dst_port)
        and (ports is None or _client_port(p, server_port) in ports)
    ]


def handshake_completed(
    packets: list[Packet], server_port: int, client_ports: Iterable[int] | None = None
) -> bool:
    """SYN from the client, SYN-ACK from the server, then the client's ACK, in order."""
    stage = 0
    for p in tcp_packets(packets, server_port, client_ports):
        from_client = p.dst_port == server_port
        if stage == 0 and from_client and p.has("SYN") and not p.has("ACK"):
            stage = 1
        elif stage == 1 and not from_client and p.has("SYN") and p.has("ACK"):
            stage = 2
        elif stage == 2 and from_client and p.has("ACK") and not p.has("SYN"):
            return True
    return False


def side_sent(
    packets: list[Packet],
    server_port: int,
    side: str,
    flag: str,
    client_ports: Iterable[int] | None = None,
) -> list[Packet]:
    sent_by_server = side == "server"
    return [
        p
        for p in tcp_packets(packets, server_port, client_ports)
        if p.has(flag) and (p.src_port == server_port) == sent_by_server
    ]
