"""A plain-text report of a grading result, for the CLI.

Program output reaches a terminal here: every value that may hold it is made inert first
(:func:`terminal_safe`), so a program can neither clear the screen nor draw a report of
its own; its extra lines are indented under the field they belong to.
"""

from __future__ import annotations

import re
from typing import Any

from app.grading.engine import GradeResult
from app.grading.messages import render_in

MARKS = {"passed": "PASS", "failed": "FAIL", "error": "ERR ", "skipped": "SKIP"}
# C0 controls but tab and newline, DEL, C1 controls: what a terminal may act on.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: Any) -> str:
    """``text`` with every control character a terminal acts on shown as an escape."""
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def _field(value: Any, indent: str) -> str:
    """A value on one report line: inert, its own newlines indented under it."""
    return terminal_safe(value).replace("\n", "\n" + indent + "| ")


def format_report(result: GradeResult, lang: str = "en") -> str:
    def say(value: Any) -> Any:
        return render_in(value, lang)

    lines = []
    for check in result.checks:
        kind = "" if check.required else (" (advisory)" if lang == "en" else "（建议项）")
        usage = _usage(check.resources, lang)
        lines.append(f"{MARKS[check.status]}  {check.title[lang]}{kind}  [{check.role}]{usage}")
        if check.status in ("failed", "error"):
            lines.append(f"      {_field(say(check.message), '      ')}")
            for item in check.expectations:
                if not item["ok"]:
                    lines.append(f"      - {_field(say(item['message']), '        ')}")
                    lines.append(f"        expected: {_field(say(item['expected']), '          ')}")
                    lines.append(f"        actual:   {_field(say(item['actual']), '          ')}")
            for hint in check.hints:
                lines.append(f"      hint ({_when(hint['when'])}): {hint[lang]}")
            if check.hint:
                lines.append(f"      hint: {check.hint[lang]}")
            lines.extend(_transcript(check.transcript))
            if check.stderr.strip():
                tail = check.stderr.strip().splitlines()[-3:]
                lines.extend(f"      stderr| {terminal_safe(line)}" for line in tail)
    lines.append("")
    lines.append(f"{result.verdict.upper()}  score {result.score:.0%}  {say(result.message)}")
    return "\n".join(lines)


def _when(when: str | list[str]) -> str:
    return ", ".join(when) if isinstance(when, list) else when


TRANSCRIPT_LINES = 6
TRANSCRIPT_CHARS = 70


def _transcript(entries: list[dict]) -> list[str]:
    """The first exchanges of the conversation, one line each: ``peer> b"hello\n"``."""
    lines = []
    for entry in entries[:TRANSCRIPT_LINES]:
        text = entry["text"]
        cut = "…" if len(text) > TRANSCRIPT_CHARS or entry["truncated"] else ""
        who = "peer   " if entry["from"] == "peer" else "program"
        shown = terminal_safe(text[:TRANSCRIPT_CHARS])
        lines.append(f'      {who}> b"{shown}"{cut}  ({entry["size"]} bytes)')
    if len(entries) > TRANSCRIPT_LINES:
        lines.append(f"      … {len(entries) - TRANSCRIPT_LINES} more")
    return lines


def _usage(resources: dict, lang: str) -> str:
    """``  (41 ms, CPU 30 ms, 4.2 MiB)``: the program's wall time, CPU time, memory peak."""
    parts = []
    if resources.get("wall_ms") is not None:
        parts.append(f"{resources['wall_ms']} ms")
    if resources.get("cpu_ms") is not None:
        parts.append(f"CPU {resources['cpu_ms']} ms")
    if resources.get("peak_memory_bytes"):
        mib = resources["peak_memory_bytes"] / (1024 * 1024)
        parts.append(f"{mib:.1f} MiB" if lang == "en" else f"内存 {mib:.1f} MiB")
    return f"  ({', '.join(parts)})" if parts else ""
