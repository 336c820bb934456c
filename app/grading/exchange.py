"""What a reference peer records of a check, within a fixed budget.

Whatever the program sends, a peer's record and its work stay bounded: it keeps the first
STORED_BYTES of each direction (with the total and a digest of all), a head and a digest
of each datagram, and it stops serving once it has handled BUDGET_BYTES or
BUDGET_DATAGRAMS: past that a flood costs the grader nothing but the kernel's drops.
"""

from __future__ import annotations

import hashlib
import os
import string
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from app.grading.messages import Message
from app.grading.transcript import Transcript

STORED_BYTES = 4 * 1024 * 1024  # as much as a spec sends (tcp_client size ≤ 4 MiB)
BUDGET_BYTES = 16 * 1024 * 1024  # received by one peer in one check (specs send ≤ 4 MiB)
BUDGET_DATAGRAMS = 1000  # handled by one peer in one check
DATAGRAM_HEAD = 64  # bytes kept of each datagram and reply
MAX_EVENTS = 200

_ALPHABET = (string.ascii_letters + string.digits).encode()
_TO_ALPHABET = bytes(_ALPHABET[i % len(_ALPHABET)] for i in range(256))


def nonce(length: int) -> bytes:
    """Random letters and digits: a reply the program cannot know in advance."""
    return os.urandom(max(length, 1)).translate(_TO_ALPHABET)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Stream:
    """Bytes in one direction: the first STORED_BYTES, plus the total and a digest of all."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.total = 0
        self._digest = hashlib.sha256()

    def __iadd__(self, chunk: bytes) -> Stream:
        self.total += len(chunk)
        self._digest.update(chunk)
        room = STORED_BYTES - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        return self

    def digest(self) -> str:
        return self._digest.hexdigest()


def datagram_record(source_port: int, data: bytes, whole: bool = False) -> dict[str, Any]:
    """One datagram as a peer keeps it: who sent it, its size, its head (all of it when
    ``whole``: the peer's own, from the spec) and its digest."""
    kept = data if whole else data[:DATAGRAM_HEAD]
    return {"from": source_port, "size": len(data), "data": kept, "digest": digest(data)}


def add_reply(record: dict[str, Any], reply: bytes | None, reply_port: int | None = None) -> None:
    if reply is None:
        record.update(reply=None, reply_size=0, reply_digest=None, reply_from=None)
        return
    record.update(
        reply=reply[:DATAGRAM_HEAD],
        reply_size=len(reply),
        reply_digest=digest(reply),
        reply_from=reply_port,
    )


@dataclass
class Exchange:
    """What one peer saw: bytes in both directions (and both, in order, in its
    transcript), events in order, how it ended."""

    transcript: Transcript = field(default_factory=Transcript)
    received: Stream = field(init=False)
    sent: Stream = field(init=False)
    events: list[dict[str, Any]] = field(default_factory=list)
    events_dropped: int = 0
    connections: int = 0
    ports: set[int] = field(default_factory=set)  # the far end of each of its connections
    eof: bool = False  # the program closed its side (FIN reached us)
    reset: bool = False  # the program reset the connection
    error: Message | None = None
    datagrams: list[dict[str, Any]] = field(default_factory=list)
    datagrams_handled: int = 0
    unanswered: int | None = None  # the first message whose echo did not come in time
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.received = Stream()
        self.sent = Stream()

    def sending(self, data: bytes, port: int | None) -> None:
        """The peer is about to send ``data`` on the flow of ``port`` (the end that is not
        the check's port): in the transcript before the reply to it."""
        self.transcript.add("peer", data, port)

    def receive(self, data: bytes, port: int | None) -> None:
        """The program sent ``data``, on the flow of ``port``."""
        self.transcript.add("program", data, port)
        self.received += data

    def log(self, started: float, kind: str, data: bytes = b"") -> None:
        if len(self.events) >= MAX_EVENTS:
            self.events_dropped += 1
            return
        entry: dict[str, Any] = {
            "t_ms": round((time.monotonic() - started) * 1000, 1),
            "event": kind,
        }
        if data:
            entry["bytes"] = len(data)
            entry["text"] = data[:120].decode("utf-8", "replace")
        self.events.append(entry)

    def note_error(self, message: Message) -> None:
        """Keep the first problem the peer met (later ones are usually its echoes)."""
        with self._lock:
            if self.error is None:
                self.error = message

    def within_budget(self) -> bool:
        return self.received.total < BUDGET_BYTES and self.datagrams_handled < BUDGET_DATAGRAMS
