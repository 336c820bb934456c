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
    # Stored and queued while no grading service ran: the database is the queue.
    ids = [deployment.store("tcp-echo", reference(deployment, "tcp-echo")) for _ in range(2)]
    deployment.service()
    for submission_id in ids:
        done = wait_for(
            lambda i=submission_id: deployment.submission(i).status == "done",
            90,
            f"submission {submission_id} to be graded",
        )
        assert done
        assert deployment.submission(submission_id).verdict == "passed"


def test_killed_service_mid_grading_is_graded_again(deployment):
    submission_id = deployment.store("tcp-echo", {"client": SLOW_CLIENT})
    first = deployment.service()
    wait_for(
        lambda: deployment.submission(submission_id).status == "running", 60, "the grading to start"
    )
    deployment.kill(first)
    stranded = deployment.submission(submission_id)
    assert stranded.status == "running" and stranded.attempts == 1

    deployment.service()
    wait_for(
        lambda: deployment.submission(submission_id).status == "done",
        90,
        "the restarted service to grade it again",
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


def _running_validation(deployment, slug: str, worker: str, attempts: int = 1) -> None:
    """A validation job left `running` by ``worker`` (as a killed service leaves it)."""
    with deployment.app.app_context():
        question = db.session.scalar(sa.select(Question).where(Question.slug == slug))
        question.validation = {
            "state": "running",
            "job": "abc123",
            "version": question.version,
            "worker": worker,
            "heartbeat_at": "2000-01-01T00:00:00+00:00",
            "attempts": attempts,
            "done": 0,
            "total": 1,
        }
        db.session.commit()


def _validation(deployment, slug: str) -> dict:
    with deployment.app.app_context():
        question = db.session.scalar(sa.select(Question).where(Question.slug == slug))
        return dict(question.validation)


def test_a_validation_a_dead_service_was_running_runs_again(deployment):
    import socket

    _running_validation(deployment, "udp-echo", f"{socket.gethostname()}:999999999:grader-0")
    deployment.service()
    report = wait_for(
        lambda: (v := _validation(deployment, "udp-echo"))["state"] == "done" and v,
        90,
        "the new service to run the validation again",
    )
    assert report["publishable"] and report["reference"]["ok"], report["reference"]
    # the reference and the bank's known-wrong answer of udp-echo
    assert report["job"] == "abc123" and report["done"] == report["total"] == 2


def test_a_validation_gives_up_after_the_maximum_attempts(deployment):
    from app.jobs import validation

    attempts = deployment.app.config["MAX_GRADING_ATTEMPTS"]
    _running_validation(deployment, "udp-echo", "elsewhere:1:grader-0", attempts=attempts)
    with deployment.app.app_context():
        requeued, failed = validation.stale_validations(deployment.app.config["STALE_SECONDS"])
    assert requeued == [] and len(failed) == 1
    report = _validation(deployment, "udp-echo")
    assert report["state"] == "done" and not report["publishable"]
    assert "interrupted" in report["error"]
