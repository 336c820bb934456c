"""Expectations on what the program printed and how it ended.

``output_*`` read what the program reports on standard output *and* standard error (print
or logging, in that order); ``stdout_*`` read standard output only.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from app.grading.checks.base import (
    BILINGUAL,
    MS,
    REGEX_TEXT,
    TEXT,
    TRACEBACK,
    TRUE,
    Observation,
    Outcome,
    excerpt,
    expectation,
)
from app.grading.diagnosis import SILENT_PEERS
from app.grading.messages import msg, seconds


# -- output ----------------------------------------------------------------------------
def _found(pattern: str, text: str) -> bool:
    """Does ``pattern`` match the (bounded) output, line by line?"""
    return re.search(pattern, text[:REGEX_TEXT], re.MULTILINE) is not None


def _contains(where: str) -> Callable[[Observation, str], Outcome]:
    def evaluate(obs: Observation, wanted: str) -> Outcome:
        got = getattr(obs, where)
        return Outcome(
            wanted in got,
            msg("output.contains", stream=msg(f"stream.{where}"), wanted=repr(wanted)),
            wanted,
            excerpt(got) or msg("value.nothing_printed"),
        )

    return evaluate


def _matches(where: str, negate: bool = False) -> Callable[[Observation, str | dict], Outcome]:
    def evaluate(obs: Observation, arg: str | dict) -> Outcome:
        if isinstance(arg, dict):
            pattern, describe = arg["pattern"], arg["describe"]
        else:
            pattern, describe = arg, None
        got = getattr(obs, where)
        stream = msg(f"stream.{where}")
        found = _found(pattern, got)
        actual = excerpt(got) or msg("value.nothing_printed")
        if describe:  # the spec says in words what the pattern looks for
            return Outcome(
                found != negate,
                msg("output.not_shows" if negate else "output.shows", stream=stream, what=describe),
                msg("value.not", what=describe) if negate else describe,
                actual,
            )
        return Outcome(
            found != negate,
            msg(f"output.{'not_matches' if negate else 'matches'}", stream=stream, pattern=pattern),
            msg("value.no_pattern", pattern=pattern) if negate else pattern,
            actual,
        )

    return evaluate


# A pattern, or a pattern with a sentence that says what it looks for (shown as expected).
PATTERN = {
    "oneOf": [
        TEXT,
        {
            "type": "object",
            "required": ["pattern", "describe"],
            "additionalProperties": False,
            "properties": {"pattern": TEXT, "describe": BILINGUAL},
        },
    ]
}

for _where in ("stdout", "output"):
    expectation(f"{_where}_contains", TEXT)(_contains(_where))
    expectation(f"{_where}_matches", PATTERN)(_matches(_where))
    expectation(f"{_where}_not_matches", PATTERN)(_matches(_where, negate=True))


@expectation("stderr_not_matches", TEXT)
def stderr_not_matches(obs: Observation, pattern: str) -> Outcome:
    ok = not _found(pattern, obs.stderr)
    return Outcome(
        ok,
        msg("output.not_matches", stream=msg("stream.stderr"), pattern=pattern),
        msg("value.no_pattern", pattern=pattern),
        excerpt(obs.stderr) or msg("value.nothing_printed"),
    )


@expectation("no_traceback", TRUE)
def no_traceback(obs: Observation, _: bool) -> Outcome:
    """No traceback on standard error, and no crash: a SyntaxError prints none, yet the
    program died of an uncaught exception all the same."""
    crash = obs.crash
    ok = TRACEBACK not in obs.stderr and crash is None
    last = obs.stderr.strip().splitlines()[-1] if obs.stderr.strip() else ""
    return Outcome(
        ok,
        msg("output.no_traceback_ended", last=last) if not ok else msg("output.no_traceback"),
        msg("value.no_traceback"),
        excerpt(last) if last else None,
        conditions=["crashed"] if crash else ["traceback_printed"],
    )


# -- how it ended ----------------------------------------------------------------------
@expectation("exit_code", {"type": "integer", "minimum": 0, "maximum": 255})
def exit_code(obs: Observation, code: int) -> Outcome:
    ok = obs.run.exited_by_itself and obs.run.exit_code == code
    actual = obs.run.exit_code if obs.run.exited_by_itself else msg("value.still_running")
    return Outcome(
        ok,
        msg("exit.status", code=code),
        code,
        actual,
        conditions=[] if obs.run.exited_by_itself else ["did_not_exit"],
    )


@expectation("exits_within_ms", MS)
def exits_within_ms(obs: Observation, limit: int) -> Outcome:
    ok = obs.run.exited_by_itself and obs.run.wall_ms <= limit
    if obs.run.exited_by_itself:
        actual = msg("value.ms", ms=obs.run.wall_ms)
    else:
        actual = msg("value.did_not_exit")
    if obs.run.exited_by_itself:
        conditions = ["too_slow"]
    elif obs.peer["kind"] in SILENT_PEERS:
        conditions = ["no_timeout"]
    else:
        conditions = ["did_not_exit"]
    return Outcome(
        ok,
        msg("exit.within", seconds=seconds(limit)),
        msg("value.at_most_ms", ms=limit),
        actual,
        conditions=conditions,
    )


@expectation("runs_at_least_ms", MS)
def runs_at_least_ms(obs: Observation, minimum: int) -> Outcome:
    """Against a silent peer, giving up at once is no timeout: it must really wait."""
    ok = obs.run.wall_ms >= minimum
    return Outcome(
        ok,
        msg("exit.waits_at_least", ms=minimum),
        msg("value.at_least_ms", ms=minimum),
        msg("value.ms", ms=obs.run.wall_ms),
    )
