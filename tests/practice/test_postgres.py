"""The practice queries on PostgreSQL too: a review, the queue, a quiz, a mock interview,
progress (timestamps come back with their zone there, unlike SQLite), the hints' count of
failed and passed attempts."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app.bank.loader import load_bank
from app.models import Question, Submission, Topic, db
from app.practice import hints, queue, service
from app.practice.scheduling import Source, review
from tests.api.helpers import make_user
from tests.helpers import postgres_app
from tests.practice.conftest import T0


@pytest.mark.postgres
def test_practice_on_postgres(tmp_path):
    with postgres_app(tmp_path) as app:
        with app.app_context():
            upgrade()
            load_bank()
        learner = make_user(app, "pg@example.com")
        with app.app_context():
            udp = db.session.scalar(sa.select(Question).where(Question.slug == "udp-vs-tcp"))
            review(learner, udp.id, "again", Source.SELF, T0)
            answers = {
                item["id"]: item["answer"][0] if item["type"] == "fill" else item["answer"]
                for item in udp.quiz
            }
            assert service.answer_quiz(learner, udp, answers, T0)["score"] == 1
            topic = db.session.scalar(sa.select(Topic).where(Topic.slug == "sockets"))
            mock = service.start_mock(learner, topic, 3, 10, T0)
            summary = service.finish_mock(mock, T0 + timedelta(minutes=5))
            db.session.commit()
            assert len(summary) == 3
            later = T0 + timedelta(hours=1)
            assert {q.slug for q, _ in queue.queue(learner, later).due} >= {"udp-vs-tcp"}
            assert queue.progress(learner, later)[0]["seen"] >= 1
            assert queue.streak(learner, T0.date()) == 1
            timeout = db.session.scalar(
                sa.select(Question).where(Question.slug == "socket-timeout")
            )
            assert hints.attempts(learner, timeout.id) == (0, False)
            for verdict in ("failed", "failed", "error", "passed"):
                db.session.add(
                    Submission(user_id=learner, question_id=timeout.id, question_version=1,
                               files={}, status="done", verdict=verdict)
                )  # fmt: skip
            db.session.commit()
            assert hints.attempts(learner, timeout.id) == (2, True)
            db.engine.dispose()
