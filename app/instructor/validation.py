"""Validate a question before publishing: its spec is valid, its reference solution passes
every required check, and every known-wrong answer fails (with the expected check)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.grading.engine import GradeResult, grade
from app.grading.spec import validate_spec
from app.models import KnownWrongAnswer, Question, db, utcnow


def _summary(result: GradeResult) -> dict[str, Any]:
    return {
        "verdict": result.verdict,
        "score": result.score,
        "message": result.message,
        "failed_checks": [
            c.id for c in result.checks if c.required and c.status in ("failed", "error")
        ],
        "advisory_failed": [c.id for c in result.checks if not c.required and c.status == "failed"],
    }


def validate_question(question: Question) -> dict[str, Any]:
    """Run the validation, store it on the question (for its current version), return it."""
    report: dict[str, Any] = {
        "version": question.version,
        "ran_at": utcnow().isoformat(),
        "spec_errors": [],
        "reference": None,
        "wrong": [],
    }
    if not question.is_code:
        report["publishable"] = True
        return _store(question, report)
    errors = validate_spec(question.spec, question.roles) if question.spec else []
    if not question.spec:
        report["spec_errors"] = ["a code question needs a grading spec"]
    report["spec_errors"] += [str(e) for e in errors]
    if report["spec_errors"]:
        report["publishable"] = False
        return _store(question, report)

    reference = grade(question.spec, question.reference_files)
    report["reference"] = {
        **_summary(reference),
        "result": reference.to_dict(),
        "ok": reference.verdict == "passed",
    }
    answers = db.session.scalars(
        sa.select(KnownWrongAnswer)
        .where(KnownWrongAnswer.question_id == question.id)
        .order_by(KnownWrongAnswer.id)
    ).all()
    for answer in answers:
        result = grade(question.spec, answer.files)
        summary = _summary(result)
        ok = result.verdict == "failed" and (
            answer.failing_check is None or answer.failing_check in summary["failed_checks"]
        )
        report["wrong"].append(
            {
                "id": answer.id,
                "name": answer.name,
                "expected": "failed",
                "expected_check": answer.failing_check,
                **summary,
                "ok": ok,
            }
        )
    report["publishable"] = report["reference"]["ok"] and all(w["ok"] for w in report["wrong"])
    return _store(question, report)


def _store(question: Question, report: dict[str, Any]) -> dict[str, Any]:
    question.validation = report
    db.session.commit()
    return report


def publish_problems(question: Question) -> list[str]:
    """Why the question cannot be published now (empty when it can)."""
    report = question.validation
    if not report or report.get("version") != question.version:
        return ["Run the validation for the current version first."]
    problems = list(report.get("spec_errors", []))
    reference = report.get("reference")
    if question.is_code and reference and not reference["ok"]:
        problems.append("The reference solution fails: " + ", ".join(reference["failed_checks"]))
    for wrong in report.get("wrong", []):
        if not wrong["ok"]:
            problems.append(
                f"The known-wrong answer '{wrong['name']}' does not fail as expected"
                f" (verdict {wrong['verdict']})."
            )
    return problems


def publish(question: Question) -> list[str]:
    problems = publish_problems(question)
    if not problems:
        question.published = True
        db.session.commit()
    return problems
