"""How learners do, per question: attempts, learners, pass rate, the check that fails most,
and the median time from a learner's first attempt to their first pass."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from dataclasses import asdict, dataclass

import sqlalchemy as sa

from app.models import Question, Submission, Topic, db


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


def question_stats(question: Question, lang: str = "en") -> QuestionStats:
    rows = db.session.scalars(
        sa.select(Submission)
        .where(Submission.question_id == question.id, Submission.regrade_of.is_(None))
        .order_by(Submission.created_at)
    ).all()
    graded = [s for s in rows if s.status == "done"]
    passed = [s for s in graded if s.verdict == "passed"]
    failing: Counter[str] = Counter()
    for submission in graded:
        for check in (submission.result or {}).get("checks", []):
            if check.get("required") and check.get("status") == "failed":
                failing[check["id"]] += 1
    first_try: dict[int, object] = {}
    first_pass: dict[int, object] = {}
    for submission in rows:
        first_try.setdefault(submission.user_id, submission.created_at)
        if submission.verdict == "passed":
            first_pass.setdefault(submission.user_id, submission.created_at)
    minutes = [(first_pass[u] - first_try[u]).total_seconds() / 60 for u in first_pass]
    top = failing.most_common(1)
    return QuestionStats(
        slug=question.slug,
        title=question.text("title", lang),
        attempts=len(rows),
        learners=len({s.user_id for s in rows}),
        graded=len(graded),
        passed=len(passed),
        pass_rate=round(len(passed) / len(graded), 4) if graded else None,
        top_failing_check=top[0][0] if top else None,
        top_failing_count=top[0][1] if top else 0,
        median_minutes_to_pass=round(statistics.median(minutes), 2) if minutes else None,
    )


def topic_stats(topic: Topic, lang: str = "en") -> list[QuestionStats]:
    questions = db.session.scalars(
        sa.select(Question)
        .where(Question.topic_id == topic.id, Question.kind == "code")
        .order_by(Question.order)
    ).all()
    return [question_stats(q, lang) for q in questions]


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
