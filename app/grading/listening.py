"""Waiting for a submitted server to listen, and saying where it listens instead.

The harness polls the sandbox's network namespace (``/proc/PID/net/tcp*``, ``udp*``),
never a fixed sleep: a server that listens on the wrong port or on an address the
reference client cannot reach (127.0.0.2, ::1) is named at once.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from app.grading.messages import Message, msg
from app.grading.sandbox import Sandbox

LISTEN_POLL_S = 0.002
WRONG_PORT_GRACE_S = 0.5


REACHABLE = {"127.0.0.1", "0.0.0.0", "::", "::ffff:127.0.0.1"}  # from the peer's 127.0.0.1


def _address(hex_address: str) -> str:
    """An address as /proc/net/tcp* shows it (32-bit words in host order) -> text."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, words)


def _bound_sockets(pid: int, udp: bool) -> set[tuple[str, int]]:
    """(address, port) of each listening TCP (or bound UDP) socket in the sandbox's
    namespace."""
    found: set[tuple[str, int]] = set()
    for table in ("udp", "udp6") if udp else ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as handle:
                next(handle)
                for line in handle:
                    fields = line.split()
                    if udp or fields[3] == "0A":
                        address, port = fields[1].rsplit(":", 1)
                        found.add((_address(address), int(port, 16)))
        except (FileNotFoundError, ProcessLookupError):
            break
    return found


def wait_listening(
    sandbox: Sandbox, udp: bool, port: int, deadline: float
) -> dict[str, Any] | None:
    """Poll until the submitted server listens where the reference client can reach it;
    None then, or what went wrong: ``{"message": Message, "when": condition}``."""
    kind = "udp" if udp else "tcp"
    elsewhere_since: float | None = None
    while time.monotonic() < deadline:
        if not sandbox.running():
            return _problem(msg(f"listen.exited_{kind}", port=port), "not_listening")
        bound = _bound_sockets(sandbox.pid, udp)
        if any(p == port and address in REACHABLE for address, p in bound):
            return None
        if bound:
            # Listening, but elsewhere: give it a moment to open the right socket too.
            elsewhere_since = elsewhere_since or time.monotonic()
            if time.monotonic() - elsewhere_since > WRONG_PORT_GRACE_S:
                sandbox.stop()
                return _problem(_listening_elsewhere(bound, port), "wrong_address")
        time.sleep(LISTEN_POLL_S)
    sandbox.stop("time")
    return _problem(msg(f"listen.timeout_{kind}", port=port), "not_listening")


def _problem(message: Message, condition: str) -> dict[str, Any]:
    return {"message": message, "when": condition}


def _listening_elsewhere(bound: set[tuple[str, int]], port: int) -> Message:
    on_port = sorted(address for address, p in bound if p == port)
    if on_port:
        where = ", ".join(f"[{a}]:{port}" if ":" in a else f"{a}:{port}" for a in on_port)
        return msg("listen.unreachable", where=where, port=port)
    others = ", ".join(str(p) for p in sorted({p for _, p in bound}))
    return msg("listen.wrong_port", found=others, port=port)
