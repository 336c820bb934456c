"""Editing questions: a published question gets a new version on every gradable change,
so submissions keep the spec they were graded against; diffs between versions."""

from __future__ import annotations

import difflib
from typing import Any

import sqlalchemy as sa

from app.bank.archive import render_question
from app.bank.files import BankQuestion
from app.bank.loader import GRADED_FIELDS, record_version, snapshot
from app.models import Question, QuestionVersion, db


def apply_edit(question: Question, values: dict[str, Any]) -> bool:
    """Set ``values`` on the question; returns True when this made a new version.

    A change to how a question is graded (roles, reference files, spec) makes a new
    version once learners may have submitted against the current one (it is published);
    a draft is edited in place and its current version's snapshot refreshed."""
    changed = {name for name, value in values.items() if getattr(question, name) != value}
    for name in changed:
        setattr(question, name, values[name])
    if not changed:
        return False
    graded = bool(changed & set(GRADED_FIELDS))
    if graded and question.published:
        question.version += 1
        question.validation = None
        record_version(question)
        return True
    current = _version(question, question.version)
    if current is None:
        record_version(question)
    else:
        current.snapshot = snapshot(question)
    return False


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
    pick = lambda field: {lang: data.get(f"{field}_{lang}") or "" for lang in ("zh", "en")}  # noqa: E731
    item = BankQuestion(
        slug=question.slug,
        topic=question.topic.slug,
        order=data.get("order", 0),
        kind=data.get("kind", "concept"),
        difficulty=data.get("difficulty", "medium"),
        tags=list(data.get("tags") or []),
        title=pick("title"),
        prompt=pick("prompt"),
        key_points={lang: list(data.get(f"key_points_{lang}") or []) for lang in ("zh", "en")},
        answer=pick("answer"),
        explanation=pick("explanation"),
        roles=list(data.get("roles") or []),
        starter_files=dict(data.get("starter_files") or {}),
        reference_files=dict(data.get("reference_files") or {}),
        spec=data.get("spec"),
    )
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
