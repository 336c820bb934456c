"""What the reference peer and the program said to each other, in order, as people read it.

A peer records every chunk it sent or received (:class:`Transcript`), keeping the first
CAP_BYTES of each direction; the result shows them as a conversation. Bytes become text
where printable (:func:`escape_bytes`: ``hello\\n``, ``\\x00``), and byte checks name the
first difference between what was expected and what came (:func:`first_difference`).
"""

from __future__ import annotations

import threading
import time
import unicodedata
from typing import Any

from app.grading.messages import Message, bare_code, msg

CAP_BYTES = 4 * 1024  # kept per direction
WINDOW = 48  # bytes shown either side of a difference
_NAMED = {0x5C: "\\\\", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x22: '\\"'}


def escape_bytes(data: bytes) -> str:
    """``data`` as text: printable ASCII and valid UTF-8 letters as they are, ``\\n``,
    ``\\r``, ``\\t``, ``\\\\``, ``\\"`` and ``\\xNN`` for every other byte (the inside of a
    ``b"..."`` literal, with UTF-8 text left readable)."""
    out: list[str] = []
    i = 0
    while i < len(data):
        byte = data[i]
        if byte in _NAMED:
            out.append(_NAMED[byte])
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        elif byte >= 0xC2 and (char := _utf8_char(data, i)):
            out.append(char)
            i += len(char.encode())
            continue
        else:
            out.append(f"\\x{byte:02x}")
        i += 1
    return "".join(out)


def _utf8_char(data: bytes, start: int) -> str | None:
    """The printable UTF-8 character starting at ``start``, if one does."""
    for length in (2, 3, 4):
        try:
            char = data[start : start + length].decode("utf-8")
        except UnicodeDecodeError:
            continue
        category = unicodedata.category(char)
        return None if category[0] in "CZ" else char
    return None


def literal(data: bytes) -> str:
    """``b"hello\\n"``."""
    return f'b"{escape_bytes(data)}"'


def first_difference(expected: bytes, actual: bytes) -> int | None:
    """The 0-based offset of the first byte where ``actual`` differs from ``expected``
    (the end of the shorter one when one is a prefix of the other); None when equal."""
    if expected == actual:
        return None
    for offset, (a, b) in enumerate(zip(expected, actual, strict=False)):
        if a != b:
            return offset
    return min(len(expected), len(actual))


END = "the end"  # the byte "at" an offset past the data (diff's expected_byte/actual_byte)
BYTES = ("expected_byte", "actual_byte")


def _byte_at(data: bytes, offset: int) -> str:
    """The byte at ``offset``, escaped and bare (``h``, ``\\n``): a page shows it in
    ``<code>``, a message's plain text in backquotes (messages.CODE_PARAMS)."""
    return escape_bytes(data[offset : offset + 1]) if offset < len(data) else END


def stored_checks(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored checks as the engine makes them now: results graded before held the bytes
    of each difference in backquotes (`` `h` ``); read bare, as :func:`compare` makes them.
    Engine 1 also stored a byte check's actual value as English text (the literal, then
    the difference with its bytes in backquotes): read as the message it is now."""
    return [_stored_check(check) for check in checks]


def _stored_check(check: Any) -> Any:
    items = check.get("expectations") if isinstance(check, dict) else None
    if not isinstance(items, list):
        return check
    return {**check, "expectations": [_stored_expectation(item) for item in items]}


def _stored_expectation(item: Any) -> Any:
    stored = item.get("diff") if isinstance(item, dict) else None
    if not isinstance(stored, dict):
        return item
    bare = {key: bare_code(stored[key]) for key in BYTES if isinstance(stored.get(key), str)}
    item = {**item, "diff": {**stored, **bare}}
    actual = item.get("actual")
    if isinstance(actual, str) and actual == _engine_1_actual(stored):
        note = difference_note(item["diff"])
        item["actual"] = msg("value.with_note", value=stored["actual"], note=note)
    return item


def _engine_1_actual(diff: dict[str, Any]) -> str | None:
    """The actual value engine 1 stored beside ``diff`` (its bytes in backquotes)."""
    try:
        got = diff["actual_byte"]
        if got == END:
            got = f"the end ({diff['actual_total']} of {diff['expected_total']} bytes)"
        return (
            f"{diff['actual']} — differs from offset {diff['offset']}: "
            f"expected {diff['expected_byte']}, got {got}"
        )
    except KeyError:
        return None


def compare(expected: bytes, actual: bytes, expected_total: int, actual_total: int) -> dict:
    """How ``actual`` differs from ``expected`` (both possibly the kept heads of longer
    streams of ``*_total`` bytes): the offset, the bytes there, windows of both around it
    as literals, and whether ``actual`` was cut short or changed. Empty when equal."""
    offset = first_difference(expected, actual)
    if offset is None:
        if expected_total == actual_total:
            return {}
        offset = min(len(expected), len(actual))
    start = max(offset - WINDOW // 2, 0)
    short = offset >= len(actual) and actual_total < expected_total
    return {
        "offset": offset,
        "expected_byte": _byte_at(expected, offset),
        "actual_byte": _byte_at(actual, offset),
        "window_start": start,
        "expected": _window(expected, start),
        "actual": _window(actual, start),
        # the windows' escaped text before, at and after the difference (to mark it)
        "expected_parts": _parts(expected, start, offset),
        "actual_parts": _parts(actual, start, offset),
        "kind": "short" if short else "changed",
        "expected_total": expected_total,
        "actual_total": actual_total,
    }


def _window(data: bytes, start: int) -> str:
    """A literal of ``data`` from ``start``, at most 2*WINDOW bytes, with ``…`` where cut."""
    part = literal(data[start : start + 2 * WINDOW])
    return ("…" if start else "") + part + ("…" if len(data) > start + 2 * WINDOW else "")


def _parts(data: bytes, start: int, offset: int) -> list[str]:
    end = start + 2 * WINDOW
    return [
        escape_bytes(data[start:offset]),
        escape_bytes(data[offset : offset + 1]),
        escape_bytes(data[offset + 1 : end]),
    ]


def difference_note(diff: dict) -> Message:
    """``differs from offset 0: expected `h`, got `H```: the bytes bare in the message's
    parameters, in backquotes in its plain text, in ``<code>`` on a page."""
    want, got = diff["expected_byte"], diff["actual_byte"]
    if got == END:
        got = msg("diff.the_end_of", got=diff["actual_total"], total=diff["expected_total"])
    if want == END:
        want = msg("diff.the_end")
    return msg("diff.at_offset", offset=diff["offset"], expected=want, actual=got)


class Transcript:
    """Chunks in the order they were sent or received, the first CAP_BYTES per direction."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.entries: list[dict[str, Any]] = []
        self.kept = {"peer": 0, "program": 0}
        self.totals = {"peer": 0, "program": 0}
        self._lock = threading.Lock()

    def add(self, side: str, chunk: bytes, port: int | None = None) -> None:
        """``side`` ("peer" or "program") sent ``chunk`` on the connection (or, for UDP,
        from or to the socket) whose other end than the check's port is ``port``."""
        with self._lock:
            offset = self.totals[side]
            self.totals[side] += len(chunk)
            room = CAP_BYTES - self.kept[side]
            if room <= 0:
                return
            kept = chunk[:room]
            self.kept[side] += len(kept)
            self.entries.append(
                {
                    "from": side,
                    "port": port,
                    "t_ms": round((time.monotonic() - self.started) * 1000, 1),
                    "offset": offset,
                    "size": len(chunk),
                    "data": kept,
                }
            )

    def to_json(self) -> list[dict[str, Any]]:
        """The entries as the result object holds them: ``text`` (escaped), ``hex``,
        ``truncated`` (this chunk was cut at the cap), ``more_after`` (the direction went
        on beyond the cap: ``total`` is its full size)."""
        with self._lock:
            entries = list(self.entries)
            totals = dict(self.totals)
            kept = dict(self.kept)
        last = {e["from"]: index for index, e in enumerate(entries)}
        out = []
        for index, entry in enumerate(entries):
            side, data = entry["from"], entry["data"]
            capped = last[side] == index and totals[side] > kept[side]
            out.append(
                {
                    "from": side,
                    "port": entry["port"],
                    "t_ms": entry["t_ms"],
                    "offset": entry["offset"],
                    "size": entry["size"],
                    "text": escape_bytes(data),
                    "hex": data.hex(" "),
                    "truncated": len(data) < entry["size"],
                    "more_after": capped,
                    "total": totals[side],
                }
            )
        return out
