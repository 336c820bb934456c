"""How learners do, per question: attempts, learners, pass rate, the check that fails most,
and the median time from a learner's first attempt to their first pass."""

from __future__ import annotations

import csv
import io
import statistics
from dataclasses import asdict, dataclass
from datetime import datetime

import sqlalchemy as sa

from app.models import FailedCheck, Question, Submission, Topic, db


@dataclass
class QuestionStats:
    slug: str
    title: str
    attempts: int
    learners: int
    graded: int
    passed: int
    pass_rate: float | None  # share of graded submissions that passed
    top_failing_check: str | None
    top_failing_count: int
    median_minutes_to_pass: float | None


_LISTED = sa.select(Question.id, Question.slug, Question.title_zh, Question.title_en)


def topic_stats(topic: Topic, lang: str = "en") -> list[QuestionStats]:
    """Every code question of ``topic``."""
    return _stats(
        _LISTED.where(Question.topic_id == topic.id, Question.kind == "code").order_by(
            Question.order
        ),
        lang,
    )


def question_stats(question: Question, lang: str = "en") -> QuestionStats:
    return _stats(_LISTED.where(Question.id == question.id), lang)[0]


def _stats(listed: sa.Select, lang: str) -> list[QuestionStats]:
    """Computed by the database in three grouped queries that read an index and the
    failed-check rows, never a submission's result: a page's query count does not grow
    with its questions, submissions or learners."""
    questions = db.session.execute(listed).all()
    ids = [q.id for q in questions]
    counted = _counts(ids)
    failing = _top_failing(ids)
    minutes = _minutes_to_pass(ids)
    rows = []
    for q in questions:
        attempts, learners, graded, passed = counted.get(q.id, (0, 0, 0, 0))
        top, top_count = failing.get(q.id, (None, 0))
        waits = minutes.get(q.id, [])
        rows.append(
            QuestionStats(
                slug=q.slug,
                title=(q.title_zh if lang == "zh" else q.title_en) or q.title_en or q.title_zh,
                attempts=attempts,
                learners=learners,
                graded=graded,
                passed=passed,
                pass_rate=round(passed / graded, 4) if graded else None,
                top_failing_check=top,
                top_failing_count=top_count,
                median_minutes_to_pass=round(statistics.median(waits), 2) if waits else None,
            )
        )
    return rows


def _learner_submissions(ids: list[int]) -> list[sa.ColumnElement[bool]]:
    """Regrades are not counted: each learner submission counts once."""
    return [Submission.question_id.in_(ids), Submission.regrade_of.is_(None)]


def _counts(ids: list[int]) -> dict[int, tuple[int, int, int, int]]:
    """Attempts, learners, graded and passed submissions per question."""
    done = Submission.status == "done"
    rows = db.session.execute(
        sa.select(
            Submission.question_id,
            sa.func.count(),
            sa.func.count(sa.distinct(Submission.user_id)),
            sa.func.count(sa.case((done, 1))),
            sa.func.count(sa.case((sa.and_(done, Submission.verdict == "passed"), 1))),
        )
        .where(*_learner_submissions(ids))
        .group_by(Submission.question_id)
    ).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def _top_failing(ids: list[int]) -> dict[int, tuple[str, int]]:
    """The required check graded submissions fail most, per question (ties: by id)."""
    count = sa.func.count().label("failures")
    rows = db.session.execute(
        sa.select(Submission.question_id, FailedCheck.check_id, count)
        .join(FailedCheck, FailedCheck.submission_id == Submission.id)
        .where(*_learner_submissions(ids), Submission.status == "done")
        .group_by(Submission.question_id, FailedCheck.check_id)
        .order_by(Submission.question_id, count.desc(), FailedCheck.check_id)
    ).all()
    top: dict[int, tuple[str, int]] = {}
    for question_id, check_id, failures in rows:
        top.setdefault(question_id, (check_id, failures))
    return top


def _minutes_to_pass(ids: list[int]) -> dict[int, list[float]]:
    """Per question, each learner who passed: minutes from their first attempt to their
    first pass (one row per learner and question from the database)."""
    first_pass = sa.func.min(sa.case((Submission.verdict == "passed", Submission.created_at)))
    rows = db.session.execute(
        sa.select(
            Submission.question_id,
            sa.func.min(Submission.created_at),
            first_pass.label("first_pass"),
        )
        .where(*_learner_submissions(ids))
        .group_by(Submission.question_id, Submission.user_id)
        .having(first_pass.is_not(None))
    ).all()
    waits: dict[int, list[float]] = {}
    for question_id, first_try, passed_at in rows:
        passed_at = _as_datetime(passed_at)
        first_try = _as_datetime(first_try)
        waits.setdefault(question_id, []).append((passed_at - first_try).total_seconds() / 60)
    return waits


def _as_datetime(value: object) -> datetime:
    """SQLite hands an aggregate of a CASE back as text; PostgreSQL as a datetime."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime.fromisoformat(str(value)).replace(tzinfo=None)


def to_csv(rows: list[QuestionStats]) -> str:
    buffer = io.StringIO()
    fields = list(QuestionStats.__dataclass_fields__)
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(value) for key, value in asdict(row).items()})
    return buffer.getvalue()


def _cell(value: object) -> object:
    """Text a spreadsheet would run as a formula is quoted (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def pass_rate_chart(rows: list[QuestionStats], width: int = 640, bar: int = 26) -> dict:
    """Layout of a horizontal bar chart of pass rates, for an inline SVG template."""
    label_width, gap = 170, 8
    scale = width - label_width - 60
    bars = []
    for index, row in enumerate(rows):
        rate = row.pass_rate or 0.0
        bars.append(
            {
                "y": index * (bar + gap),
                "label": row.slug,
                "width": round(rate * scale, 1),
                "rate": row.pass_rate,
                "attempts": row.attempts,
            }
        )
    return {
        "width": width,
        "height": max(len(rows) * (bar + gap), bar),
        "bar": bar,
        "label_width": label_width,
        "scale": scale,
        "bars": bars,
    }
