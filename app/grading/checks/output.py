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


# -- output ----------------------------------------------------------------------------
def _found(pattern: str, text: str) -> bool:
    """Does ``pattern`` match the (bounded) output, line by line?"""
    return re.search(pattern, text[:REGEX_TEXT], re.MULTILINE) is not None


def _contains(where: str) -> Callable[[Observation, str], Outcome]:
    def evaluate(obs: Observation, wanted: str) -> Outcome:
        got = getattr(obs, where)
        en, zh = _STREAM_NAMES[where]
        return Outcome(
            wanted in got,
            f"{en} should contain {wanted!r}.",
            f"{zh}应包含 {wanted!r}。",
            wanted,
            excerpt(got),
        )

    return evaluate


def _matches(where: str, negate: bool = False) -> Callable[[Observation, str | dict], Outcome]:
    def evaluate(obs: Observation, arg: str | dict) -> Outcome:
        if isinstance(arg, dict):
            pattern, describe = arg["pattern"], arg["describe"]
        else:
            pattern, describe = arg, None
        got = getattr(obs, where)
        en, zh = _STREAM_NAMES[where]
        found = _found(pattern, got)
        if describe:  # the spec says in words what the pattern looks for
            return Outcome(
                found != negate,
                f"{en} should {'not ' if negate else ''}show {describe['en']}.",
                f"{zh}{'不' if negate else ''}应包含{describe['zh']}。",
                f"not {describe['en']}" if negate else describe["en"],
                excerpt(got) or "nothing printed",
            )
        return Outcome(
            found != negate,
            f"{en} should {'not ' if negate else ''}match /{pattern}/.",
            f"{zh}{'不' if negate else ''}应匹配 /{pattern}/。",
            f"no /{pattern}/" if negate else pattern,
            excerpt(got) or "nothing printed",
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

_STREAM_NAMES = {
    "stdout": ("Standard output", "标准输出"),
    "output": ("Output (standard output or error)", "输出（标准输出或标准错误）"),
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
        f"Error output should not match /{pattern}/.",
        f"错误输出不应匹配 /{pattern}/。",
        f"no /{pattern}/",
        excerpt(obs.stderr),
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
        "The program should handle errors itself, without a traceback"
        + (f" (it ended with: {last})." if not ok else "."),
        "程序应自行处理异常，不应输出 traceback" + (f"（最后一行：{last}）。" if not ok else "。"),
        "no traceback",
        excerpt(last) if last else None,
        conditions=["crashed"] if crash else ["traceback_printed"],
    )


# -- how it ended ----------------------------------------------------------------------
@expectation("exit_code", {"type": "integer", "minimum": 0, "maximum": 255})
def exit_code(obs: Observation, code: int) -> Outcome:
    ok = obs.run.exited_by_itself and obs.run.exit_code == code
    actual = obs.run.exit_code if obs.run.exited_by_itself else "still running (stopped)"
    return Outcome(
        ok,
        f"The program should exit with status {code}.",
        f"程序应以状态码 {code} 退出。",
        code,
        actual,
        conditions=[] if obs.run.exited_by_itself else ["did_not_exit"],
    )


@expectation("exits_within_ms", MS)
def exits_within_ms(obs: Observation, limit: int) -> Outcome:
    ok = obs.run.exited_by_itself and obs.run.wall_ms <= limit
    actual = f"{obs.run.wall_ms} ms" if obs.run.exited_by_itself else "did not exit by itself"
    if obs.run.exited_by_itself:
        conditions = ["too_slow"]
    elif obs.peer["kind"] in SILENT_PEERS:
        conditions = ["no_timeout"]
    else:
        conditions = ["did_not_exit"]
    return Outcome(
        ok,
        f"The program should finish by itself within {limit / 1000:g} s.",
        f"程序应在 {limit / 1000:g} 秒内自行结束。",
        f"≤ {limit} ms",
        actual,
        conditions=conditions,
    )


@expectation("runs_at_least_ms", MS)
def runs_at_least_ms(obs: Observation, minimum: int) -> Outcome:
    """Against a silent peer, giving up at once is no timeout: it must really wait."""
    ok = obs.run.wall_ms >= minimum
    return Outcome(
        ok,
        f"The program should really wait for the server (at least {minimum} ms) before giving up.",
        f"程序应真正等待服务器（至少 {minimum} 毫秒）后再放弃。",
        f"≥ {minimum} ms",
        f"{obs.run.wall_ms} ms",
    )
