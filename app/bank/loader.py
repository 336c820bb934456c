"""Load bank files into the database: idempotent, never touching users or submissions."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from app.bank import document
from app.bank.files import (
    BankFormatError,
    BankQuestion,
    BankTopic,
    BankWrongAnswer,
    read_directory,
)
from app.models import KnownWrongAnswer, Question, QuestionVersion, Topic, db

BUILTIN_BANK = Path(__file__).parent


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def record_version(question: Question) -> None:
    db.session.add(
        QuestionVersion(
            question=question, version=question.version, snapshot=document.snapshot(question)
        )
    )


def _current_version(question: Question) -> QuestionVersion | None:
    return db.session.scalar(
        sa.select(QuestionVersion).where(
            QuestionVersion.question_id == question.id,
            QuestionVersion.version == question.version,
        )
    )


def apply_values(question: Question, values: dict[str, Any], *, force: bool = False) -> bool:
    """Set ``values`` on an existing question under the one versioning rule
    (document.needs_new_version); True when this made a new version. ``force`` refreshes
    the snapshot even when no column changed (the caller changed something else)."""
    changed = document.changed_fields(question, values)
    for name in changed:
        setattr(question, name, values[name])
    if not changed and not force:
        return False
    if changed & set(document.GRADED_FIELDS):
        question.validation = None  # it covered what was graded before
    if document.needs_new_version(question, changed):
        question.version += 1
        record_version(question)
        return True
    current = _current_version(question)
    if current is None:
        record_version(question)
    else:
        current.snapshot = document.snapshot(question)
    return False


def upsert_topic(item: BankTopic) -> Topic:
    topic = db.session.scalar(sa.select(Topic).where(Topic.slug == item.slug))
    if topic is None:
        topic = Topic(slug=item.slug)
        db.session.add(topic)
    topic.order = item.order
    topic.title_zh, topic.title_en = item.title["zh"], item.title["en"]
    topic.overview_zh, topic.overview_en = item.overview["zh"], item.overview["en"]
    return topic


def upsert_question(
    item: BankQuestion, topic: Topic, *, published: bool, source: str, report: LoadReport
) -> Question:
    values = document.to_columns(item)
    question = db.session.scalar(sa.select(Question).where(Question.slug == item.slug))
    if question is None:
        question = Question(slug=item.slug, topic=topic, published=published, source=source)
        for name, value in values.items():
            setattr(question, name, value)
        db.session.add(question)
        db.session.flush()
        record_version(question)
        sync_wrong_answers(question, item.wrong_answers)
        report.created.append(item.slug)
        return question
    changed = document.changed_fields(question, values)
    if question.topic_id != topic.id:
        question.topic = topic
        changed.add("topic")
    if sync_wrong_answers(question, item.wrong_answers):
        question.validation = None  # it judged other wrong answers
        changed.add("wrong_answers")
    if not changed:
        report.unchanged.append(item.slug)
        return question
    apply_values(question, values, force=True)
    report.updated.append(item.slug)
    return question


def sync_wrong_answers(question: Question, answers: list[BankWrongAnswer]) -> bool:
    """Add or update the file's known-wrong answers of ``question``, by name; True when
    anything changed. Wrong answers an instructor added in the studio are kept."""
    stored = {
        row.name: row
        for row in db.session.scalars(
            sa.select(KnownWrongAnswer).where(KnownWrongAnswer.question_id == question.id)
        )
    }
    changed = False
    for answer in answers:
        row = stored.get(answer.name)
        if row is None:
            row = KnownWrongAnswer(question=question, name=answer.name)
            db.session.add(row)
        elif row.files == answer.files and row.failing_check == answer.fails:
            continue
        row.files, row.failing_check = dict(answer.files), answer.fails
        changed = True
    return changed


def load_bank(folder: Path = BUILTIN_BANK, *, published: bool = True) -> LoadReport:
    """Create or update the topics and questions found in ``folder``; commit once at the end."""
    topics, questions = read_directory(folder)
    report = LoadReport()
    by_slug = {t.slug: upsert_topic(t) for t in topics}
    for item in questions:
        topic = by_slug.get(item.topic) or db.session.scalar(
            sa.select(Topic).where(Topic.slug == item.topic)
        )
        if topic is None:
            db.session.rollback()
            raise BankFormatError(f"unknown topic '{item.topic}'", None, item.slug)
        upsert_question(item, topic, published=published, source="bank", report=report)
    db.session.commit()
    return report
