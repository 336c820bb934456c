"""The OpenAPI schemas of one graded check (the engine's CheckResult): its resources,
expectations, diagnosis, chosen hints and transcript. Part of app/api/openapi.py's
document; tests/api validate real graded results against them."""

from __future__ import annotations

from typing import Any

from app.grading.diagnosis import CONDITIONS, condition_meaning
from app.grading.limits import LIMIT_NAMES
from app.grading.messages import MESSAGES, render
from app.grading.transcript import CAP_BYTES


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


CONDITION = {
    "enum": list(CONDITIONS),
    "description": "What the grader diagnosed: "
    + "; ".join(f"`{name}`: {render(condition_meaning(name), 'en')}" for name in CONDITIONS)
    + ".",
}

MESSAGE = {
    "type": "object",
    "description": "A message of the grader: a stable `id` and its `params` (README: "
    "messages), rendered in English (`en`) and Simplified Chinese (`zh`). A parameter may "
    "be a message itself. Results graded before engine 2.0 hold `en` and `zh` only.",
    "properties": {
        "id": {"enum": sorted(MESSAGES)},
        "params": {"type": "object"},
        "en": {"type": "string"},
        "zh": {"type": "string"},
    },
    "required": ["en", "zh"],
}
VALUE = "text, number, null, or a Message when it is words"

BYTE_DIFF = {
    "type": "object",
    "description": "Byte checks that failed: where what arrived first differs from what "
    "was expected. Literals are shown as people read bytes: printable text as it is, "
    '`\\n`, `\\r`, `\\t`, `\\\\`, `\\"` and `\\xNN` for the rest.',
    "properties": {
        "offset": {"type": "integer", "minimum": 0, "description": "0-based."},
        "expected_byte": {
            "type": "string",
            "description": "The expected byte at the offset, escaped as in the literals and "
            "bare (`h`, `\\n`, `\\x00`; the message's text puts it in backquotes), or "
            "`the end` past the expected bytes.",
        },
        "actual_byte": {
            "type": "string",
            "description": "The byte that arrived there, the same way, or `the end` past "
            "what arrived.",
        },
        "kind": {
            "enum": ["changed", "short"],
            "description": "`short`: what arrived is a cut-short prefix of what was expected.",
        },
        "window_start": {
            "type": "integer",
            "description": "Where the literals below start (a window around the offset).",
        },
        "expected": {"type": "string", "description": 'The expected bytes, `b"…"`.'},
        "actual": {"type": "string", "description": 'The bytes that arrived, `b"…"`.'},
        "expected_parts": {
            "type": "array",
            "items": {"type": "string"},
            "minItems": 3,
            "maxItems": 3,
            "description": "The expected window's escaped text before, at and after the "
            "offset (to mark the difference).",
        },
        "actual_parts": {
            "type": "array",
            "items": {"type": "string"},
            "minItems": 3,
            "maxItems": 3,
            "description": "The same for the bytes that arrived.",
        },
        "expected_total": {"type": "integer"},
        "actual_total": {"type": "integer"},
    },
    "required": ["offset", "expected_byte", "actual_byte", "kind", "expected", "actual"],
}

EXPECTATION = {
    "type": "object",
    "description": "One expectation of the check's spec, judged.",
    "properties": {
        "name": {"type": "string", "description": "The expectation, e.g. `echo_exact`."},
        "ok": {"type": "boolean"},
        "message": _ref("Message"),
        "expected": {"description": f"What was expected ({VALUE})."},
        "actual": {"description": f"What happened ({VALUE})."},
        "diff": BYTE_DIFF,
    },
    "required": ["name", "ok", "message", "expected", "actual"],
}

TRANSCRIPT_ENTRY = {
    "type": "object",
    "description": f"One chunk sent or received by the reference peer, in order. The first "
    f"{CAP_BYTES // 1024} KiB of each direction are kept; later chunks are counted in "
    "`total` only.",
    "additionalProperties": False,
    "properties": {
        "from": {
            "enum": ["peer", "program"],
            "description": "Who sent it: the reference peer or the submitted program.",
        },
        "port": {
            "type": ["integer", "null"],
            "description": "Which connection (TCP) or which sender (UDP): the port of its "
            "end that is not the check's port.",
        },
        "t_ms": {"type": "number", "description": "When, in ms from the peer's start."},
        "offset": {
            "type": "integer",
            "minimum": 0,
            "description": "Where the chunk starts in its direction's stream (0-based).",
        },
        "size": {"type": "integer", "minimum": 0, "description": "The chunk's full size."},
        "text": {
            "type": "string",
            "description": "The kept bytes as text: printable ASCII and valid UTF-8 "
            'characters as they are, `\\n`, `\\r`, `\\t`, `\\\\`, `\\"` and `\\xNN` for '
            "every other byte (the inside of a Python bytes literal).",
        },
        "hex": {"type": "string", "description": "The kept bytes in hex, space-separated."},
        "truncated": {
            "type": "boolean",
            "description": "Only the head of this chunk was kept (the direction's cap).",
        },
        "more_after": {
            "type": "boolean",
            "description": "The last kept chunk of a direction that went on beyond the cap.",
        },
        "total": {"type": "integer", "description": "All the bytes of this direction."},
    },
    "required": ["from", "offset", "size", "text", "hex", "truncated", "more_after", "total"],
}

TARGETED_HINT = {
    "type": "object",
    "description": "A hint of the spec whose condition was diagnosed on this check.",
    "properties": {
        "when": {"anyOf": [CONDITION, {"type": "array", "items": CONDITION}]},
        "en": {"type": "string"},
        "zh": {"type": "string"},
    },
    "required": ["when", "en", "zh"],
}

DIAGNOSIS = {
    "type": "object",
    "description": "What went wrong (empty for a skipped check).",
    "properties": {
        "conditions": {"type": "array", "items": CONDITION},
        "crash": _nullable(
            {
                "type": "object",
                "description": "The uncaught exception the program ended with (non-zero "
                "exit), parsed from its standard error; the check's message names it.",
                "properties": {
                    "type": {"type": "string", "examples": ["SyntaxError"]},
                    "message": {"type": "string"},
                    "line": _nullable(
                        {"type": "integer", "description": "Line in the submitted file."}
                    ),
                },
                "required": ["type", "message", "line"],
            }
        ),
    },
}

RESOURCES = {
    "type": "object",
    "description": "What the submitted program used and how it ended (empty when the "
    "check was skipped).",
    "properties": {
        "wall_ms": {"type": "integer"},
        "cpu_ms": _nullable({"type": "integer"}),
        "peak_memory_bytes": _nullable({"type": "integer"}),
        "exit_code": _nullable({"type": "integer"}),
        "signal": _nullable({"type": "integer"}),
        "stopped_by_grader": {"type": "boolean"},
        "limit": _nullable(
            {
                "enum": list(LIMIT_NAMES),
                "description": "The limit the program hit, if any.",
            }
        ),
        "stdout_bytes": {"type": "integer"},
        "stderr_bytes": {"type": "integer"},
    },
}

CHECK_RESULT = {
    "type": "object",
    "description": "One check as graded (see README: the result object).",
    "properties": {
        "id": {"type": "string"},
        "title": _ref("Localized"),
        "role": {"type": "string"},
        "required": {"type": "boolean"},
        "status": {"enum": ["passed", "failed", "error", "skipped"]},
        "message": {
            **_ref("Message"),
            "description": "The headline: a limit hit, the crash (type, message, line), "
            "the server never listening, or the first failed expectation.",
        },
        "expectations": {"type": "array", "items": _ref("Expectation")},
        "hint": _nullable(
            {
                **_ref("Localized"),
                "description": "The spec's general hint; null when a targeted hint matched.",
            }
        ),
        "hints": {"type": "array", "items": _ref("TargetedHint")},
        "diagnosis": _ref("Diagnosis"),
        "stdout": {"type": "string"},
        "stderr": {"type": "string"},
        "duration_ms": {"type": "integer"},
        "resources": _ref("Resources"),
        "peer": {
            "type": "object",
            "description": "The reference peer's summary: kind, received_bytes and "
            "sent_bytes (totals), excerpts, events, connections, error.",
        },
        "trace": {
            "type": "array",
            "items": {"type": "object"},
            "description": "The packets of the check's capture.",
        },
        "transcript": {"type": "array", "items": _ref("TranscriptEntry")},
    },
    "required": ["id", "title", "role", "required", "status", "message"],
}


def result_schemas() -> dict[str, Any]:
    return {
        "Message": MESSAGE,
        "Resources": RESOURCES,
        "CheckResult": CHECK_RESULT,
        "Expectation": EXPECTATION,
        "TranscriptEntry": TRANSCRIPT_ENTRY,
        "TargetedHint": TARGETED_HINT,
        "Diagnosis": DIAGNOSIS,
    }
