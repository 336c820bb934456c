"""What happened, in the words a learner needs first: the crash (parsed from the
program's standard error), and the *conditions* a check's targeted hints are chosen by.

A condition is a small, closed vocabulary of things the engine can tell from a check's
observation: the program crashed, never listened, changed the data, left the connection
open... A spec's ``hints: [{when: CONDITION, en, zh}]`` are shown only when their
condition was diagnosed on a check that did not pass.
"""

from __future__ import annotations

import re
from typing import Any

from app.grading.messages import Message, msg, role_name

# What a condition means is the message ``condition.NAME`` (app/grading/messages.py); the
# studio's reference, the OpenAPI document and the README list them.
CONDITIONS: tuple[str, ...] = (
    "crashed",
    "traceback_printed",
    "not_listening",
    "wrong_address",
    "time_limit",
    "resource_limit",
    "never_connected",
    "nothing_sent",
    "no_reply",
    "data_changed",
    "data_short",
    "not_interactive",
    "never_closed",
    "reset",
    "no_reply_to_second_sender",
    "reply_from_wrong_port",
    "printed_own_data",
    "wrong_output",
    "no_timeout",
    "did_not_exit",
    "too_slow",
    "gave_up_too_soon",
)


def condition_meaning(name: str) -> Message:
    return msg(f"condition.{name}")


# The condition an expectation's failure means when it names none more precise.
BY_EXPECTATION = {
    "peer_received_nonempty": "nothing_sent",
    "echo_interactive": "not_interactive",
    "syn_sent": "never_connected",
    "handshake": "never_connected",
    "fin_from": "never_closed",
    "fin_within_ms": "never_closed",
    "no_rst": "reset",
    "no_traceback": "traceback_printed",
    "runs_at_least_ms": "gave_up_too_soon",
}
SILENT_PEERS = ("silent_tcp_server", "silent_udp_server")

# --- the crash ------------------------------------------------------------------------
_TRACEBACK = "Traceback (most recent call last):"
_FRAME = re.compile(r'^\s*File "(/work/[^"]+\.py)", line (\d+)')
_EXCEPTION = re.compile(r"^([A-Za-z_][\w.]*)(?::\s?(.*))?$")
MESSAGE_CHARS = 300


def parse_crash(stderr: str) -> dict[str, Any] | None:
    """The exception Python reported last on ``stderr``: ``{type, message, line}`` (line
    in the submitted file, the innermost frame there; None if none is), or None when
    there is no report. Reads tracebacks and SyntaxError's caret format alike."""
    lines = stderr.splitlines()[-400:]
    starts = [i for i, line in enumerate(lines) if line.startswith(_TRACEBACK)]
    if starts:
        start = starts[-1] + 1
    else:  # a SyntaxError before the program ran: File ..., the source, the caret, the error
        frames = [i for i, line in enumerate(lines) if _FRAME.match(line)]
        if not frames:
            return None
        start = frames[-1]
    line_no = None
    for index in range(start, len(lines)):
        text = lines[index]
        frame = _FRAME.match(text)
        if frame:
            line_no = int(frame.group(2))
            continue
        if not text or text[0].isspace():
            continue  # source lines, carets
        match = _EXCEPTION.match(text.rstrip())
        if not match:
            return None
        message = (match.group(2) or "").strip()
        if len(message) > MESSAGE_CHARS:
            message = message[:MESSAGE_CHARS] + "…"
        return {"type": match.group(1), "message": message, "line": line_no}
    return None


def crash_of(run: Any) -> dict[str, Any] | None:
    """The crash of a program that exited by itself with a non-zero status after Python
    reported an uncaught exception; None otherwise."""
    if not run.exited_by_itself or not run.exit_code:
        return None
    return parse_crash(run.text("stderr"))


def crash_headline(crash: dict[str, Any], role: str) -> Message:
    """``Your client crashed: SyntaxError on line 2: '(' was never closed``."""
    line, message = crash["line"], crash["message"]
    if line is not None:
        variant = "crash.line_message" if message else "crash.line"
    else:
        variant = "crash.message" if message else "crash.bare"
    return msg(variant, role=role_name(role), type=crash["type"], line=line, message=message)


# --- the conditions ---------------------------------------------------------------------
def conditions(
    obs: Any,
    failed: list[tuple[str, Any]],
    harness_condition: str | None,
    limit: str | None,
) -> list[str]:
    """Every condition diagnosed on a check, in the order of :data:`CONDITIONS`."""
    found: set[str] = set()
    if obs.crash:
        found.add("crashed")
    if harness_condition:
        found.add(harness_condition)
    if limit:
        found.add("time_limit" if limit == "time" else "resource_limit")
    for name, outcome in failed:
        named = outcome.conditions
        found.update(named if named is not None else [BY_EXPECTATION.get(name, "wrong_output")])
    if "crashed" in found:
        found.discard("traceback_printed")
    peer = obs.peer
    client_of_tcp = not obs.program_is_server and peer["kind"].endswith("server")
    if failed and client_of_tcp and not peer["kind"].startswith("udp") and not peer["connections"]:
        found.add("never_connected")
    return [name for name in CONDITIONS if name in found]


def matching_hints(check: dict[str, Any], found: list[str]) -> list[dict[str, Any]]:
    """The check's targeted hints whose condition was diagnosed, in the spec's order."""
    matched = []
    for hint in check.get("hints") or []:
        when = hint["when"] if isinstance(hint["when"], list) else [hint["when"]]
        if any(name in found for name in when):
            matched.append(dict(hint))
    return matched
