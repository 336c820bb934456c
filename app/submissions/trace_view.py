"""A check's packet trace as a sequence diagram: the layout, computed here, drawn as inline
SVG by the Jinja macro in ``templates/submissions/_trace.html`` (no JavaScript needed).

Two lanes (client, server), one arrow per packet in capture order from the sender's lane to
the other, labelled with its flags (SYN, SYN-ACK, ACK, FIN-ACK, RST, PSH-ACK) and payload
size. Each connection's three-way handshake and its close (FIN/ACK from both sides) are
grouped into highlighted *phases* with a caption, and RST packets are marked, so learners
recognise them without relying on colour. Traces longer than :data:`MAX_PACKETS` keep every
handshake, FIN, RST and SYN packet but collapse long runs of plain data and ACK packets into
one "… N more packets …" row.

The helper knows no language: the template translates the labels.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

FLAG_ORDER = ("SYN", "FIN", "RST", "PSH", "ACK")
MAX_PACKETS = 40  # longer traces collapse runs of plain data/ACK packets
KEEP_HEAD = 4  # ...keeping this many packets at the start of each collapsed run
KEEP_TAIL = 2  # ...and this many at its end
MAX_ROWS = 60  # a hard cap on packet rows, even when every packet is a key one
SEQ_MOD = 2**32

# Geometry of the SVG (user units; the SVG scales with its box).
WIDTH = 380
TIME_X = 42  # right edge of the time column
CLIENT_X = 98
SERVER_X = 326
LANE_BOX_W = 100
HEADER_H = 74  # lane boxes and the time column heading
ROW_H = 28
CAPTION_H = 20
GAP_H = 26
BOTTOM = 14
HEAD_LEN = 8  # arrowhead


@dataclass
class Arrow:
    """One packet."""

    number: int  # 1-based position in the whole trace
    t_ms: float
    sender: str  # "client" | "server"
    proto: str  # "tcp" | "udp"
    flags: list[str]
    label: str  # "SYN-ACK", "PSH-ACK", "UDP"
    length: int  # payload bytes
    src_port: int
    dst_port: int
    kind: str  # handshake | close | reset | data | ack | udp
    y: float = 0
    x1: float = 0
    x2: float = 0
    head: str = ""  # arrowhead polygon points
    label_x: float = 0

    @property
    def line_end(self) -> float:
        """Where the line stops and the arrowhead starts."""
        return self.x2 - HEAD_LEN if self.x2 > self.x1 else self.x2 + HEAD_LEN

    @property
    def client_port(self) -> int:
        return self.src_port if self.sender == "client" else self.dst_port

    @property
    def receiver(self) -> str:
        return "server" if self.sender == "client" else "client"

    @property
    def time(self) -> str:
        return format_ms(self.t_ms)

    @property
    def size(self) -> str:
        return f"{self.length} B"

    @property
    def is_key(self) -> bool:
        return self.kind in ("handshake", "close", "reset") or "SYN" in self.flags


@dataclass
class Gap:
    """A run of packets left out of a long trace."""

    count: int
    y: float = 0


@dataclass
class Phase:
    """A highlighted group of rows: a connection's handshake or close."""

    kind: str  # "handshake" | "close"
    connection: int  # the client port
    numbers: list[int]  # packet numbers in the phase
    fins_from: list[str] = field(default_factory=list)  # for close: who sent a FIN
    killed: bool = False  # the close that came of the grader killing the program
    y1: float = 0  # band top (includes the caption)
    y2: float = 0
    caption_y: float = 0

    @property
    def complete(self) -> bool:
        """A handshake of all three packets, a close with a FIN from both sides."""
        if self.kind == "handshake":
            return len(self.numbers) >= 3
        return set(self.fins_from) == {"client", "server"}


@dataclass
class Diagram:
    proto: str  # "tcp" | "udp" | "mixed"
    server_port: int | None
    client_ports: list[int]
    program: str | None  # the lane of the learner's program: "client" | "server"
    total: int  # packets in the trace
    rows: list[Arrow | Gap]
    phases: list[Phase]
    killed: str | None = None  # the limit for which the grader killed the program
    width: int = WIDTH
    height: float = 0
    time_x: float = TIME_X
    client_x: float = CLIENT_X
    server_x: float = SERVER_X
    header_h: float = HEADER_H
    lane_box_w: float = LANE_BOX_W

    @property
    def arrows(self) -> list[Arrow]:
        return [row for row in self.rows if isinstance(row, Arrow)]

    @property
    def shown(self) -> int:
        return len(self.arrows)

    @property
    def hidden(self) -> int:
        return sum(row.count for row in self.rows if isinstance(row, Gap))

    @property
    def labels(self) -> list[str]:
        """The arrows in order as ``"client SYN"`` — what tests and summaries read."""
        return [f"{a.sender} {a.label}" for a in self.arrows]

    def phase(self, kind: str) -> list[Phase]:
        return [p for p in self.phases if p.kind == kind]

    @property
    def resets(self) -> list[Arrow]:
        return [a for a in self.arrows if a.kind == "reset"]

    @property
    def middle_x(self) -> float:
        return (self.client_x + self.server_x) / 2


def format_ms(t_ms: float) -> str:
    """Relative time for the diagram's left column: 0.02, 7.80, 40.9, 1234."""
    if t_ms < 10:
        return f"{t_ms:.2f}"
    if t_ms < 1000:
        return f"{t_ms:.1f}"
    return f"{t_ms:.0f}"


def flags_label(flags: Iterable[str], proto: str = "tcp") -> str:
    """``["ACK", "SYN"]`` -> ``"SYN-ACK"``; a UDP datagram is ``"UDP"``."""
    if proto == "udp":
        return "UDP"
    present = set(flags)
    ordered = [name for name in FLAG_ORDER if name in present]
    ordered += sorted(present - set(FLAG_ORDER))
    return "-".join(ordered) or "—"


def build(
    trace: list[dict[str, Any]] | None, role: str | None = None, killed: str | None = None
) -> Diagram | None:
    """Lay out ``trace`` (``CheckResult.trace``); ``role`` is the lane of the learner's
    program (the check's role); ``killed`` the limit for which the grader stopped the
    program (``resources.limit``), whose last close is then no close of the program's own
    but the kernel's, and is marked so. ``None`` when there is no packet to draw."""
    if not trace:
        return None
    arrows = _classify(trace)
    phases = _phases(arrows)
    rows = _collapse(arrows)
    protos = {a.proto for a in arrows}
    server_port = _server_port(arrows)
    client_ports = sorted({a.client_port for a in arrows})
    diagram = Diagram(
        proto=protos.pop() if len(protos) == 1 else "mixed",
        server_port=server_port,
        client_ports=client_ports,
        program=role if role in ("client", "server") else None,
        total=len(arrows),
        rows=rows,
        phases=[p for p in phases if any(n in _numbers(rows) for n in p.numbers)],
        killed=killed or None,
    )
    closes = diagram.phase("close")
    if diagram.killed and closes:
        closes[-1].killed = True
    _place(diagram)
    return diagram


def _server_port(arrows: list[Arrow]) -> int | None:
    for arrow in arrows:
        return arrow.src_port if arrow.sender == "server" else arrow.dst_port
    return None


def _classify(trace: list[dict[str, Any]]) -> list[Arrow]:
    """One Arrow per packet, with its role in the connection's life."""
    arrows: list[Arrow] = []
    # per connection (the client's port): SYN-ACK seen, handshake done, unacked FIN ends
    synack: dict[int, int] = {}
    established: set[int] = set()
    fin_end: dict[tuple[int, str], int] = {}
    for number, packet in enumerate(trace, start=1):
        sender = "server" if packet.get("from") == "server" else "client"
        proto = packet.get("proto", "tcp")
        flags = list(packet.get("flags") or [])
        length = int(packet.get("length") or 0)
        src, dst = int(packet.get("src_port", 0)), int(packet.get("dst_port", 0))
        arrow = Arrow(
            number=number,
            t_ms=float(packet.get("t_ms") or 0),
            sender=sender,
            proto=proto,
            flags=flags,
            label=flags_label(flags, proto),
            length=length,
            src_port=src,
            dst_port=dst,
            kind="udp" if proto == "udp" else ("data" if length else "ack"),
        )
        arrows.append(arrow)
        if proto != "tcp":
            continue
        conn = src if sender == "client" else dst
        seq, ack = int(packet.get("seq") or 0), int(packet.get("ack") or 0)
        other = "server" if sender == "client" else "client"
        if "RST" in flags:
            arrow.kind = "reset"
        elif "SYN" in flags:
            arrow.kind = "handshake"
            if "ACK" in flags and sender == "server":
                synack[conn] = seq
        elif (
            conn in synack
            and conn not in established
            and sender == "client"
            and "ACK" in flags
            and ack == (synack[conn] + 1) % SEQ_MOD
        ):
            arrow.kind = "handshake"
            established.add(conn)
        if "FIN" in flags:
            arrow.kind = "close"
            fin_end[(conn, sender)] = (seq + length + 1) % SEQ_MOD
        elif arrow.kind in ("ack", "data") and "ACK" in flags and fin_end.get((conn, other)) == ack:
            # the acknowledgement of the other side's FIN
            arrow.kind = "close"
            del fin_end[(conn, other)]
    return arrows


def _phases(arrows: list[Arrow]) -> list[Phase]:
    """Each connection's handshake and close, in order of their first packet."""
    phases: dict[tuple[int, str], Phase] = {}
    for arrow in arrows:
        if arrow.proto != "tcp" or arrow.kind not in ("handshake", "close"):
            continue
        conn = arrow.client_port
        phase = phases.setdefault((conn, arrow.kind), Phase(arrow.kind, conn, []))
        phase.numbers.append(arrow.number)
        if "FIN" in arrow.flags and arrow.sender not in phase.fins_from:
            phase.fins_from.append(arrow.sender)
    return sorted(phases.values(), key=lambda p: p.numbers[0])


def _collapse(arrows: list[Arrow]) -> list[Arrow | Gap]:
    """All packets of a short trace; a long one keeps its key packets and the ends of each
    run of plain ones."""
    if len(arrows) <= MAX_PACKETS:
        return list(arrows)
    keep: list[bool] = [a.is_key for a in arrows]
    start = 0
    while start < len(arrows):
        if arrows[start].is_key:
            start += 1
            continue
        end = start
        while end < len(arrows) and not arrows[end].is_key:
            end += 1
        run = end - start
        if run <= KEEP_HEAD + KEEP_TAIL + 1:
            keep[start:end] = [True] * run
        else:
            keep[start : start + KEEP_HEAD] = [True] * KEEP_HEAD
            keep[end - KEEP_TAIL : end] = [True] * KEEP_TAIL
        start = end
    kept = [i for i, k in enumerate(keep) if k]
    if len(kept) > MAX_ROWS:  # many connections: the first ones and the last ones
        dropped = set(kept[MAX_ROWS - 10 : -10])
        keep = [k and i not in dropped for i, k in enumerate(keep)]
    rows: list[Arrow | Gap] = []
    for index, arrow in enumerate(arrows):
        if keep[index]:
            rows.append(arrow)
        elif rows and isinstance(rows[-1], Gap):
            rows[-1].count += 1
        else:
            rows.append(Gap(1))
    return rows


def _numbers(rows: list[Arrow | Gap]) -> set[int]:
    return {row.number for row in rows if isinstance(row, Arrow)}


def _place(diagram: Diagram) -> None:
    """Coordinates: rows top to bottom, a caption row above each phase's first packet."""
    lane_x = {"client": diagram.client_x, "server": diagram.server_x}
    starts = {p.numbers[0]: p for p in diagram.phases}
    by_number: dict[int, float] = {}
    y = float(diagram.header_h)
    for row in diagram.rows:
        if isinstance(row, Gap):
            row.y = y + GAP_H / 2
            y += GAP_H
            continue
        phase = starts.get(row.number)
        if phase is not None:
            phase.caption_y = y + CAPTION_H - 6
            phase.y1 = y + 2
            y += CAPTION_H
        row.y = y + ROW_H - 7
        x1, x2 = lane_x[row.sender], lane_x[row.receiver]
        row.x1, row.x2 = x1, x2
        step = HEAD_LEN if x2 > x1 else -HEAD_LEN
        tip, back = x2, x2 - step
        row.head = f"{tip:g},{row.y:g} {back:g},{row.y - 4:g} {back:g},{row.y + 4:g}"
        row.label_x = (x1 + x2) / 2
        by_number[row.number] = row.y
        y += ROW_H
    for phase in diagram.phases:
        shown = [by_number[n] for n in phase.numbers if n in by_number]
        if phase.y1 == 0 and shown:  # its first packet was collapsed away
            phase.caption_y = min(shown) - ROW_H + 8
            phase.y1 = min(shown) - ROW_H + 2
        phase.y2 = (max(shown) + 8) if shown else phase.y1
    diagram.height = y + BOTTOM
