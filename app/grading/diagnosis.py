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

# name -> (en, zh): what the condition means; the studio's reference and the README list them.
CONDITIONS: dict[str, tuple[str, str]] = {
    "crashed": (
        "the program ended with an uncaught exception (a SyntaxError, an ImportError …)",
        "程序因未捕获的异常而结束（SyntaxError、ImportError 等）",
    ),
    "traceback_printed": (
        "a traceback was printed, though the program did not end with it",
        "输出了 traceback，但程序并未因此结束",
    ),
    "not_listening": (
        "the server never listened on the port (it exited first, or took too long)",
        "服务器从未在端口上监听（先退出了，或等待超时）",
    ),
    "wrong_address": (
        "the server listened on another port, or an address the client cannot reach",
        "服务器监听在其他端口，或客户端无法到达的地址上",
    ),
    "time_limit": (
        "the grader stopped the program at the check's wall-clock time limit",
        "评分器在本项检查的运行时间上限处终止了程序",
    ),
    "resource_limit": (
        "the program hit another limit (memory, CPU, processes, output, disk, open files)",
        "程序触及了其他限制（内存、CPU、进程、输出、磁盘、打开文件数）",
    ),
    "never_connected": (
        "the client never connected to the reference server",
        "客户端从未连接到参考服务器",
    ),
    "nothing_sent": (
        "the reference peer received nothing from the program",
        "参考端没有收到程序发送的任何数据",
    ),
    "no_reply": (
        "nothing came back to the reference peer",
        "参考端没有收到任何回复",
    ),
    "data_changed": (
        "bytes came back (or arrived) different from what was expected",
        "返回（或收到）的字节与预期不同",
    ),
    "data_short": (
        "the bytes were right but cut short: fewer than expected",
        "字节内容正确但不完整：比预期少",
    ),
    "not_interactive": (
        "a message was not echoed while the client waited for it (the server waits for more)",
        "客户端等待回显时没有收到（服务器在等待更多数据）",
    ),
    "never_closed": (
        "the program left the connection open (no FIN)",
        "程序没有关闭连接（没有 FIN）",
    ),
    "reset": (
        "the program aborted the connection with a reset (RST)",
        "程序以 RST 中止了连接",
    ),
    "no_reply_to_second_sender": (
        "UDP: the first sender got replies, another sender did not",
        "UDP：第一个发送方收到了回复，另一个发送方没有",
    ),
    "reply_from_wrong_port": (
        "UDP: a reply came from another port than the server's",
        "UDP：回复来自服务器端口以外的端口",
    ),
    "printed_own_data": (
        "the client printed what it sent, not the reply it received",
        "客户端打印的是它发送的内容，而不是收到的回复",
    ),
    "wrong_output": (
        "the program did not print what was expected",
        "程序没有输出预期的内容",
    ),
    "no_timeout": (
        "against a server that never answers, the program waited until it was stopped",
        "面对从不回复的服务器，程序一直等到被终止",
    ),
    "did_not_exit": (
        "the program did not exit by itself",
        "程序没有自行退出",
    ),
    "too_slow": (
        "the program exited by itself, but later than allowed",
        "程序自行退出了，但晚于允许的时间",
    ),
    "gave_up_too_soon": (
        "the program gave up without really waiting",
        "程序没有真正等待就放弃了",
    ),
}

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


_ROLE_NAMES = {"server": ("server", "服务器"), "client": ("client", "客户端")}


def crash_headline(crash: dict[str, Any], role: str) -> dict[str, str]:
    """``Your client crashed: SyntaxError on line 2: '(' was never closed``."""
    en_role, zh_role = _ROLE_NAMES.get(role, (f"'{role}' program", f"“{role}”程序"))
    kind, message, line = crash["type"], crash["message"], crash["line"]
    en = f"Your {en_role} crashed: {kind}"
    zh = f"你的{zh_role}崩溃了："
    if line is not None:
        en += f" on line {line}"
        zh += f"第 {line} 行 "
    zh += kind
    if message:
        en += f": {message}"
        zh += f"：{message}"
    return {"en": en, "zh": zh}


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
