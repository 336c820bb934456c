"""What to practise next, each question's status for a learner, and their progress."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from app.models import (
    PracticeCard,
    PracticeReview,
    Question,
    QuizAttempt,
    Submission,
    Topic,
    db,
    utcnow,
)
from app.practice.scheduling import is_mastered

NEW_LIMIT = 10


def aware(moment: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; they are stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _published() -> sa.Select:
    return (
        sa.select(Question)
        .join(Question.topic)
        .where(Question.published.is_(True))
        .order_by(Topic.order, Topic.id, Question.order, Question.id)
    )


def cards(user_id: int) -> dict[int, PracticeCard]:
    rows = db.session.scalars(sa.select(PracticeCard).where(PracticeCard.user_id == user_id))
    return {row.question_id: row for row in rows}


@dataclass
class Queue:
    due: list[tuple[Question, datetime]]
    new: list[Question]
    new_total: int = 0

    @property
    def first(self) -> Question | None:
        if self.due:
            return self.due[0][0]
        return self.new[0] if self.new else None


def queue(user_id: int, now: datetime | None = None, new_limit: int = NEW_LIMIT) -> Queue:
    """Due cards (the ones a mock interview put in front first, then by due time) and
    published questions the learner has not seen yet."""
    now = now or utcnow()
    by_question = cards(user_id)
    due: list[tuple[Question, PracticeCard]] = []
    new: list[Question] = []
    for question in db.session.scalars(_published()):
        card = by_question.get(question.id)
        if card is None:
            new.append(question)
        elif card.front_since is not None or aware(card.due_at) <= now:
            due.append((question, card))
    far = datetime.max.replace(tzinfo=UTC)
    due.sort(
        key=lambda pair: (
            pair[1].front_since is None,
            aware(pair[1].front_since) if pair[1].front_since else far,
            aware(pair[1].due_at),
        )
    )
    return Queue(
        due=[(q, aware(c.due_at)) for q, c in due], new=new[:new_limit], new_total=len(new)
    )


def _passed_question_ids(user_id: int) -> set[int]:
    passed = set(
        db.session.scalars(
            sa.select(Submission.question_id).where(
                Submission.user_id == user_id,
                Submission.verdict == "passed",
                Submission.regrade_of.is_(None),
            )
        )
    )
    passed |= set(
        db.session.scalars(
            sa.select(QuizAttempt.question_id).where(
                QuizAttempt.user_id == user_id, QuizAttempt.score >= 1
            )
        )
    )
    passed |= set(
        db.session.scalars(
            sa.select(PracticeReview.question_id).where(
                PracticeReview.user_id == user_id,
                PracticeReview.source == "self",
                PracticeReview.rating.in_(("good", "easy")),
            )
        )
    )
    return passed


def statuses(user_id: int, now: datetime | None = None) -> dict[int, str]:
    """Per question id: due, mastered, passed or attempted (a new question is absent)."""
    now = now or utcnow()
    passed = _passed_question_ids(user_id)
    attempted = set(
        db.session.scalars(sa.select(Submission.question_id).where(Submission.user_id == user_id))
    )
    result: dict[int, str] = {}
    for question_id, card in cards(user_id).items():
        if aware(card.due_at) <= now or card.front_since is not None:
            result[question_id] = "due"
        elif is_mastered(card):
            result[question_id] = "mastered"
        elif question_id in passed:
            result[question_id] = "passed"
        else:
            result[question_id] = "attempted"
    for question_id in attempted - set(result):
        result[question_id] = "passed" if question_id in passed else "attempted"
    return result


def progress(user_id: int, now: datetime | None = None) -> list[dict]:
    """Per topic with published questions: seen, passed, mastered, due."""
    now = now or utcnow()
    by_question = cards(user_id)
    passed = _passed_question_ids(user_id)
    topics: dict[int, dict] = {}
    for question in db.session.scalars(_published()):
        entry = topics.setdefault(
            question.topic_id,
            {"topic": question.topic, "seen": 0, "passed": 0, "mastered": 0, "due": 0},
        )
        card = by_question.get(question.id)
        entry["seen"] += card is not None
        entry["passed"] += question.id in passed
        entry["mastered"] += card is not None and is_mastered(card)
        entry["due"] += card is not None and aware(card.due_at) <= now
    return list(topics.values())


def practice_days(user_id: int) -> set[date]:
    moments = db.session.scalars(
        sa.select(PracticeReview.reviewed_at).where(PracticeReview.user_id == user_id)
    )
    return {aware(moment).date() for moment in moments}


def streak(user_id: int, today: date | None = None) -> int:
    """Practice days in a row up to today (or up to yesterday, while today is still open)."""
    days = practice_days(user_id)
    day = today or utcnow().date()
    if day not in days:
        day -= timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count


def daily(user_id: int, today: date | None = None, days: int = 30) -> list[tuple[date, int, int]]:
    """(day, reviews, passes) for each of the last ``days`` days, oldest first."""
    today = today or utcnow().date()
    start = today - timedelta(days=days - 1)
    since = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    reviews = Counter(
        aware(m).date()
        for m in db.session.scalars(
            sa.select(PracticeReview.reviewed_at).where(
                PracticeReview.user_id == user_id, PracticeReview.reviewed_at >= since
            )
        )
    )
    passes = Counter(
        aware(m).date()
        for m in db.session.scalars(
            sa.select(Submission.finished_at).where(
                Submission.user_id == user_id,
                Submission.verdict == "passed",
                Submission.regrade_of.is_(None),
                Submission.finished_at >= since,
            )
        )
    )
    passes.update(
        aware(m).date()
        for m in db.session.scalars(
            sa.select(QuizAttempt.created_at).where(
                QuizAttempt.user_id == user_id,
                QuizAttempt.score >= 1,
                QuizAttempt.created_at >= since,
            )
        )
    )
    return [
        (
            start + timedelta(days=i),
            reviews[start + timedelta(days=i)],
            passes[start + timedelta(days=i)],
        )
        for i in range(days)
    ]
