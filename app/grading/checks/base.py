"""The frame of expectations: an :class:`Observation` of what really happened, the
:class:`Outcome` of judging it, and the registry every expectation module adds to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from app.grading import trace
from app.grading.diagnosis import crash_of
from app.grading.messages import Message
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

    @cached_property
    def crash(self) -> dict[str, Any] | None:
        """The uncaught exception the program ended with (type, message, line), if any."""
        return crash_of(self.run)

    @property
    def stdout(self) -> str:
        return self.run.text("stdout")

    @property
    def stderr(self) -> str:
        return self.run.text("stderr")

    @property
    def output(self) -> str:
        """What the program reported: standard output, then standard error (print or
        logging: both are the program's words)."""
        stdout, stderr = self.stdout, self.stderr
        return f"{stdout}\n{stderr}" if stdout and stderr else stdout or stderr

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
    message: Message
    expected: Any = None  # plain data, or a Message when it is words
    actual: Any = None
    # What the failure means (diagnosis.CONDITIONS); None: the expectation's default.
    conditions: list[str] | None = None
    # Byte checks: how the bytes differ (transcript.compare).
    diff: dict[str, Any] | None = None


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
    return text if len(text) <= limit else text[:limit] + "…"


TRUE = {"const": True}
BILINGUAL = {
    "type": "object",
    "required": ["en", "zh"],
    "additionalProperties": False,
    "properties": {
        "en": {"type": "string", "minLength": 1},
        "zh": {"type": "string", "minLength": 1},
    },
}
TEXT = {"type": "string", "minLength": 1}
MS = {"type": "integer", "minimum": 1}
