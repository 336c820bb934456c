"""Validate a question before publishing: its spec is valid, its reference solution passes
every required check, and every known-wrong answer fails (with the expected check).

The grading itself never runs in the web process: :func:`start_validation` queues a job
for the grading service (:mod:`app.jobs.validation`); the studio page follows it."""

from __future__ import annotations

from typing import Any

from app.grading.messages import Message, msg
from app.jobs import dispatcher
from app.jobs.validation import (
    PENDING,
    needs_grading,
    request_validation,
    state_of,
    validate_question,
)
from app.models import Question, db

__all__ = ["publish", "publish_problems", "start_validation", "validate_question"]


def start_validation(question: Question) -> dict[str, Any]:
    """Queue the validation for the grading service; a question with nothing to grade (a
    concept question, an invalid spec) gets its report at once."""
    if not needs_grading(question):
        return validate_question(question)
    job = request_validation(question)
    dispatcher().enqueue_validation(question.id)
    return job


def publish_problems(question: Question) -> list[Message | str]:
    """Why the question cannot be published now (empty when it can): messages, and the
    spec's errors as they are (technical: a path in the spec and what is wrong there)."""
    report = question.validation
    if not report or report.get("version") != question.version:
        return [msg("validation.run_first")]
    if state_of(report) in PENDING:
        return [msg("validation.still_running")]
    problems: list[Message | str] = list(report.get("spec_errors", []))
    if report.get("error"):
        problems.append(report["error"])
    reference = report.get("reference")
    if question.is_code and reference and not reference["ok"]:
        problems.append(msg("validation.reference_fails", checks=reference["failed_checks"]))
    for wrong in report.get("wrong", []):
        if not wrong["ok"]:
            problems.append(
                msg("validation.wrong_passes", name=wrong["name"], verdict=wrong["verdict"])
            )
    if not problems and not report.get("publishable"):
        problems.append(msg("validation.did_not_pass"))
    return problems


def publish(question: Question) -> list[Message | str]:
    problems = publish_problems(question)
    if not problems:
        question.published = True
        db.session.commit()
    return problems
