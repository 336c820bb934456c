"""Waiting for a submitted server to listen, and saying where it listens instead.

The harness polls the sandbox's network namespace (``/proc/PID/net/tcp*``, ``udp*``),
never a fixed sleep: a server that listens on the wrong port or on an address the
reference client cannot reach (127.0.0.2, ::1) is named at once.
"""

from __future__ import annotations

import socket
import time

from app.grading.sandbox import Sandbox

LISTEN_POLL_S = 0.002
WRONG_PORT_GRACE_S = 0.5


def _msg(en: str, zh: str) -> dict[str, str]:
    return {"en": en, "zh": zh}


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
) -> dict[str, str] | None:
    """Poll until the submitted server listens where the reference client can reach it;
    None then, or what went wrong, in both languages (with ``when``: its condition)."""
    what = "UDP socket bound to" if udp else "TCP server listening on"
    elsewhere_since: float | None = None
    while time.monotonic() < deadline:
        if not sandbox.running():
            return _msg(
                f"Your server exited before a {what} 127.0.0.1:{port} appeared.",
                f"你的服务器在 127.0.0.1:{port} 上开始监听之前就退出了。",
            ) | {"when": "not_listening"}
        bound = _bound_sockets(sandbox.pid, udp)
        if any(p == port and address in REACHABLE for address, p in bound):
            return None
        if bound:
            # Listening, but elsewhere: give it a moment to open the right socket too.
            elsewhere_since = elsewhere_since or time.monotonic()
            if time.monotonic() - elsewhere_since > WRONG_PORT_GRACE_S:
                sandbox.stop()
                return _listening_elsewhere(bound, port) | {"when": "wrong_address"}
        time.sleep(LISTEN_POLL_S)
    sandbox.stop("time")
    return _msg(
        f"No {what} 127.0.0.1:{port} appeared within the time limit.",
        f"在时间限制内，127.0.0.1:{port} 上没有出现监听。",
    ) | {"when": "not_listening"}


def _listening_elsewhere(bound: set[tuple[str, int]], port: int) -> dict[str, str]:
    on_port = sorted(address for address, p in bound if p == port)
    if on_port:
        where = ", ".join(f"[{a}]:{port}" if ":" in a else f"{a}:{port}" for a in on_port)
        return _msg(
            f"Your server listens on {where}, which a client connecting to 127.0.0.1:{port} "
            "cannot reach: bind to 127.0.0.1 (or 0.0.0.0).",
            f"你的服务器监听的是 {where}，连接 127.0.0.1:{port} 的客户端无法到达："
            "请绑定 127.0.0.1（或 0.0.0.0）。",
        )
    others = ", ".join(str(p) for p in sorted({p for _, p in bound}))
    return _msg(
        f"Your server listens on port {others}, not on {port}.",
        f"你的服务器监听的是端口 {others}，而不是 {port}。",
    )
