"""PostgreSQL ends a session idle inside a transaction (models.IDLE_IN_TRANSACTION_SECONDS),
so a grading worker holds none open across a grading, however long: each grading starts
with no transaction open, and a validation and a submission that take longer than the
timeout are stored all the same."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import models
from app.bank.loader import load_bank
from app.jobs import grading, validation
from app.jobs.grading import run_submission
from app.jobs.validation import request_validation, run_validation
from app.models import Question, Submission, User, db
from tests.helpers import postgres_app
from tests.jobs.conftest import SLOW_CLIENT

pytestmark = pytest.mark.postgres


def test_gradings_longer_than_the_idle_timeout_are_stored(tmp_path, monkeypatch, sandbox):
    monkeypatch.setattr(models, "IDLE_IN_TRANSACTION_SECONDS", 1)
    open_at_start: list[bool] = []  # per grading: whether a transaction was open

    def watched(grade):
        def grading_with_no_transaction(*args, **kwargs):
            open_at_start.append(db.session().in_transaction())
            return grade(*args, **kwargs)

        return grading_with_no_transaction

    monkeypatch.setattr(validation, "grade", watched(validation.grade))
    monkeypatch.setattr(grading, "grade", watched(grading.grade))
    with postgres_app(tmp_path) as app, app.app_context():
        upgrade()
        load_bank()
        question = db.session.scalar(sa.select(Question).where(Question.slug == "tcp-echo"))
        request_validation(question)  # the reference and every known wrong answer: seconds
        run_validation(question.id)
        db.session.expire_all()
        report = db.session.get(Question, question.id).validation
        assert report["state"] == "done" and "error" not in report, report.get("error")
        assert report["publishable"], report
        assert len(open_at_start) == report["total"] and not any(open_at_start)
        open_at_start.clear()

        user = User(email="pg@example.com")
        user.set_password("correct horse")
        submission = Submission(
            user=user,
            question=question,
            files={"client": SLOW_CLIENT},  # 2.5 s before it connects
            question_version=question.version,
        )
        db.session.add_all([user, submission])
        db.session.commit()
        run_submission(submission.id)
        db.session.expire_all()
        stored = db.session.get(Submission, submission.id)
        assert stored.status == "done", stored.error
        assert open_at_start == [False]
        db.session.remove()
        db.engine.dispose()
