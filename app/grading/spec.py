"""The grading spec: its schema, validation with precise messages, and defaults.

A spec is plain data (stored as JSON, written as YAML)::

    port: 65432                 # the address contract: 127.0.0.1:PORT
    limits: {wall_ms: 10000}    # optional overrides of the sandbox limits
    checks:
      - id: echo-basic
        title: {en: Echoes a short message, zh: 回显一条短消息}
        role: server            # which submitted file runs
        required: true          # false = advisory: feedback without failing
        peer: {kind: tcp_client, messages: ["hello"]}
        stdin: [{wait_ms: 200}, {send: "hi"}, {close: true}]   # optional script
        finish: peer            # exit (default for clients) | peer (default for servers)
        timeout_ms: 8000
        expect:
          - echo_exact: true
          - no_traceback: true
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import yaml

from app.grading.checks import EXPECTATIONS
from app.grading.checks.base import BILINGUAL
from app.grading.diagnosis import CONDITIONS
from app.grading.limits import Limits
from app.grading.peers import CATALOG

DEFAULT_PORT = 65432
REGEX_EXPECTATIONS = (
    "stdout_matches",
    "stdout_not_matches",
    "output_matches",
    "output_not_matches",
    "stderr_not_matches",
)

_INT = {"type": "integer", "minimum": 0}
_STRINGS = {"type": "array", "items": {"type": "string"}}
_CONDITION = {"enum": list(CONDITIONS)}
# A hint for one diagnosis (or several): shown only when one of them was diagnosed.
TARGETED_HINT = {
    "type": "object",
    "required": ["when", "en", "zh"],
    "additionalProperties": False,
    "properties": {
        "when": {"oneOf": [_CONDITION, {"type": "array", "items": _CONDITION, "minItems": 1}]},
        "en": {"type": "string", "minLength": 1},
        "zh": {"type": "string", "minLength": 1},
    },
}

PEER_PARAMS: dict[str, dict[str, Any]] = {
    "nothing_listening": {},
    "tcp_echo_server": {
        "nonce": {"type": "boolean"},
        "split": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"segment": {"type": "integer", "minimum": 1}, "delay_ms": _INT},
        },
    },
    "silent_tcp_server": {},
    "silent_udp_server": {},
    "sink_server": {},
    "reset_server": {"after_ms": _INT},
    "push_server": {
        "nonce": {"type": "boolean"},
        "lines": _STRINGS,
        "first_delay_ms": _INT,
        "interval_ms": _INT,
        "hold_ms": _INT,
    },
    "udp_ack_server": {"prefix": {"type": "string"}, "nonce": {"type": "boolean"}},
    "tcp_client": {
        "messages": _STRINGS,
        "size": {"type": "integer", "minimum": 1, "maximum": 4 * 1024 * 1024},
        "chunk": {"type": "integer", "minimum": 1},
        "delay_ms": _INT,
        "read_delay_ms": _INT,
        "half_close": {"type": "boolean"},
        "wait_for_eof": {"type": "boolean"},
        "text": {"type": "boolean"},
        "interactive": {"type": "boolean"},
        "reply_timeout_ms": _INT,
        "eof_timeout_ms": _INT,
        "read_start_ms": _INT,
        "rcvbuf": {"type": "integer", "minimum": 1024, "maximum": 4 * 1024 * 1024},
    },
    "udp_client": {
        "datagrams": {**_STRINGS, "minItems": 1},
        "senders": {"type": "integer", "minimum": 1, "maximum": 8},
        "reply_timeout_ms": _INT,
    },
}
assert set(PEER_PARAMS) == set(CATALOG), "every peer in the catalog has a parameter schema"


def _peer_schema() -> dict[str, Any]:
    variants = []
    for kind, params in PEER_PARAMS.items():
        variants.append(
            {
                "if": {"properties": {"kind": {"const": kind}}},
                "then": {
                    "properties": {"kind": {"const": kind}, **params},
                    "additionalProperties": False,
                },
            }
        )
    return {
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"enum": sorted(CATALOG)}},
        "allOf": variants,
    }


STDIN_STEP = {
    "type": "object",
    "minProperties": 1,
    "maxProperties": 1,
    "additionalProperties": False,
    "properties": {"wait_ms": _INT, "send": {"type": "string"}, "close": {"const": True}},
}

CHECK_SCHEMA = {
    "type": "object",
    "required": ["id", "title", "role", "peer", "expect"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"},
        "title": BILINGUAL,
        "hint": BILINGUAL,
        "hints": {"type": "array", "items": TARGETED_HINT},
        "role": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,31}$"},
        "required": {"type": "boolean"},
        "peer": _peer_schema(),
        "stdin": {"type": "array", "items": STDIN_STEP},
        "finish": {"enum": ["exit", "peer"]},
        "timeout_ms": {"type": "integer", "minimum": 100, "maximum": 60_000},
        "settle_ms": {"type": "integer", "minimum": 0, "maximum": 10_000},
        "expect": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "minProperties": 1,
                "maxProperties": 1,
                "additionalProperties": False,
                "properties": {name: e.schema for name, e in EXPECTATIONS.items()},
            },
        },
    },
}

SPEC_SCHEMA = {
    "type": "object",
    "required": ["checks"],
    "additionalProperties": False,
    "properties": {
        "port": {"type": "integer", "minimum": 1024, "maximum": 65535},
        "limits": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                name: {"type": "integer", "minimum": 1} for name in Limits.__dataclass_fields__
            },
        },
        "checks": {"type": "array", "minItems": 1, "items": CHECK_SCHEMA},
    },
}

_VALIDATOR = jsonschema.Draft202012Validator(SPEC_SCHEMA)


class SpecError(ValueError):
    """An invalid spec; ``path`` locates the problem (e.g. ["checks", 2, "peer"])."""

    def __init__(self, message: str, path: list[str | int] | None = None):
        self.path = path or []
        where = "/".join(str(p) for p in self.path)
        super().__init__(f"{where}: {message}" if where else message)


def validate_spec(spec: Any, roles: list[str] | None = None) -> list[SpecError]:
    """Every problem of ``spec`` (empty list when valid). ``roles`` are the question's."""
    errors = [
        SpecError(error.message, list(error.absolute_path))
        for error in sorted(_VALIDATOR.iter_errors(spec), key=lambda e: list(e.absolute_path))
    ]
    if errors:
        return errors
    seen: set[str] = set()
    for index, check in enumerate(spec["checks"]):
        for position, item in enumerate(check["expect"]):
            ((name, pattern),) = item.items()
            if name in REGEX_EXPECTATIONS:
                if isinstance(pattern, dict):
                    pattern = pattern["pattern"]
                try:
                    re.compile(pattern)
                except re.error as exc:
                    errors.append(
                        SpecError(
                            f"invalid regular expression: {exc}",
                            ["checks", index, "expect", position, name],
                        )
                    )
        if check["id"] in seen:
            errors.append(SpecError(f"duplicate check id '{check['id']}'", ["checks", index, "id"]))
        seen.add(check["id"])
        if roles is not None and check["role"] not in roles:
            errors.append(
                SpecError(
                    f"role '{check['role']}' is not one of the question's roles {roles}",
                    ["checks", index, "role"],
                )
            )
    return errors


def check_spec(spec: Any, roles: list[str] | None = None) -> dict[str, Any]:
    """Return ``spec`` if valid, else raise the first :class:`SpecError`."""
    errors = validate_spec(spec, roles)
    if errors:
        raise errors[0]
    return spec


def spec_roles(spec: dict[str, Any]) -> list[str]:
    roles: list[str] = []
    for check in spec["checks"]:
        if check["role"] not in roles:
            roles.append(check["role"])
    return roles


class SpecSyntaxError(SpecError):
    """A spec written as YAML that could not be read, or that breaks the schema; ``line``
    is 1-based."""

    def __init__(self, message: str, line: int | None, path: list[str | int] | None = None):
        self.line = line
        super().__init__(message, path)
        if line:
            self.args = (f"line {line}: {self.args[0]}",)


def _node_at(root: yaml.Node, path: list[str | int]) -> yaml.Node:
    """The YAML node at ``path`` (as deep as it exists), for its line number."""
    node = root
    for key in path:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == key), None)
            if match is None:
                return next((k for k, _ in node.value if k.value == key), node)
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            return node
    return node


def parse_spec_yaml(
    text: str, roles: list[str] | None = None
) -> tuple[dict[str, Any] | None, list[SpecSyntaxError]]:
    """Read a YAML spec; every problem comes with the line it is on."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        spec = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [SpecSyntaxError(f"YAML: {problem}", mark.line + 1 if mark else None)]
    if root is None:
        return None, [SpecSyntaxError("the spec is empty", 1)]
    errors = [
        SpecSyntaxError(
            str(e).split(": ", 1)[-1] if e.path else str(e),
            _node_at(root, e.path).start_mark.line + 1,
            e.path,
        )
        for e in validate_spec(spec, roles)
    ]
    return (None if errors else spec), errors


def dump_spec_yaml(spec: dict[str, Any]) -> str:
    return yaml.safe_dump(spec, allow_unicode=True, sort_keys=False, width=100)
