"""Judging one check's observation: each expectation's outcome, the diagnosis (crash and
conditions), the headline, and the hints chosen by what happened."""

from __future__ import annotations

from typing import Any

from app.grading.checks import EXPECTATIONS, Observation, Outcome
from app.grading.diagnosis import conditions, crash_headline, matching_hints
from app.grading.limits import Limits, describe_limit
from app.grading.messages import Message, msg


def judge(
    result: Any,
    check: dict[str, Any],
    obs: Observation,
    harness_problem: dict[str, Any] | None,
    limits: Limits,
) -> None:
    """Fill ``result`` (a CheckResult) from ``obs``. The headline, first that applies: a
    limit other than time; the crash (when anything failed); the harness's problem (never
    listened, wrong port); the time limit; the first failed expectation."""
    outcomes: list[tuple[str, Outcome]] = []
    for item in check["expect"]:
        ((name, arg),) = item.items()
        outcomes.append((name, EXPECTATIONS[name].evaluate(obs, arg)))
    result.expectations = [_expectation(name, o) for name, o in outcomes]
    failed = [(name, o) for name, o in outcomes if not o.ok]
    problem = harness_problem["message"] if harness_problem else None
    harness_condition = harness_problem["when"] if harness_problem else None
    limit = obs.run.limit
    crash = obs.crash
    if limit and limit != "time":
        result.message = _limit_message(limit, limits, check)
    elif crash and (failed or problem):
        result.message = crash_headline(crash, check["role"])
    elif problem:
        result.message = problem
    elif limit:
        result.message = _limit_message(limit, limits, check)
    elif failed:
        result.message = failed[0][1].message
    else:
        result.status = "passed"
        result.message = msg("check.passed")
        result.diagnosis = {"conditions": [], "crash": None}
        return
    result.status = "failed"
    found = conditions(obs, failed, harness_condition, limit)
    result.diagnosis = {"conditions": found, "crash": crash}
    result.hints = matching_hints(check, found)
    if result.hints:
        result.hint = None  # the targeted hints say it better than the general one


def _limit_message(limit: str, limits: Limits, check: dict[str, Any]) -> Message:
    return msg("check.limit_hit", limit=describe_limit(limit, limits, check.get("timeout_ms")))


def _expectation(name: str, outcome: Outcome) -> dict[str, Any]:
    item = {
        "name": name,
        "ok": outcome.ok,
        "message": outcome.message,
        "expected": outcome.expected,
        "actual": outcome.actual,
    }
    if outcome.diff:
        item["diff"] = outcome.diff
    return item
