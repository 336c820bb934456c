"""Editing questions: a published question gets a new version on every graded change,
so submissions keep the spec they were graded against; diffs between versions."""

from __future__ import annotations

import difflib
from typing import Any

import sqlalchemy as sa

from app.bank import document
from app.bank.archive import render_question
from app.bank.loader import apply_values
from app.models import Question, QuestionVersion, db


def apply_edit(question: Question, values: dict[str, Any]) -> bool:
    """Set ``values`` on the question; returns True when this made a new version (the
    one rule: app/bank/document.py, applied by app/bank/loader.apply_values)."""
    return apply_values(question, values)


def _version(question: Question, number: int) -> QuestionVersion | None:
    return db.session.scalar(
        sa.select(QuestionVersion).where(
            QuestionVersion.question_id == question.id, QuestionVersion.version == number
        )
    )


def versions(question: Question) -> list[QuestionVersion]:
    return list(
        db.session.scalars(
            sa.select(QuestionVersion)
            .where(QuestionVersion.question_id == question.id)
            .order_by(QuestionVersion.version)
        )
    )


def _as_text(question: Question, data: dict[str, Any]) -> list[str]:
    item = document.from_columns(data, question.slug, question.topic.slug)
    return render_question(item).splitlines(keepends=True)


def diff(question: Question, old: int, new: int) -> str:
    """A unified diff of two versions, in the bank file format instructors edit."""
    before, after = _version(question, old), _version(question, new)
    if before is None or after is None:
        raise LookupError(f"no version {old if before is None else new} of {question.slug}")
    return "".join(
        difflib.unified_diff(
            _as_text(question, before.snapshot),
            _as_text(question, after.snapshot),
            fromfile=f"{question.slug} v{old}",
            tofile=f"{question.slug} v{new}",
        )
    )
