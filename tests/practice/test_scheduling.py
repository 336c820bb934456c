"""FSRS schedules from self-ratings, quiz results and graded submissions, on a clock the
tests set (no sleeping)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.jobs.grading import _finish
from app.models import PracticeReview, Question, Submission, SubmissionStatus, db
from app.practice import queue, service
from app.practice.scheduling import Source, card_of, review
from tests.practice.conftest import T0


def _id(slug: str) -> int:
    return db.session.scalar(sa.select(Question.id).where(Question.slug == slug))


def test_again_is_due_within_ten_minutes_new_or_not(app, learner):
    with app.app_context():
        card = review(learner, _id("udp-vs-tcp"), "again", Source.SELF, T0)
        assert timedelta(0) < card.due_at - T0 <= timedelta(minutes=10)
        later = T0 + timedelta(days=30)
        review(learner, _id("udp-vs-tcp"), "easy", Source.SELF, T0 + timedelta(minutes=10))
        card = review(learner, _id("udp-vs-tcp"), "again", Source.SELF, later)
        assert card.state == "relearning"
        assert timedelta(0) < card.due_at - later <= timedelta(minutes=10)


def test_easy_on_a_new_question_is_due_in_a_day_or_more(app, learner):
    with app.app_context():
        card = review(learner, _id("tcp-realtime"), "easy", Source.SELF, T0)
        assert card.due_at - T0 >= timedelta(days=1) and card.state == "review"


def test_the_queue_follows_the_clock(app, learner):
    with app.app_context():
        review(learner, _id("udp-vs-tcp"), "good", Source.SELF, T0)  # learning: 10 min
        db.session.commit()
        assert [q.slug for q, _ in queue.queue(learner, T0).due] == []
        due = queue.queue(learner, T0 + timedelta(minutes=11))
        assert [q.slug for q, _ in due.due] == ["udp-vs-tcp"]
        assert "udp-vs-tcp" not in [q.slug for q in due.new]
        assert queue.statuses(learner, T0)[_id("udp-vs-tcp")] == "passed"


def test_quiz_all_correct_is_good_and_any_wrong_is_again(app, learner):
    with app.app_context():
        question = db.session.get(Question, _id("udp-vs-tcp"))
        right = {i["id"]: i["answer"] if i["type"] != "fill" else i["answer"][0]
                 for i in question.quiz}  # fmt: skip
        result = service.answer_quiz(learner, question, right, T0)
        assert result["score"] == 1
        wrong = dict(right, **{question.quiz[0]["id"]: "definitely not"})
        result = service.answer_quiz(learner, question, wrong, T0 + timedelta(hours=1))
        assert result["score"] < 1
        ratings = db.session.scalars(
            sa.select(PracticeReview.rating).order_by(PracticeReview.id)
        ).all()
        assert ratings == ["good", "again"]
        assert result["due_at"] - (T0 + timedelta(hours=1)) <= timedelta(minutes=10)


def _graded(app, learner: int, verdict: str) -> int:
    with app.app_context():
        submission = Submission(
            user_id=learner,
            question_id=_id("tcp-echo"),
            question_version=1,
            files={"server": "x"},
            status=SubmissionStatus.RUNNING.value,
            worker_id="w1",
        )
        db.session.add(submission)
        db.session.commit()
        result = {"verdict": verdict, "score": 1.0 if verdict == "passed" else 0.0}
        _finish(submission.id, "w1", SubmissionStatus.DONE.value, result=result)
        return submission.id


def test_a_graded_submission_is_a_review_where_its_verdict_is_stored(app, learner):
    _graded(app, learner, "failed")
    with app.app_context():
        assert db.session.scalars(sa.select(PracticeReview.rating)).all() == ["again"]
    _graded(app, learner, "passed")
    with app.app_context():
        ratings = db.session.scalars(sa.select(PracticeReview.rating).order_by(PracticeReview.id))
        assert ratings.all() == ["again", "good"]  # passed, but not on the first try
        assert card_of(learner, _id("tcp-echo")).reviews == 2


def test_passing_on_the_first_try_is_easy(app, learner):
    _graded(app, learner, "passed")
    with app.app_context():
        assert db.session.scalars(sa.select(PracticeReview.source)).all() == ["submission"]
        assert db.session.scalars(sa.select(PracticeReview.rating)).all() == ["easy"]


def test_a_mock_interview_summary_puts_weak_questions_first(app, learner):
    with app.app_context():
        topic = db.session.get(Question, _id("tcp-echo")).topic
        mock = service.start_mock(learner, topic, 4, 30, T0)
        kinds = {db.session.get(Question, qid).kind for qid in mock.question_ids}
        assert kinds == {"code", "concept"} and len(mock.question_ids) == 4
        first, second = (db.session.get(Question, i) for i in mock.question_ids[:2])
        service.note_opened(mock, first, T0 + timedelta(minutes=1))
        review(learner, first.id, "easy", Source.SELF, T0 + timedelta(minutes=3))
        service.note_opened(mock, second, T0 + timedelta(minutes=4))
        summary = service.finish_mock(mock, T0 + timedelta(minutes=9))
        db.session.commit()
        assert summary[0]["self_rating"] == "easy" and not summary[0]["weak"]
        assert summary[0]["seconds"] == 180 and summary[1]["seconds"] == 300
        assert all(entry["weak"] for entry in summary[1:])
        upcoming = queue.queue(learner, T0 + timedelta(minutes=10))
        weak = {db.session.get(Question, i).slug for i in mock.question_ids[1:]}
        assert {q.slug for q, _ in upcoming.due[:3]} == weak
        assert service.finish_mock(mock, T0 + timedelta(hours=1)) == summary  # once


def test_a_mock_whose_time_ran_out_is_finished_when_next_looked_at(app, learner):
    with app.app_context():
        topic = db.session.get(Question, _id("tcp-echo")).topic
        service.start_mock(learner, topic, 2, 5, T0)
        assert service.active_mock(learner, T0 + timedelta(minutes=4)) is not None
        assert service.active_mock(learner, T0 + timedelta(minutes=6)) is None


def test_progress_and_streak(app, learner):
    with app.app_context():
        for day in range(3):
            review(learner, _id("udp-vs-tcp"), "good", Source.SELF, T0 + timedelta(days=day))
        db.session.commit()
        today = (T0 + timedelta(days=2)).date()
        assert queue.streak(learner, today) == 3
        assert queue.streak(learner, today + timedelta(days=1)) == 3  # today still open
        assert queue.streak(learner, today + timedelta(days=2)) == 0
        sockets = queue.progress(learner, T0 + timedelta(days=2))[0]
        assert sockets["seen"] == 1 and sockets["passed"] == 1
        chart = queue.daily(learner, today)
        assert len(chart) == 30 and [c[1] for c in chart[-3:]] == [1, 1, 1]
