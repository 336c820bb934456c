"""The "Spec reference" panel of the authoring page: the peer catalog with its parameters,
the expectations, a worked example and a ready-made check per peer kind — all read from
the grader's own registries, so the panel never lists something the grader rejects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from app.grading.checks import EXPECTATIONS
from app.grading.diagnosis import CONDITIONS, condition_meaning
from app.grading.peers import CATALOG
from app.grading.spec import PEER_PARAMS

PEER_DESCRIPTIONS = {
    "tcp_echo_server": _l("Echoes every byte; with split, in small delayed segments."),
    "udp_ack_server": _l("Answers each datagram with prefix + data, to its sender."),
    "silent_tcp_server": _l("Accepts and reads, never answers."),
    "silent_udp_server": _l("Binds the port and reads every datagram, never answers."),
    "sink_server": _l("Reads until the program closes, then closes gracefully."),
    "reset_server": _l("Accepts, then aborts with RST after after_ms."),
    "push_server": _l("Sends lines unprompted while recording what it receives."),
    "nothing_listening": _l("Nobody listens: connections are refused."),
    "tcp_client": _l(
        "Connects to the program, sends while reading, can half-close, waits for the close."
    ),
    "udp_client": _l("Sends datagrams from several ports and waits for each reply."),
}

# Parameters for the "Insert example check" snippets (valid against PEER_PARAMS).
EXAMPLE_PARAMS: dict[str, dict[str, Any]] = {
    "udp_ack_server": {"prefix": "ACK: "},
    "reset_server": {"after_ms": 200},
    "push_server": {"lines": ["tick 1", "tick 2"], "interval_ms": 200, "hold_ms": 500},
    "tcp_client": {"messages": ["hello", "world"]},
    "udp_client": {"datagrams": ["first", "second"], "senders": 2},
}

# Expectations that make sense with each peer (the program's side follows the peer's).
EXAMPLE_EXPECT: dict[str, list[dict[str, Any]]] = {
    "tcp_echo_server": [{"stdout_echoes_peer": True}, {"no_rst": True}],
    "udp_ack_server": [{"peer_received_nonempty": True}, {"stdout_echoes_peer": True}],
    "silent_tcp_server": [
        {"exits_within_ms": 7000},
        {
            "output_matches": {
                "pattern": "(?i)timed? ?out",
                "describe": {"en": "a message saying it timed out", "zh": "一条说明已超时的消息"},
            }
        },
    ],
    "silent_udp_server": [{"runs_at_least_ms": 500}, {"exits_within_ms": 7000}],
    "sink_server": [{"peer_got_eof": True}, {"fin_from": "program"}],
    "reset_server": [{"exits_within_ms": 5000}],
    "push_server": [{"stdout_contains_pushed": True}],
    "nothing_listening": [{"exits_within_ms": 5000}, {"stdout_matches": "(?i)refused"}],
    "tcp_client": [{"echo_exact": True}, {"handshake": True}],
    "udp_client": [{"udp_replies": {"prefix": "ACK: "}}],
}

WORKED_EXAMPLE = """\
port: 65432
checks:
  - id: client-sends-and-prints
    title: {en: "Client sends a datagram and prints the reply", zh: "客户端发送数据报并打印回复"}
    role: client
    required: true
    peer: {kind: udp_ack_server, prefix: "ACK: "}
    timeout_ms: 8000
    hint: {en: "Wait for the reply with recvfrom()", zh: "用 recvfrom() 等待回复"}
    hints:                       # shown only when their condition was diagnosed
      - when: nothing_sent
        en: "Send the datagram with sendto(data, ('127.0.0.1', 65432))"
        zh: "用 sendto(data, ('127.0.0.1', 65432)) 发送数据报"
      - when: [printed_own_data, wrong_output]
        en: "Print the reply recvfrom() returned, not what you sent"
        zh: "打印 recvfrom() 返回的回复，而不是你发送的内容"
    expect:
      - peer_received_nonempty: true
      - stdout_echoes_peer: true
      - exits_within_ms: 5000
      - no_traceback: true
"""


@dataclass
class PeerInfo:
    kind: str
    role: str  # the role a check with this peer usually grades
    description: Any
    params: list[tuple[str, str]]


def describe(schema: dict[str, Any]) -> str:
    """A short, readable form of a JSON Schema fragment: ``integer ≥ 0``, ``[string]``..."""
    if "const" in schema:
        return json.dumps(schema["const"])
    if "oneOf" in schema:
        return " | ".join(describe(choice) for choice in schema["oneOf"])
    if "enum" in schema:
        return " | ".join(str(value) for value in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        return f"[{describe(schema.get('items', {}))}]"
    if kind == "object":
        inner = ", ".join(schema.get("properties", {}))
        return f"{{{inner}}}" if inner else "object"
    if kind == "integer":
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and high is not None:
            return f"integer {low}–{high}"
        return f"integer ≥ {low}" if low is not None else "integer"
    return str(kind or "any")


def program_role(kind: str) -> str:
    """A peer that serves is talked to by a client program, and the other way round."""
    return "client" if CATALOG[kind].is_server else "server"


def peers() -> list[PeerInfo]:
    return [
        PeerInfo(
            kind=kind,
            role=program_role(kind),
            description=PEER_DESCRIPTIONS.get(kind, ""),
            params=[(name, describe(schema)) for name, schema in params.items()],
        )
        for kind, params in sorted(PEER_PARAMS.items())
    ]


def expectations() -> list[tuple[str, str]]:
    return [(name, describe(item.schema)) for name, item in sorted(EXPECTATIONS.items())]


def hint_conditions() -> list[tuple[str, dict[str, Any]]]:
    """The conditions a targeted hint may name (``hints: [{when, en, zh}]``), explained."""
    return [(name, condition_meaning(name)) for name in CONDITIONS]


def _flow(value: Any) -> str:
    """YAML flow style with bare keys: ``{kind: udp_client, senders: 2}``."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_flow(item)}" for key, item in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)


def snippet(kind: str) -> str:
    """One check using the peer ``kind``, as a list item to append under ``checks:``."""
    role = program_role(kind)
    peer = {"kind": kind, **EXAMPLE_PARAMS.get(kind, {})}
    expect = EXAMPLE_EXPECT.get(kind, []) + [{"no_traceback": True}]
    lines = [
        f"  - id: {role}-{kind.replace('_', '-')}",
        '    title: {en: "Describe what this check proves", zh: "说明这个检查验证什么"}',
        f"    role: {role}",
        f"    peer: {_flow(peer)}",
        "    expect:",
        *(f"      - {name}: {_flow(value)}" for item in expect for name, value in item.items()),
    ]
    return "\n".join(lines) + "\n"


def snippets() -> dict[str, str]:
    return {kind: snippet(kind) for kind in sorted(PEER_PARAMS)}
