"""Quiz attempts and mock interviews: what the pages and the API both call."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from app.bank import quiz
from app.models import (
    MockInterview,
    PracticeReview,
    Question,
    QuizAttempt,
    Submission,
    Topic,
    db,
    utcnow,
)
from app.practice.queue import aware, cards
from app.practice.scheduling import Source, card_of, quiz_rating, review

MOCK_COUNTS = range(1, 11)
MOCK_MINUTES = range(1, 121)
SELF_STRENGTH = {"again": 0.0, "hard": 0.5, "good": 0.8, "easy": 1.0}
WEAK_BELOW = 0.6


class PracticeError(ValueError):
    """Input the practice services refuse (the pages say it, the API answers 422)."""


def answer_quiz(
    user_id: int, question: Question, answers: Any, now: datetime | None = None
) -> dict[str, Any]:
    """Grade the answers, store the attempt and rate the card (the caller commits).
    Raises quiz.QuizAnswerError (nothing is stored) or PracticeError."""
    if not question.quiz:
        raise PracticeError("this question has no quiz items")
    now = now or utcnow()
    result = quiz.grade(question.quiz, answers)
    db.session.add(
        QuizAttempt(
            user_id=user_id,
            question_id=question.id,
            question_version=question.version,
            answers=answers,
            results=[{"id": r["id"], "correct": r["correct"]} for r in result["items"]],
            score=result["score"],
            created_at=now,
        )
    )
    card = review(user_id, question.id, quiz_rating(result["score"]), Source.QUIZ, now)
    return {**result, "due_at": card.due_at, "state": card.state}


def latest_attempt(user_id: int, question_id: int) -> QuizAttempt | None:
    return db.session.scalar(
        sa.select(QuizAttempt)
        .where(QuizAttempt.user_id == user_id, QuizAttempt.question_id == question_id)
        .order_by(QuizAttempt.id.desc())
        .limit(1)
    )


# -- mock interviews ---------------------------------------------------------------------


def _pick(questions: list[Question], count: int, seen: set[int]) -> list[Question]:
    """A mix of concept and code questions, unseen and due ones first within each kind."""
    kinds: dict[str, list[Question]] = {"concept": [], "code": []}
    for question in questions:
        kinds.setdefault(question.kind, []).append(question)
    for group in kinds.values():
        random.shuffle(group)
        group.sort(key=lambda q: q.id in seen)
    picked: list[Question] = []
    order = ["concept", "code"]
    while len(picked) < count and any(kinds[k] for k in order):
        for kind in order:
            if kinds[kind] and len(picked) < count:
                picked.append(kinds[kind].pop(0))
    return picked


def start_mock(
    user_id: int, topic: Topic, count: int, minutes: int, now: datetime | None = None
) -> MockInterview:
    """A new mock interview (one in progress is finished first). Raises PracticeError."""
    if count not in MOCK_COUNTS or minutes not in MOCK_MINUTES:
        raise PracticeError(
            f"count must be {MOCK_COUNTS.start}–{MOCK_COUNTS.stop - 1} and minutes "
            f"{MOCK_MINUTES.start}–{MOCK_MINUTES.stop - 1}"
        )
    now = now or utcnow()
    questions = list(
        db.session.scalars(
            sa.select(Question).where(Question.topic_id == topic.id, Question.published.is_(True))
        )
    )
    if not questions:
        raise PracticeError(f"topic '{topic.slug}' has no published questions")
    if (running := active_mock(user_id, now)) is not None:
        finish_mock(running, now)
    picked = _pick(questions, count, set(cards(user_id)))
    mock = MockInterview(
        user_id=user_id,
        topic_id=topic.id,
        question_ids=[q.id for q in picked],
        minutes=minutes,
        started_at=now,
        ends_at=now + timedelta(minutes=minutes),
        timeline=[],
    )
    db.session.add(mock)
    db.session.flush()
    return mock


def active_mock(user_id: int, now: datetime | None = None) -> MockInterview | None:
    """The learner's unfinished mock interview; one whose time ran out is finished now."""
    mock = db.session.scalar(
        sa.select(MockInterview)
        .where(MockInterview.user_id == user_id, MockInterview.finished_at.is_(None))
        .order_by(MockInterview.id.desc())
        .limit(1)
    )
    if mock is not None and aware(mock.ends_at) <= (now or utcnow()):
        finish_mock(mock, now)
        return None
    return mock


def mock_questions(mock: MockInterview) -> list[Question]:
    by_id = {
        q.id: q
        for q in db.session.scalars(sa.select(Question).where(Question.id.in_(mock.question_ids)))
    }
    return [by_id[i] for i in mock.question_ids if i in by_id]


def note_opened(mock: MockInterview, question: Question, now: datetime | None = None) -> None:
    if mock.finished_at is None and question.id in mock.question_ids:
        mock.timeline = [*(mock.timeline or []), [question.id, (now or utcnow()).isoformat()]]


def _seconds_spent(mock: MockInterview, end: datetime) -> dict[int, float]:
    """From each opening of a question to the next opening (or the end)."""
    spent: dict[int, float] = {}
    events = [(qid, datetime.fromisoformat(at)) for qid, at in mock.timeline or []]
    for index, (qid, at) in enumerate(events):
        until = events[index + 1][1] if index + 1 < len(events) else end
        spent[qid] = spent.get(qid, 0.0) + max(0.0, (until - at).total_seconds())
    return spent


def _since(model, user_id: int, question_id: int, start: datetime, end: datetime, order):
    query = sa.select(model).where(
        model.user_id == user_id,
        model.question_id == question_id,
        order >= start,
        order <= end,
    )
    if model is Submission:
        query = query.where(Submission.regrade_of.is_(None))  # the learner's own only
    return db.session.scalar(query.order_by(order.desc()).limit(1))


def _entry(mock: MockInterview, question: Question, end: datetime, spent: float) -> dict:
    start, uid = aware(mock.started_at), mock.user_id
    attempt = _since(QuizAttempt, uid, question.id, start, end, QuizAttempt.created_at)
    rating = db.session.scalar(
        sa.select(PracticeReview.rating)
        .where(
            PracticeReview.user_id == uid,
            PracticeReview.question_id == question.id,
            PracticeReview.source == Source.SELF.value,
            PracticeReview.reviewed_at >= start,
        )
        .order_by(PracticeReview.id.desc())
        .limit(1)
    )
    submission = _since(Submission, uid, question.id, start, end, Submission.created_at)
    signals = []
    if attempt is not None:
        signals.append(attempt.score)
    if rating is not None:
        signals.append(SELF_STRENGTH[rating])
    if submission is not None and submission.score is not None:
        signals.append(submission.score if submission.verdict != "passed" else 1.0)
    strength = min(signals) if signals else 0.0
    return {
        "question": question.slug,
        "kind": question.kind,
        "quiz_score": attempt.score if attempt else None,
        "self_rating": rating,
        "verdict": submission.verdict if submission else None,
        "submission_score": submission.score if submission else None,
        "submission_id": submission.id if submission else None,
        "seconds": round(spent),
        "strength": round(strength, 3),
        "weak": strength < WEAK_BELOW,
    }


def finish_mock(mock: MockInterview, now: datetime | None = None) -> list[dict]:
    """Close the interview (at its end time at the latest), store its summary and put
    its weak questions at the front of the queue. Finishing twice changes nothing."""
    if mock.finished_at is not None:
        return mock.summary or []
    now = now or utcnow()
    end = min(now, aware(mock.ends_at))
    spent = _seconds_spent(mock, end)
    summary = [_entry(mock, q, end, spent.get(q.id, 0.0)) for q in mock_questions(mock)]
    for entry, question in zip(summary, mock_questions(mock), strict=True):
        if not entry["weak"]:
            continue
        card = card_of(mock.user_id, question.id)
        if card is None:  # not answered at all in the interview
            card = review(mock.user_id, question.id, "again", Source.MOCK, now)
        card.front_since = now
    mock.finished_at, mock.summary = now, summary
    return summary


def mock_view(mock: MockInterview) -> dict[str, Any]:
    return {
        "id": mock.id,
        "topic": mock.topic.slug,
        "questions": [q.slug for q in mock_questions(mock)],
        "started_at": aware(mock.started_at),
        "ends_at": aware(mock.ends_at),
        "finished": mock.finished_at is not None,
        "summary": mock.summary,
    }
