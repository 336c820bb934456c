"""Packet facts from the check's capture, judged on the reference peer's connections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.grading import trace
from app.grading.checks.base import MS, TRUE, Observation, Outcome, expectation
from app.grading.messages import msg, role_name


# -- packets ---------------------------------------------------------------------------
def packet_fact(fn: Callable[[Observation, Any], Outcome]) -> Callable[[Observation, Any], Outcome]:
    """A fact read from the capture holds only if the capture saw every packet."""

    def checked(obs: Observation, arg: Any) -> Outcome:
        outcome = fn(obs, arg)
        if not obs.trace_complete:
            outcome.ok = False
            outcome.message = msg("packets.unconfirmed", fact=outcome.message)
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
        msg("packets.syn", port=obs.port),
        "SYN",
        _flags_summary(obs),
    )


@expectation("handshake", TRUE)
@packet_fact
def handshake(obs: Observation, _: bool) -> Outcome:
    ok = trace.handshake_completed(obs.packets, obs.port, obs.peer_ports)
    return Outcome(
        ok,
        msg("packets.handshake"),
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
        msg("packets.fin"),
        msg("value.fin_from", sides=[role_name(side) for side in sides]),
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
        msg("packets.no_rst"),
        msg("value.no_rst_from_program"),
        msg("value.rst_from_program", count=len(resets)) if resets else msg("value.none"),
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
        msg("packets.fin_within", ms=limit),
        msg("value.at_most_ms", ms=limit),
        msg("value.ms", ms=round(took)) if took is not None else msg("value.no_fin"),
    )


def _flags_summary(obs: Observation) -> str | dict:
    parts = []
    for p in trace.tcp_packets(obs.packets, obs.port, obs.peer_ports)[:12]:
        side = "S" if p.src_port == obs.port else "C"
        parts.append(f"{side}:{'/'.join(p.flags) or '-'}{f'+{p.length}B' if p.length else ''}")
    return " ".join(parts) or msg("value.no_tcp_packets")
