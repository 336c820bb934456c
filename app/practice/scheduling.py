"""Schedules with FSRS (the ``fsrs`` package): every rating of a question — a self-rating,
a quiz result, a graded submission — is one review of the learner's card for it.

Every function takes ``now``, so tests move the clock instead of sleeping.
"""

from __future__ import annotations

import enum
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from fsrs import Card, Rating, Scheduler, State

from app.models import PracticeCard, PracticeReview, Question, Submission, db, utcnow

RATINGS = {"again": Rating.Again, "hard": Rating.Hard, "good": Rating.Good, "easy": Rating.Easy}
STATES = {State.Learning: "learning", State.Review: "review", State.Relearning: "relearning"}
# A question is mastered once FSRS expects it to be remembered for three weeks or more
# (Anki's "mature": an interval of 21 days).
MASTERED_STABILITY = 21.0


class Source(enum.StrEnum):
    SELF = "self"
    QUIZ = "quiz"
    SUBMISSION = "submission"
    MOCK = "mock"


@cache
def scheduler() -> Scheduler:
    # No fuzzing: the same history gives the same due date (tests and learners alike).
    return Scheduler(enable_fuzzing=False)


def card_of(user_id: int, question_id: int) -> PracticeCard | None:
    return db.session.scalar(
        sa.select(PracticeCard).where(
            PracticeCard.user_id == user_id, PracticeCard.question_id == question_id
        )
    )


def review(
    user_id: int, question_id: int, rating: str, source: Source, now: datetime | None = None
) -> PracticeCard:
    """Rate the question for the learner (``rating``: again, hard, good, easy); the caller
    commits. Raises KeyError for another rating."""
    now = now or utcnow()
    fsrs_rating = RATINGS[rating]
    row = card_of(user_id, question_id)
    card = Card() if row is None else Card.from_dict(row.fsrs)
    card, _log = scheduler().review_card(card, fsrs_rating, review_datetime=now)
    if row is None:
        row = PracticeCard(user_id=user_id, question_id=question_id)
        db.session.add(row)
    row.fsrs = card.to_dict()
    row.state = STATES[card.state]
    row.due_at = card.due
    row.stability = card.stability
    row.reviews = (row.reviews or 0) + 1
    row.last_review_at = now
    row.front_since = None
    db.session.add(
        PracticeReview(
            user_id=user_id,
            question_id=question_id,
            rating=rating,
            source=source.value,
            reviewed_at=now,
            due_at=card.due,
        )
    )
    return row


def quiz_rating(score: float) -> str:
    """All correct counts as good, any wrong answer as again."""
    return "good" if score >= 1 else "again"


def submission_rating(submission: Submission) -> str | None:
    """A failing submission is again; a passing one good, or easy on the first try.
    None for a regrade or a grader error (not the learner's doing)."""
    if submission.regrade_of is not None or submission.verdict not in ("passed", "failed"):
        return None
    if submission.verdict == "failed":
        return "again"
    earlier = db.session.scalar(
        sa.select(sa.func.count(Submission.id)).where(
            Submission.user_id == submission.user_id,
            Submission.question_id == submission.question_id,
            Submission.regrade_of.is_(None),
            Submission.id < submission.id,
        )
    )
    return "easy" if not earlier else "good"


def review_submission(submission_id: int, now: datetime | None = None) -> PracticeCard | None:
    """The review a graded submission makes (called where its verdict is stored)."""
    submission = db.session.get(Submission, submission_id, populate_existing=True)
    if submission is None:
        return None
    rating = submission_rating(submission)
    if rating is None:
        return None
    return review(submission.user_id, submission.question_id, rating, Source.SUBMISSION, now)


def is_mastered(card: PracticeCard) -> bool:
    return card.state == "review" and (card.stability or 0) >= MASTERED_STABILITY


def published_question(slug: str) -> Question | None:
    return db.session.scalar(
        sa.select(Question).where(Question.slug == slug, Question.published.is_(True))
    )
