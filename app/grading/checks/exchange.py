"""Expectations on what the trusted reference peer saw: bytes, echoes, closes, datagrams."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.grading.checks.base import TRUE, Observation, Outcome, excerpt, expectation
from app.grading.exchange import digest
from app.grading.messages import Message, msg, role_name
from app.grading.transcript import compare, difference_note, literal


def _bytes_outcome(
    ok: bool, message: Message, want: bytes, got: bytes, want_total: int, got_total: int
) -> Outcome:
    """A byte check: expected and actual as byte literals around the first difference,
    the difference named in the message (0-based offset), and what it means."""
    diff = compare(want, got, want_total, got_total) if not ok else {}
    if not diff:
        shown = literal(want[:96]) + ("…" if len(want) > 96 else "")
        actual = shown if ok else msg("value.bytes", count=got_total)
        return Outcome(ok, message, shown, actual, conditions=[])
    note = difference_note(diff)
    if not got_total:
        conditions = ["no_reply"]
    else:
        conditions = ["data_short" if diff["kind"] == "short" else "data_changed"]
    return Outcome(
        ok,
        msg("bytes.what_arrived", base=message, note=note),
        diff["expected"],
        msg("value.with_note", value=diff["actual"], note=note),
        conditions=conditions,
        diff=diff,
    )


# -- what the reference peer saw -------------------------------------------------------
@expectation("peer_received_nonempty", TRUE)
def peer_received_nonempty(obs: Observation, _: bool) -> Outcome:
    ok = bool(obs.peer["received"])
    return Outcome(
        ok,
        msg("peer.should_receive_data", peer=role_name(obs.peer_side)),
        msg("value.some_bytes"),
        msg("value.bytes", count=len(obs.peer["received"])),
    )


@expectation("peer_received", {"type": "string"})
def peer_received(obs: Observation, text: str) -> Outcome:
    got, want = obs.peer["received"], text.encode()
    ok = got == want
    outcome = _bytes_outcome(
        ok,
        msg("peer.should_receive_exactly", peer=role_name(obs.peer_side), text=repr(text)),
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
    planned = peer.get("planned_total") or sent
    ok = 0 < sent == planned and got == sent and peer["sent_digest"] == peer["received_digest"]
    if sent < planned:  # the connection ended before the client got to send it all
        message = msg("echo.exact_cut", sent=sent, planned=planned)
    else:
        message = msg("echo.exact", sent=sent)
    if not ok and peer.get("error") and not peer["connections"]:
        return Outcome(ok, message, msg("value.bytes", count=sent), peer["error"], conditions=[])
    outcome = _bytes_outcome(ok, message, peer["sent"], peer["received"], sent, got)
    if ok:
        outcome.actual = msg("value.bytes_identical", count=got)
    return outcome


@expectation("peer_got_eof", TRUE)
def peer_got_eof(obs: Observation, _: bool) -> Outcome:
    ok = obs.peer["eof"] and not obs.peer["reset"]
    conditions = ["reset"] if obs.peer["reset"] else ["never_closed"]
    if obs.peer["reset"]:
        actual = msg("value.reset")
    elif ok:
        actual = msg("value.closed")
    elif any(e["event"] == "no_close" for e in obs.peer["events"]):
        actual = msg("value.open_after_client_closed")
    else:
        actual = msg("value.left_open")
    message = msg("close.server_after_client" if obs.program_is_server else "close.when_done")
    return Outcome(ok, message, msg("value.closed"), actual, conditions=conditions)


@expectation("echo_interactive", TRUE)
def echo_interactive(obs: Observation, _: bool) -> Outcome:
    """Each message came back before the client sent the next one or closed its side: a
    server that buffers until the client's EOF hangs a real, interactive client."""
    unanswered = obs.peer.get("unanswered")
    messages = obs.peer["sent_total"]
    ok = unanswered is None and messages > 0 and obs.peer["connections"] > 0
    if ok:
        actual = msg("value.echoed_at_once")
    elif unanswered is not None:
        actual = msg("value.no_echo_of", number=unanswered + 1)
    else:
        actual = obs.peer.get("error") or msg("value.no_message_exchanged")
    return Outcome(ok, msg("echo.interactive"), msg("value.echoed_before_next"), actual)


def _echoes_peer(where: str) -> Callable[[Observation, bool], Outcome]:
    def evaluate(obs: Observation, _: bool) -> Outcome:
        """The client printed, whole, the reply the reference server sent it."""
        reply = obs.peer["reply"].decode("utf-8", "replace").strip()
        if not obs.peer["received"]:
            return Outcome(
                False,
                msg("client.send_first"),
                msg("value.a_message_sent"),
                msg("value.nothing_received"),
                conditions=["nothing_sent"],
            )
        printed = getattr(obs, where)
        ok = bool(reply) and reply in printed
        message = msg("client.print_reply")
        shown = excerpt(printed) or msg("value.nothing_printed")
        if ok or not reply:
            return Outcome(ok, message, excerpt(reply), shown, conditions=[])
        own = obs.peer["received"].decode("utf-8", "replace").strip()
        if own and own != reply and own in printed:
            return Outcome(ok, message, excerpt(reply), shown, conditions=["printed_own_data"])
        return _printed_part(message, reply.encode(), printed.encode()[:PRINTED_BYTES])

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


def _printed_part(message: Message, reply: bytes, printed: bytes) -> Outcome:
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
        shown = excerpt(printed) or msg("value.nothing_printed")
        return Outcome(False, message, literal(reply[:96]), shown)
    shown = printed[best : best + len(reply)]
    diff = compare(reply, shown, len(reply), len(shown))
    after = printed[best + length : best + length + 1]
    cut = after in (b"", b"\n", b"\r", b" ", b"'", b'"')
    diff["kind"] = "short" if cut else "changed"
    note = difference_note(diff)
    return Outcome(
        False,
        msg("bytes.what_printed", base=message, note=note),
        diff["expected"],
        msg("value.with_note", value=diff["actual"], note=note),
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
    good, total = len(records) - len(wrong), len(records)
    if wrong:
        first = wrong[0]
        actual = msg(
            "value.answered_wrong",
            good=good,
            total=total,
            data=repr(excerpt(first["data"])),
            port=first["from"],
            problem=_udp_reply_problem(first, prefix, obs.port),
        )
    else:
        actual = msg("value.answered", good=good, total=total)
    return Outcome(
        ok,
        msg("udp.replies", prefix=repr(prefix.decode()), port=obs.port),
        msg("value.replies", count=total),
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
        if problem and problem["id"] == "value.reply_from_port":
            found.append("reply_from_wrong_port")
        elif record.get("reply") is not None:
            found.append("data_changed")
    return sorted(set(found))


def _udp_reply_problem(record: dict[str, Any], prefix: bytes, port: int) -> Message | None:
    """What is wrong with the reply to one datagram, or None when nothing is."""
    if record.get("reply") is None:
        return msg("value.got_no_reply")
    if record["reply_digest"] != digest(prefix + record["data"]):
        return msg("value.got", data=repr(excerpt(record["reply"])))
    if record.get("reply_from") != port:
        return msg("value.reply_from_port", got=record.get("reply_from"), port=port)
    return None


@expectation("stdin_forwarded", TRUE)
def stdin_forwarded(obs: Observation, _: bool) -> Outcome:
    want = "".join(obs.stdin_sent).encode()
    got = obs.peer["received"].replace(b"\r", b"").replace(b"\n", b"")
    ok = bool(want) and got == want
    outcome = _bytes_outcome(
        ok,
        msg("stdin.forwarded"),
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
        if not ok and lines:
            actual = msg("value.missing", line=repr(missing[0]))
        else:
            actual = excerpt(getattr(obs, where)) or msg("value.nothing_printed")
        return Outcome(ok, msg("client.prints_pushed"), excerpt("\n".join(lines)), actual)

    return evaluate


for _where in ("stdout", "output"):
    expectation(f"{_where}_echoes_peer", TRUE)(_echoes_peer(_where))
    expectation(f"{_where}_contains_pushed", TRUE)(_contains_pushed(_where))
