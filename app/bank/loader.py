"""Load bank files into the database: idempotent, never touching users or submissions."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from app.bank.files import (
    BankFormatError,
    BankQuestion,
    BankTopic,
    BankWrongAnswer,
    read_directory,
)
from app.models import KnownWrongAnswer, Question, QuestionVersion, Topic, db

BUILTIN_BANK = Path(__file__).parent

# Changing any of these changes how a question is graded, so it makes a new version.
GRADED_FIELDS = ("roles", "reference_files", "spec")


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def question_fields(item: BankQuestion) -> dict[str, Any]:
    values: dict[str, Any] = {
        "order": item.order,
        "kind": item.kind,
        "difficulty": item.difficulty,
        "tags": item.tags,
        "roles": item.roles,
        "starter_files": item.starter_files,
        "reference_files": item.reference_files,
        "spec": item.spec,
    }
    for lang in ("zh", "en"):
        values[f"title_{lang}"] = item.title[lang]
        values[f"prompt_{lang}"] = item.prompt[lang]
        values[f"key_points_{lang}"] = item.key_points[lang]
        values[f"answer_{lang}"] = item.answer[lang]
        values[f"explanation_{lang}"] = item.explanation[lang]
    return values


def snapshot(question: Question) -> dict[str, Any]:
    """The gradable and displayed content of a question, as stored with each version."""
    columns = [c.key for c in Question.__table__.columns]
    skip = {
        "id",
        "topic_id",
        "created_at",
        "updated_at",
        "published",
        "version",
        "source",
        "validation",
    }
    return {name: getattr(question, name) for name in columns if name not in skip}


def record_version(question: Question) -> None:
    db.session.add(
        QuestionVersion(question=question, version=question.version, snapshot=snapshot(question))
    )


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
    values = question_fields(item)
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
    changed = {n for n, v in values.items() if getattr(question, n) != v}
    if question.topic_id != topic.id:
        question.topic = topic
        changed.add("topic")
    if sync_wrong_answers(question, item.wrong_answers):
        question.validation = None  # it judged other wrong answers
        changed.add("wrong_answers")
    if not changed:
        report.unchanged.append(item.slug)
        return question
    for name in changed - {"topic", "wrong_answers"}:
        setattr(question, name, values[name])
    if changed & set(GRADED_FIELDS):
        question.version += 1
        question.validation = None  # it covered the previous version
        record_version(question)
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
