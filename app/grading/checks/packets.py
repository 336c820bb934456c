"""Packet facts from the check's capture, judged on the reference peer's connections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.grading import trace
from app.grading.checks.base import MS, TRUE, Observation, Outcome, expectation


# -- packets ---------------------------------------------------------------------------
def packet_fact(fn: Callable[[Observation, Any], Outcome]) -> Callable[[Observation, Any], Outcome]:
    """A fact read from the capture holds only if the capture saw every packet."""

    def checked(obs: Observation, arg: Any) -> Outcome:
        outcome = fn(obs, arg)
        if not obs.trace_complete:
            outcome.ok = False
            outcome.en += " (The capture lost packets, so this cannot be confirmed.)"
            outcome.zh += "（抓包丢失了数据包，无法确认。）"
        return outcome

    return checked


@expectation("syn_sent", TRUE)
@packet_fact
def syn_sent(obs: Observation, _: bool) -> Outcome:
    """The client really tried to connect (a SYN to the port), e.g. before reporting that
    the connection was refused."""
    ok = any(
        p.has("SYN") and not p.has("ACK") and p.dst_port == obs.port
        for p in trace.tcp_packets(obs.packets, obs.port)
    )
    return Outcome(
        ok,
        f"The client should really try to connect to port {obs.port} (send a SYN).",
        f"客户端应真正尝试连接端口 {obs.port}（发送 SYN）。",
        "SYN",
        _flags_summary(obs),
    )


@expectation("handshake", TRUE)
@packet_fact
def handshake(obs: Observation, _: bool) -> Outcome:
    ok = trace.handshake_completed(obs.packets, obs.port, obs.peer_ports)
    return Outcome(
        ok,
        "A TCP three-way handshake (SYN, SYN-ACK, ACK) should complete.",
        "应完成一次 TCP 三次握手（SYN、SYN-ACK、ACK）。",
        "SYN → SYN-ACK → ACK",
        _flags_summary(obs),
    )


@expectation("fin_from", {"enum": ["program", "peer", "both"]})
@packet_fact
def fin_from(obs: Observation, who: str) -> Outcome:
    sides = {
        "program": [obs.program_side],
        "peer": [obs.peer_side],
        "both": [obs.program_side, obs.peer_side],
    }[who]
    ok = all(trace.side_sent(obs.packets, obs.port, side, "FIN", obs.peer_ports) for side in sides)
    return Outcome(
        ok,
        "Your program should close the connection with a FIN (a graceful close).",
        "程序应以 FIN 关闭连接（优雅关闭）。",
        f"FIN from {' and '.join(sides)}",
        _flags_summary(obs),
    )


@expectation("no_rst", TRUE)
@packet_fact
def no_rst(obs: Observation, _: bool) -> Outcome:
    """Only the program's resets count: closing with unread data or SO_LINGER 0 makes its
    side send one. The reference peer's kernel answers a stray segment that arrives after
    its own graceful close (e.g. a duplicate ACK from a late close()) with a reset too,
    which says nothing about the program."""
    resets = trace.side_sent(obs.packets, obs.port, obs.program_side, "RST", obs.peer_ports)
    return Outcome(
        not resets,
        "Your program should end the connection without a reset (RST): closing with unread "
        "data or with SO_LINGER 0 aborts it.",
        "程序结束连接时不应发送 RST：在有未读数据时关闭或使用 SO_LINGER 0 都会中止连接。",
        "no RST from your program",
        f"{len(resets)} RST from your program" if resets else "none",
    )


@expectation("fin_within_ms", MS)
@packet_fact
def fin_within_ms(obs: Observation, limit: int) -> Outcome:
    packets = trace.tcp_packets(obs.packets, obs.port, obs.peer_ports)
    fins = trace.side_sent(obs.packets, obs.port, obs.program_side, "FIN", obs.peer_ports)
    start = packets[0].t_ms if packets else 0
    took = fins[0].t_ms - start if fins else None
    ok = took is not None and took <= limit
    return Outcome(
        ok,
        f"Your program should send its FIN within {limit} ms of connecting.",
        f"程序应在连接建立后 {limit} 毫秒内发送 FIN。",
        f"≤ {limit} ms",
        f"{took:.0f} ms" if took is not None else "no FIN",
    )


def _flags_summary(obs: Observation) -> str:
    parts = []
    for p in trace.tcp_packets(obs.packets, obs.port, obs.peer_ports)[:12]:
        side = "S" if p.src_port == obs.port else "C"
        parts.append(f"{side}:{'/'.join(p.flags) or '-'}{f'+{p.length}B' if p.length else ''}")
    return " ".join(parts) or "no TCP packets"
