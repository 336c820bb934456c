"""Instructor services: validation gates publishing, edits make versions, regrades keep
history, stats count what learners did."""

from __future__ import annotations

import csv
import io
import time

import sqlalchemy as sa

from app.instructor import regrade, stats, validation, versions
from app.jobs.grading import graded_spec
from app.models import KnownWrongAnswer, Question, Submission, User, db
from tests.grading.test_chapter_answers import ANSWERS
from tests.helpers import en


def question(slug: str) -> Question:
    return db.session.scalar(sa.select(Question).where(Question.slug == slug))


def test_validation_gates_publishing(app, sandbox):
    with app.app_context():
        udp = question("udp-echo")
        udp.published = False
        assert [en(p) for p in validation.publish(udp)] == [
            "Run the validation for the current version first."
        ]
        db.session.add(
            KnownWrongAnswer(
                question=udp,
                name="answers the first sender only",
                files={"server": (ANSWERS / "udp_echo_server_fixed_address.py").read_text()},
                failing_check="server-acks-each-sender",
            )
        )
        db.session.commit()
        report = validation.validate_question(udp)
        assert report["reference"]["ok"] and report["wrong"][0]["ok"]
        assert report["wrong"][0]["verdict"] == "failed"
        assert validation.publish(udp) == [] and udp.published

        # A "wrong" answer that in fact passes blocks publishing, and says which.
        db.session.add(
            KnownWrongAnswer(question=udp, name="actually right", files=dict(udp.reference_files))
        )
        udp.published = False
        db.session.commit()
        validation.validate_question(udp)
        problems = validation.publish(udp)
        assert problems and "actually right" in en(problems[0]) and not udp.published


def test_invalid_spec_is_not_publishable(app):
    with app.app_context():
        echo = question("tcp-echo")
        versions.apply_edit(echo, {"spec": {"checks": [{"id": "x"}]}})
        db.session.commit()
        report = validation.validate_question(echo)
        assert report["publishable"] is False and report["spec_errors"]
        assert validation.publish_problems(echo)[0].startswith("checks/0")


def test_editing_a_published_question_makes_a_version_and_old_submissions_keep_theirs(app):
    with app.app_context():
        echo = question("tcp-echo")
        user = User(email="v@example.com", password_hash="x")
        db.session.add(user)
        db.session.flush()
        old = Submission(
            user_id=user.id,
            question_id=echo.id,
            question_version=echo.version,
            files={"client": "print(1)"},
        )
        db.session.add(old)
        db.session.commit()
        first_version = echo.version
        echo_v1_checks = list(echo.spec["checks"])
        new_spec = dict(echo.spec)
        new_spec["checks"] = [c for c in echo.spec["checks"] if c["role"] == "server"]
        assert versions.apply_edit(echo, {"spec": new_spec})
        db.session.commit()
        assert echo.version == first_version + 1
        assert graded_spec(old)["checks"] == echo_v1_checks  # still version 1's spec
        assert versions.apply_edit(echo, {"title_en": "Echo, renamed"}) is False
        patch = versions.diff(echo, first_version, echo.version)
        removed = [line for line in patch.splitlines() if line.startswith("-")]
        added = [
            line for line in patch.splitlines() if line.startswith("+") and line.strip("+`")
        ]  # not a fence moved by difflib
        assert any("id: client-echo" in line for line in removed)
        assert added == ["+++ tcp-echo v2", "+  en: Echo, renamed"]


def test_regrade_keeps_history_and_stats_count_learners(app, sandbox):
    dispatcher = app.extensions["dispatcher"]
    dispatcher.start()
    try:
        with app.app_context():
            udp = question("udp-echo")
            users = [User(email=f"u{i}@example.com", password_hash="x") for i in range(2)]
            db.session.add_all(users)
            db.session.flush()
            wrong = (ANSWERS / "udp_echo_server_fixed_address.py").read_text()
            for user, files in (
                (users[0], {"server": wrong}),
                (users[1], dict(udp.reference_files)),
            ):
                db.session.add(
                    Submission(
                        user_id=user.id,
                        question_id=udp.id,
                        question_version=udp.version,
                        files=files,
                    )
                )
            db.session.commit()
            originals = [s.id for s in db.session.scalars(sa.select(Submission))]
            for submission_id in originals:
                dispatcher.enqueue(submission_id)
            ids = regrade.regrade(udp)
            assert len(ids) == 2
            deadline = time.monotonic() + 90
            while not regrade.progress(ids)["finished"] and time.monotonic() < deadline:
                time.sleep(0.2)
                db.session.expire_all()
            assert regrade.progress(ids)["counts"] == {"done": 2}
            rows = db.session.scalars(sa.select(Submission).order_by(Submission.id)).all()
            assert [s.regrade_of for s in rows] == [None, None, *originals]
            assert [s.verdict for s in rows] == ["failed", "passed", "failed", "passed"]

            numbers = stats.question_stats(udp)
            assert (numbers.attempts, numbers.learners, numbers.graded) == (2, 2, 2)
            assert numbers.pass_rate == 0.5
            assert numbers.top_failing_check == "server-acks-each-sender"
            assert numbers.median_minutes_to_pass == 0.0
            csv_text = stats.to_csv(stats.topic_stats(udp.topic))
            assert csv_text.splitlines()[0].startswith("slug,title,attempts")
            assert any(line.startswith("udp-echo,") for line in csv_text.splitlines())
    finally:
        dispatcher.stop()


def test_csv_quotes_text_a_spreadsheet_would_run(app):
    with app.app_context():
        udp = question("udp-echo")
        udp.title_en = '=HYPERLINK("http://evil.example","x")'
        db.session.commit()
        text = stats.to_csv(stats.topic_stats(udp.topic))
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["slug"] == "udp-echo")
    assert row["title"] == '\'=HYPERLINK("http://evil.example","x")'
