"""Expectations judged on recorded observations (no sandbox needed)."""

from __future__ import annotations

from app.grading import trace
from app.grading.checks import EXPECTATIONS, Observation
from app.grading.sandbox import RunResult
from app.grading.trace import Packet
from tests.helpers import en

PORT = 65432
PEER_PORT = 47756


def packet(t_ms: float, sender: str, *flags: str) -> Packet:
    ports = (PORT, PEER_PORT) if sender == "server" else (PEER_PORT, PORT)
    return Packet(t_ms, "tcp", *ports, list(flags), 0)


def teardown(*extra: Packet) -> list[Packet]:
    """A server's graceful close, as captured: the program (server) sends the first FIN."""
    return [
        packet(0.0, "client", "SYN"),
        packet(0.1, "server", "SYN", "ACK"),
        packet(0.2, "client", "ACK"),
        packet(0.4, "server", "FIN", "ACK"),
        packet(4.3, "client", "ACK"),
        packet(5.4, "client", "FIN", "ACK"),
        packet(5.5, "server", "ACK"),
        *extra,
    ]


def judge(name: str, packets: list[Packet], arg=True):
    peer = {"ports": [PEER_PORT]}  # the reference client's connection
    observation = Observation(RunResult(exit_code=0), peer, packets, PORT, program_is_server=True)
    return EXPECTATIONS[name].evaluate(observation, arg)


def test_no_rst_passes_a_graceful_close():
    assert judge("no_rst", teardown()).ok


def test_no_rst_ignores_the_peers_answer_to_a_stray_segment():
    # Seen on a loaded machine: a late close() repeats the last ACK after the peer has
    # closed, and the peer's kernel answers with a reset.
    stray = [packet(8.3, "server", "ACK"), packet(8.4, "client", "RST")]
    assert judge("no_rst", teardown(*stray)).ok


def test_no_rst_fails_a_reset_sent_by_the_program():
    abortive = [*teardown()[:3], packet(0.5, "server", "RST", "ACK")]
    outcome = judge("no_rst", abortive)
    assert not outcome.ok
    assert en(outcome.actual) == "1 RST from your program"
    assert "SO_LINGER 0" in en(outcome.message)


def test_packet_facts_ignore_connections_the_reference_peer_did_not_make():
    """A server that connects to itself and closes at once shows a FIN from port 65432,
    but not on the reference client's connection, which it holds open."""
    own = 51000
    decoy = [
        Packet(0.0, "tcp", own, PORT, ["SYN"], 0),
        Packet(0.1, "tcp", PORT, own, ["SYN", "ACK"], 0),
        Packet(0.2, "tcp", own, PORT, ["ACK"], 0),
        Packet(0.3, "tcp", PORT, own, ["FIN", "ACK"], 0),
    ]
    held = teardown()[:3]
    assert not judge("fin_within_ms", decoy + held, 3000).ok
    assert not judge("fin_from", decoy + held, "program").ok
    rows = trace.to_json(decoy + held, PORT, [PEER_PORT])
    assert [row.get("foreign", False) for row in rows] == [True] * 4 + [False] * 3
    assert judge("fin_within_ms", decoy + teardown(), 3000).ok
