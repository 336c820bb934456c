"""Expectations on what the trusted reference peer saw: bytes, echoes, closes, datagrams."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.grading.checks.base import TRUE, Observation, Outcome, excerpt, expectation, zh_side
from app.grading.exchange import digest
from app.grading.transcript import compare, difference_note, literal


def _bytes_outcome(
    ok: bool, en: str, zh: str, want: bytes, got: bytes, want_total: int, got_total: int
) -> Outcome:
    """A byte check: expected and actual as byte literals around the first difference,
    the difference named in the message (0-based offset), and what it means."""
    diff = compare(want, got, want_total, got_total) if not ok else {}
    if not diff:
        shown = literal(want[:96]) + ("…" if len(want) > 96 else "")
        return Outcome(ok, en, zh, shown, shown if ok else f"{got_total} bytes", conditions=[])
    note = difference_note(diff)
    if not got_total:
        conditions = ["no_reply"]
    else:
        conditions = ["data_short" if diff["kind"] == "short" else "data_changed"]
    return Outcome(
        ok,
        f"{en} What arrived {note['en']}.",
        f"{zh}实际数据{note['zh']}。",
        diff["expected"],
        f"{diff['actual']} — {note['en']}",
        conditions=conditions,
        diff=diff,
    )


# -- what the reference peer saw -------------------------------------------------------
@expectation("peer_received_nonempty", TRUE)
def peer_received_nonempty(obs: Observation, _: bool) -> Outcome:
    ok = bool(obs.peer["received"])
    return Outcome(
        ok,
        f"The reference {obs.peer_side} should receive data from your program.",
        f"参考{zh_side(obs.peer_side)}应收到你的程序发送的数据。",
        "some bytes",
        f"{len(obs.peer['received'])} bytes",
    )


@expectation("peer_received", {"type": "string"})
def peer_received(obs: Observation, text: str) -> Outcome:
    got, want = obs.peer["received"], text.encode()
    ok = got == want
    outcome = _bytes_outcome(
        ok,
        f"The reference {obs.peer_side} should receive exactly {text!r}.",
        f"参考{zh_side(obs.peer_side)}应恰好收到 {text!r}。",
        want,
        got,
        len(want),
        obs.peer["received_total"],
    )
    if not ok and not got:
        outcome.conditions = ["nothing_sent"]
    return outcome


@expectation("echo_exact", TRUE)
def echo_exact(obs: Observation, _: bool) -> Outcome:
    peer = obs.peer
    sent, got = peer["sent_total"], peer["received_total"]
    ok = sent > 0 and got == sent and peer["sent_digest"] == peer["received_digest"]
    en = f"Every byte sent ({sent} bytes) should come back unchanged, in order."
    zh = f"发送的每个字节（共 {sent} 字节）都应原样按序返回。"
    if not ok and peer.get("error") and not peer["connections"]:
        return Outcome(ok, en, zh, f"{sent} bytes", peer["error"], conditions=[])
    outcome = _bytes_outcome(ok, en, zh, peer["sent"], peer["received"], sent, got)
    if ok:
        outcome.actual = f"{got} bytes, identical"
    return outcome


@expectation("peer_got_eof", TRUE)
def peer_got_eof(obs: Observation, _: bool) -> Outcome:
    ok = obs.peer["eof"] and not obs.peer["reset"]
    conditions = ["reset"] if obs.peer["reset"] else ["never_closed"]
    if obs.peer["reset"]:
        actual = "reset (RST)"
    elif ok:
        actual = "closed"
    elif any(e["event"] == "no_close" for e in obs.peer["events"]):
        actual = "still open after the client closed its side"
    else:
        actual = "left open"
    if obs.program_is_server:
        en = "After the client closes its side, your server should close the connection."
        zh = "客户端关闭它的一端之后，你的服务器应关闭连接。"
    else:
        en, zh = (
            "Your program should close the connection when it is done.",
            "程序完成后应关闭连接。",
        )
    return Outcome(ok, en, zh, "closed", actual, conditions=conditions)


@expectation("echo_interactive", TRUE)
def echo_interactive(obs: Observation, _: bool) -> Outcome:
    """Each message came back before the client sent the next one or closed its side: a
    server that buffers until the client's EOF hangs a real, interactive client."""
    unanswered = obs.peer.get("unanswered")
    messages = obs.peer["sent_total"]
    ok = unanswered is None and messages > 0 and obs.peer["connections"] > 0
    if ok:
        actual = "each message echoed at once"
    elif unanswered is not None:
        actual = f"no echo of message {unanswered + 1} while the client waited for it"
    else:
        actual = obs.peer.get("error") or "no message exchanged"
    return Outcome(
        ok,
        "Your server should echo each message as soon as it arrives: this client waits for "
        "the echo before it sends more or closes its side.",
        "你的服务器应在每条消息到达后立即回显：这个客户端会等到回显后才继续发送或关闭它的一端。",
        "each message echoed before the next one is sent",
        actual,
    )


def _echoes_peer(where: str) -> Callable[[Observation, bool], Outcome]:
    def evaluate(obs: Observation, _: bool) -> Outcome:
        """The client printed, whole, the reply the reference server sent it."""
        reply = obs.peer["reply"].decode("utf-8", "replace").strip()
        if not obs.peer["received"]:
            return Outcome(
                False,
                "The client should send a message to the server first.",
                "客户端应先向服务器发送消息。",
                "a message sent",
                "nothing received",
                conditions=["nothing_sent"],
            )
        printed = getattr(obs, where)
        ok = bool(reply) and reply in printed
        en = "The client should print the server's whole reply."
        zh = "客户端应打印服务器的完整回复。"
        if ok or not reply:
            return Outcome(ok, en, zh, excerpt(reply), excerpt(printed), conditions=[])
        own = obs.peer["received"].decode("utf-8", "replace").strip()
        if own and own != reply and own in printed:
            return Outcome(
                ok, en, zh, excerpt(reply), excerpt(printed), conditions=["printed_own_data"]
            )
        return _printed_part(en, zh, reply.encode(), printed.encode()[:PRINTED_BYTES])

    return evaluate


PRINTED_BYTES = 64 * 1024  # of the output searched for the reply
PRINTED_TRIES = 256  # places tried


def _common_prefix(a: bytes, b: bytes) -> int:
    low, high = 0, min(len(a), len(b))
    while low < high:  # slice comparisons run in C: a few of them, whatever the sizes
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _printed_part(en: str, zh: str, reply: bytes, printed: bytes) -> Outcome:
    """The client printed part of the reply (the most of it found in its output): name
    where it stops matching, and whether it was cut short or changed."""
    best, length, start = 0, 0, 0
    for _ in range(PRINTED_TRIES):
        position = printed.find(reply[:1], start)
        if position < 0:
            break
        found = _common_prefix(reply, printed[position:])
        if found > length:
            best, length = position, found
        start = position + 1
    if not length:
        return Outcome(False, en, zh, literal(reply[:96]), excerpt(printed) or "nothing printed")
    shown = printed[best : best + len(reply)]
    diff = compare(reply, shown, len(reply), len(shown))
    after = printed[best + length : best + length + 1]
    cut = after in (b"", b"\n", b"\r", b" ", b"'", b'"')
    diff["kind"] = "short" if cut else "changed"
    note = difference_note(diff)
    return Outcome(
        False,
        f"{en} What it printed {note['en']}.",
        f"{zh}打印的内容{note['zh']}。",
        diff["expected"],
        f"{diff['actual']} — {note['en']}",
        conditions=["data_short" if cut else "data_changed"],
        diff=diff,
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
    conditions = _udp_conditions(records, wrong, prefix, obs.port) if not ok else []
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
        conditions=conditions,
    )


def _udp_conditions(records: list, wrong: list, prefix: bytes, port: int) -> list[str]:
    if not records:
        return ["nothing_sent"]
    found = []
    unanswered = {r["from"] for r in wrong if r.get("reply") is None}
    answered = {r["from"] for r in records if r.get("reply") is not None}
    if unanswered and answered and records[0]["from"] in answered:
        found.append("no_reply_to_second_sender")
    elif unanswered and not answered:
        found.append("no_reply")
    for record in wrong:
        problem = _udp_reply_problem(record, prefix, port)
        if problem.startswith("got the right reply"):
            found.append("reply_from_wrong_port")
        elif record.get("reply") is not None:
            found.append("data_changed")
    return sorted(set(found))


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
    outcome = _bytes_outcome(
        ok,
        "Every line typed on stdin should reach the server, in order.",
        "标准输入的每一行都应按顺序发送到服务器。",
        want,
        got,
        len(want),
        len(got),
    )
    if not ok and not got:
        outcome.conditions = ["nothing_sent"]
    return outcome


def _first_missing(lines: list[str], text: str) -> str | None:
    """The first of ``lines`` not found in ``text`` after the ones before it."""
    position = 0
    for line in lines:
        found = text.find(line, position)
        if found < 0:
            return line
        position = found + len(line)
    return None


def _contains_pushed(where: str) -> Callable[[Observation, bool], Outcome]:
    def evaluate(obs: Observation, _: bool) -> Outcome:
        lines = [line for line in obs.peer["sent"].decode("utf-8", "replace").split("\n") if line]
        streams = [obs.stdout] if where == "stdout" else [obs.stdout, obs.stderr]
        missing = [_first_missing(lines, text) for text in streams]
        ok = bool(lines) and None in missing
        return Outcome(
            ok,
            "Messages the server pushes should be printed as they arrive, "
            "even while nothing is typed.",
            "即使没有任何输入，服务器推送的消息也应在到达时被打印出来。",
            excerpt("\n".join(lines)),
            f"missing {missing[0]!r}" if not ok and lines else excerpt(getattr(obs, where)),
        )

    return evaluate


for _where in ("stdout", "output"):
    expectation(f"{_where}_echoes_peer", TRUE)(_echoes_peer(_where))
    expectation(f"{_where}_contains_pushed", TRUE)(_contains_pushed(_where))
