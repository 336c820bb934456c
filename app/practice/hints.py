"""Hints of a code question that unlock one at a time: one more after each failed attempt."""

from __future__ import annotations

import sqlalchemy as sa

from app.models import Question, Submission, db


def all_hints(question: Question, lang: str) -> list[str]:
    """The question's own hints (bank), then each check's hints from the spec."""
    hints = list(getattr(question, f"hints_{lang}") or []) or list(
        question.hints_en or question.hints_zh or []
    )
    for check in (question.spec or {}).get("checks", []):
        for hint in [check.get("hint"), *(check.get("hints") or [])]:
            text = _text(hint, lang)
            if text and text not in hints:
                hints.append(text)
    return hints


def attempts(user_id: int, question_id: int) -> tuple[int, bool]:
    """(how many of the learner's own submissions failed, whether one passed), in one
    statement; an instructor's regrade is not the learner's attempt."""
    failed, passed = db.session.execute(
        sa.select(
            sa.func.count(sa.case((Submission.verdict == "failed", 1))),
            sa.func.count(sa.case((Submission.verdict == "passed", 1))),
        ).where(
            Submission.user_id == user_id,
            Submission.question_id == question_id,
            Submission.verdict.in_(("failed", "passed")),
            Submission.regrade_of.is_(None),
        )
    ).one()
    return failed, passed > 0


def unlocked(
    question: Question, user_id: int | None, lang: str, hints: list[str] | None = None
) -> tuple[list[str], int, bool]:
    """(the hints unlocked so far, how many there are in all, whether the learner has
    passed the question: then no more hints are promised; only known when there are
    hints); ``hints``: the question's :func:`all_hints` when the caller has them already."""
    hints = all_hints(question, lang) if hints is None else hints
    if user_id is None or not hints:
        return [], len(hints), False
    failed, passed = attempts(user_id, question.id)
    return hints[:failed], len(hints), passed


def _text(hint: object, lang: str) -> str:
    if isinstance(hint, str):
        return hint.strip()
    if isinstance(hint, dict):
        text = hint.get(lang) or hint.get("en") or ""
        return text.strip() if isinstance(text, str) else ""
    return ""
