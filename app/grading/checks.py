"""Expectations: what a check requires of what really happened.

Each expectation reads an :class:`Observation` (the program's run, what the trusted peer
saw, the packet trace) and returns an :class:`Outcome` with a bilingual message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.grading import trace
from app.grading.exchange import digest
from app.grading.sandbox import RunResult

TRACEBACK = "Traceback (most recent call last)"
# Regular expressions see at most this much output: a costly pattern stays bounded.
REGEX_TEXT = 64 * 1024


@dataclass
class Observation:
    run: RunResult
    peer: dict[str, Any]
    packets: list[trace.Packet]
    port: int
    program_is_server: bool
    stdin_sent: list[str] = field(default_factory=list)
    trace_complete: bool = True  # False when the capture lost packets

    @property
    def stdout(self) -> str:
        return self.run.text("stdout")

    @property
    def stderr(self) -> str:
        return self.run.text("stderr")

    @property
    def peer_ports(self) -> list[int]:
        """The far ends of the reference peer's connections: packet facts are judged on
        these connections only, so a connection the program made to itself proves
        nothing."""
        return self.peer.get("ports", [])

    @property
    def program_side(self) -> str:
        return "server" if self.program_is_server else "client"

    @property
    def peer_side(self) -> str:
        return "client" if self.program_is_server else "server"


@dataclass
class Outcome:
    ok: bool
    en: str
    zh: str
    expected: Any = None
    actual: Any = None


@dataclass(frozen=True)
class Expectation:
    name: str
    schema: dict[str, Any]
    evaluate: Callable[[Observation, Any], Outcome]


EXPECTATIONS: dict[str, Expectation] = {}


def expectation(name: str, schema: dict[str, Any]):
    def register(fn: Callable[[Observation, Any], Outcome]):
        EXPECTATIONS[name] = Expectation(name, schema, fn)
        return fn

    return register


def excerpt(data: bytes | str, limit: int = 200) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} chars)"


TRUE = {"const": True}
TEXT = {"type": "string", "minLength": 1}
MS = {"type": "integer", "minimum": 1}


# -- output ----------------------------------------------------------------------------
def _found(pattern: str, text: str) -> bool:
    """Does ``pattern`` match the (bounded) output, line by line?"""
    return re.search(pattern, text[:REGEX_TEXT], re.MULTILINE) is not None


@expectation("stdout_contains", TEXT)
def stdout_contains(obs: Observation, text: str) -> Outcome:
    ok = text in obs.stdout
    return Outcome(
        ok, f"Output should contain {text!r}.", f"输出应包含 {text!r}。", text, excerpt(obs.stdout)
    )


@expectation("stdout_matches", TEXT)
def stdout_matches(obs: Observation, pattern: str) -> Outcome:
    ok = _found(pattern, obs.stdout)
    return Outcome(
        ok,
        f"Output should match /{pattern}/.",
        f"输出应匹配 /{pattern}/。",
        pattern,
        excerpt(obs.stdout),
    )


@expectation("stdout_not_matches", TEXT)
def stdout_not_matches(obs: Observation, pattern: str) -> Outcome:
    ok = not _found(pattern, obs.stdout)
    return Outcome(
        ok,
        f"Output should not match /{pattern}/.",
        f"输出不应匹配 /{pattern}/。",
        f"no /{pattern}/",
        excerpt(obs.stdout),
    )


@expectation("stderr_not_matches", TEXT)
def stderr_not_matches(obs: Observation, pattern: str) -> Outcome:
    ok = not _found(pattern, obs.stderr)
    return Outcome(
        ok,
        f"Error output should not match /{pattern}/.",
        f"错误输出不应匹配 /{pattern}/。",
        f"no /{pattern}/",
        excerpt(obs.stderr),
    )


@expectation("no_traceback", TRUE)
def no_traceback(obs: Observation, _: bool) -> Outcome:
    ok = TRACEBACK not in obs.stderr
    last = obs.stderr.strip().splitlines()[-1] if obs.stderr.strip() else ""
    return Outcome(
        ok,
        "The program should handle errors itself, without a traceback"
        + (f" (it ended with: {last})." if not ok else "."),
        "程序应自行处理异常，不应输出 traceback" + (f"（最后一行：{last}）。" if not ok else "。"),
        "no traceback",
        excerpt(last) if last else None,
    )


# -- how it ended ----------------------------------------------------------------------
@expectation("exit_code", {"type": "integer", "minimum": 0, "maximum": 255})
def exit_code(obs: Observation, code: int) -> Outcome:
    ok = obs.run.exited_by_itself and obs.run.exit_code == code
    actual = obs.run.exit_code if obs.run.exited_by_itself else "still running (stopped)"
    return Outcome(
        ok,
        f"The program should exit with status {code}.",
        f"程序应以状态码 {code} 退出。",
        code,
        actual,
    )


@expectation("exits_within_ms", MS)
def exits_within_ms(obs: Observation, limit: int) -> Outcome:
    ok = obs.run.exited_by_itself and obs.run.wall_ms <= limit
    actual = f"{obs.run.wall_ms} ms" if obs.run.exited_by_itself else "did not exit by itself"
    return Outcome(
        ok,
        f"The program should finish by itself within {limit / 1000:g} s.",
        f"程序应在 {limit / 1000:g} 秒内自行结束。",
        f"≤ {limit} ms",
        actual,
    )


@expectation("runs_at_least_ms", MS)
def runs_at_least_ms(obs: Observation, minimum: int) -> Outcome:
    """Against a silent peer, giving up at once is no timeout: it must really wait."""
    ok = obs.run.wall_ms >= minimum
    return Outcome(
        ok,
        f"The program should really wait for the server (at least {minimum} ms) before giving up.",
        f"程序应真正等待服务器（至少 {minimum} 毫秒）后再放弃。",
        f"≥ {minimum} ms",
        f"{obs.run.wall_ms} ms",
    )


# -- what the reference peer saw -------------------------------------------------------
@expectation("peer_received_nonempty", TRUE)
def peer_received_nonempty(obs: Observation, _: bool) -> Outcome:
    ok = bool(obs.peer["received"])
    return Outcome(
        ok,
        f"The reference {obs.peer_side} should receive data from your program.",
        f"参考{_zh_side(obs.peer_side)}应收到你的程序发送的数据。",
        "some bytes",
        f"{len(obs.peer['received'])} bytes",
    )


@expectation("peer_received", {"type": "string"})
def peer_received(obs: Observation, text: str) -> Outcome:
    got = obs.peer["received"]
    ok = got == text.encode()
    return Outcome(
        ok,
        f"The reference {obs.peer_side} should receive exactly {text!r}.",
        f"参考{_zh_side(obs.peer_side)}应恰好收到 {text!r}。",
        text,
        excerpt(got),
    )


@expectation("echo_exact", TRUE)
def echo_exact(obs: Observation, _: bool) -> Outcome:
    peer = obs.peer
    sent, got = peer["sent_total"], peer["received_total"]
    ok = sent > 0 and got == sent and peer["sent_digest"] == peer["received_digest"]
    if ok:
        actual = f"{got} bytes, identical"
    elif peer.get("error") and not peer["connections"]:
        actual = peer["error"]
    else:
        first, second = peer["sent"], peer["received"]
        same = next(
            (i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b),
            min(len(first), len(second)),
        )
        actual = f"{got} of {sent} bytes back; first difference at byte {same}"
    return Outcome(
        ok,
        f"Every byte sent ({sent} bytes) should come back unchanged, in order.",
        f"发送的每个字节（共 {sent} 字节）都应原样按序返回。",
        f"{sent} bytes",
        actual,
    )


@expectation("peer_got_eof", TRUE)
def peer_got_eof(obs: Observation, _: bool) -> Outcome:
    ok = obs.peer["eof"] and not obs.peer["reset"]
    actual = "reset (RST)" if obs.peer["reset"] else ("closed" if ok else "left open")
    return Outcome(
        ok,
        "Your program should close the connection when it is done.",
        "程序完成后应关闭连接。",
        "closed",
        actual,
    )


@expectation("stdout_echoes_peer", TRUE)
def stdout_echoes_peer(obs: Observation, _: bool) -> Outcome:
    """The client printed, whole, the reply the reference server sent it."""
    reply = obs.peer["reply"].decode("utf-8", "replace").strip()
    if not obs.peer["received"]:
        return Outcome(
            False,
            "The client should send a message to the server first.",
            "客户端应先向服务器发送消息。",
            "a message sent",
            "nothing received",
        )
    ok = bool(reply) and reply in obs.stdout
    return Outcome(
        ok,
        "The client should print the server's whole reply.",
        "客户端应打印服务器的完整回复。",
        excerpt(reply),
        excerpt(obs.stdout),
    )


@expectation(
    "udp_replies",
    {"type": "object", "additionalProperties": False, "properties": {"prefix": {"type": "string"}}},
)
def udp_replies(obs: Observation, arg: dict[str, str]) -> Outcome:
    prefix = arg.get("prefix", "ACK: ").encode()
    records = obs.peer["datagrams"]
    wrong = [r for r in records if _udp_reply_problem(r, prefix, obs.port)]
    ok = bool(records) and not wrong
    actual = f"{len(records) - len(wrong)} of {len(records)} answered correctly"
    if wrong:
        first = wrong[0]
        actual += f"; to {excerpt(first['data'])!r} (from port {first['from']}) "
        actual += _udp_reply_problem(first, prefix, obs.port)
    return Outcome(
        ok,
        f"Each datagram should be answered with {prefix.decode()!r} + its data, "
        f"sent back from port {obs.port} to the address it came from.",
        f"每个数据报都应以 {prefix.decode()!r} + 原数据，从端口 {obs.port} 回复给其发送方地址。",
        f"{len(records)} replies",
        actual,
    )


def _udp_reply_problem(record: dict[str, Any], prefix: bytes, port: int) -> str:
    """What is wrong with the reply to one datagram, or "" when nothing is."""
    if record.get("reply") is None:
        return "got no reply"
    if record["reply_digest"] != digest(prefix + record["data"]):
        return f"got {excerpt(record['reply'])!r}"
    if record.get("reply_from") != port:
        return f"got the right reply, but from port {record.get('reply_from')}, not {port}"
    return ""


@expectation("stdin_forwarded", TRUE)
def stdin_forwarded(obs: Observation, _: bool) -> Outcome:
    want = "".join(obs.stdin_sent).encode()
    got = obs.peer["received"].replace(b"\r", b"").replace(b"\n", b"")
    ok = bool(want) and got == want
    return Outcome(
        ok,
        "Every line typed on stdin should reach the server, in order.",
        "标准输入的每一行都应按顺序发送到服务器。",
        excerpt(want),
        excerpt(got),
    )


@expectation("stdout_contains_pushed", TRUE)
def stdout_contains_pushed(obs: Observation, _: bool) -> Outcome:
    lines = [line for line in obs.peer["sent"].decode("utf-8", "replace").split("\n") if line]
    position, missing = 0, None
    for line in lines:
        found = obs.stdout.find(line, position)
        if found < 0:
            missing = line
            break
        position = found + len(line)
    ok = bool(lines) and missing is None
    return Outcome(
        ok,
        "Messages the server pushes should be printed as they arrive, even while nothing is typed.",
        "即使没有任何输入，服务器推送的消息也应在到达时被打印出来。",
        excerpt("\n".join(lines)),
        f"missing {missing!r}" if missing else excerpt(obs.stdout),
    )


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


def _zh_side(side: str) -> str:
    return "服务器" if side == "server" else "客户端"
