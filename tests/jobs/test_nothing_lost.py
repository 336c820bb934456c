"""The database is the source of truth: a restart or a killed worker loses nothing, and an
engine crash ends in a clear error instead of a submission stuck in 'running'."""

from __future__ import annotations

import sqlalchemy as sa

from app.jobs import grading
from app.models import Question, db
from tests.jobs.conftest import SLOW_CLIENT, wait_for


def reference(deployment, slug: str) -> dict[str, str]:
    with deployment.app.app_context():
        question = db.session.scalar(sa.select(Question).where(Question.slug == slug))
        return dict(question.reference_files)


def test_queued_submissions_are_graded_after_a_restart(deployment):
    # Stored and queued by a web process that then died: nothing holds them in memory.
    ids = [deployment.store("tcp-echo", reference(deployment, "tcp-echo")) for _ in range(2)]
    deployment.web()
    for submission_id in ids:
        done = wait_for(
            lambda i=submission_id: deployment.submission(i).status == "done",
            90,
            f"submission {submission_id} to be graded",
        )
        assert done
        assert deployment.submission(submission_id).verdict == "passed"


def test_killed_web_process_mid_grading_is_graded_again(deployment):
    submission_id = deployment.store("tcp-echo", {"client": SLOW_CLIENT})
    first = deployment.web()
    wait_for(
        lambda: deployment.submission(submission_id).status == "running", 60, "the grading to start"
    )
    deployment.kill(first)
    stranded = deployment.submission(submission_id)
    assert stranded.status == "running" and stranded.attempts == 1

    deployment.web()
    wait_for(
        lambda: deployment.submission(submission_id).status == "done",
        90,
        "the restarted app to grade it again",
    )
    graded = deployment.submission(submission_id)
    assert graded.attempts == 2
    assert graded.verdict == "passed"
    assert [c["status"] for c in graded.result["checks"]][:3] == ["skipped"] * 3


def test_engine_crash_ends_in_error_not_running(deployment, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(grading, "grade", explode)
    submission_id = deployment.store("tcp-echo", {"client": "print(1)"})
    with deployment.app.app_context():
        grading.run_submission(submission_id)
    crashed = deployment.submission(submission_id)
    assert crashed.status == "error"
    assert "grader crashed (RuntimeError)" in crashed.error
    assert "engine exploded" not in crashed.error  # details go to the log, not to learners
    assert crashed.finished_at is not None


def test_gives_up_after_the_maximum_attempts(deployment):
    submission_id = deployment.store("tcp-echo", {"client": "print(1)"})
    with deployment.app.app_context():
        app = deployment.app
        for attempt in range(1, app.config["MAX_GRADING_ATTEMPTS"] + 1):
            assert grading.claim(submission_id, f"ghost-{attempt}")
            db.session.execute(
                sa.text("UPDATE submission SET heartbeat_at = '2000-01-01 00:00:00' WHERE id = :i"),
                {"i": submission_id},
            )
            db.session.commit()
            requeued, failed = grading.stale_submissions(app.config["STALE_SECONDS"])
            last = attempt == app.config["MAX_GRADING_ATTEMPTS"]
            assert (requeued, failed) == (([], [submission_id]) if last else ([submission_id], []))
    given_up = deployment.submission(submission_id)
    assert given_up.status == "error" and "giving up" in given_up.error
