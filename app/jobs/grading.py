"""Grade one stored submission: claim it, run the engine, store the result, tell watchers.

Every step is keyed by the submission id and guarded in the database, so running it twice
for one id (a duplicate queue entry, a re-queue after a dead worker) is harmless.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from app.grading.engine import grade
from app.grading.messages import render
from app.jobs.events import publish
from app.models import (
    QuestionVersion,
    Submission,
    SubmissionStatus,
    db,
    store_failed_checks,
    utcnow,
)
from app.practice.scheduling import review_submission

QUEUED, RUNNING = SubmissionStatus.QUEUED.value, SubmissionStatus.RUNNING.value
DONE, ERROR = SubmissionStatus.DONE.value, SubmissionStatus.ERROR.value


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


def claim(submission_id: int, worker: str) -> bool:
    """queued -> running for exactly one worker."""
    now = utcnow()
    claimed = db.session.execute(
        sa.update(Submission)
        .where(Submission.id == submission_id, Submission.status == QUEUED)
        .values(
            status=RUNNING,
            worker_id=worker,
            started_at=now,
            heartbeat_at=now,
            attempts=Submission.attempts + 1,
        )
    ).rowcount
    db.session.commit()
    return claimed == 1


def graded_spec(submission: Submission) -> dict[str, Any]:
    """The spec of the question version the submission was made against."""
    version = db.session.scalar(
        sa.select(QuestionVersion).where(
            QuestionVersion.question_id == submission.question_id,
            QuestionVersion.version == submission.question_version,
        )
    )
    if version is not None and version.snapshot.get("spec"):
        return version.snapshot["spec"]
    return submission.question.spec or {}


def run_submission(submission_id: int) -> None:
    worker = worker_name()
    if not claim(submission_id, worker):
        return
    submission = db.session.get(Submission, submission_id)
    _try_publish(submission_id, "started", status=RUNNING)
    checks: list[dict[str, Any]] = []
    app = current_app._get_current_object()
    beating = threading.Event()
    heart = threading.Thread(
        target=_heartbeat, args=(app, submission_id, worker, beating), daemon=True
    )
    heart.start()

    def on_event(event: dict[str, Any]) -> None:
        # Progress is a courtesy: a failed partial save or broadcast must not end the
        # grading (the final result is stored below, and the page resyncs from it).
        try:
            if event["type"] == "check_started":
                # stored so that a page opening mid-check knows what runs since when
                running = {"id": event["id"], "index": event["index"], "title": event["title"]}
                running["started_at"] = utcnow().isoformat()
                _save_partial(submission_id, worker, checks, event["total"], running)
            elif event["type"] == "check_finished":
                checks.append(event["check"])
                _save_partial(submission_id, worker, checks, event["total"])
            details = {k: v for k, v in event.items() if k not in ("type", "id")}
            publish(submission_id, event["type"], check_id=event["id"], **details)
        except Exception:
            db.session.rollback()
            app.logger.exception("progress of submission %s not recorded", submission_id)

    spec, files = graded_spec(submission), submission.files
    # A grading may take minutes: it holds no transaction open meanwhile (PostgreSQL ends
    # a session idle in one, see models.IDLE_IN_TRANSACTION_SECONDS).
    db.session.commit()
    try:
        result = grade(spec, files, on_event=on_event)
    except Exception as exc:  # an engine crash must never leave it running
        current_app.logger.exception("grading submission %s crashed", submission_id)
        # The details go to the log; the learner sees what kind of failure it was.
        _finish(
            submission_id,
            worker,
            ERROR,
            error=f"The grader crashed ({type(exc).__name__}); this is not your code's "
            "fault. Try again later.",
        )
        return
    finally:
        beating.set()
    status = ERROR if result.verdict == "error" else DONE
    _finish(submission_id, worker, status, result=result.to_dict())


def _owned(submission_id: int, worker: str):
    return sa.update(Submission).where(
        Submission.id == submission_id,
        Submission.status == RUNNING,
        Submission.worker_id == worker,
    )


def _save_partial(
    submission_id: int, worker: str, checks: list, total: int, running: dict | None = None
) -> None:
    """The checks so far, and the one running now (``running``: id, index, title,
    started_at) until its result arrives."""
    partial: dict[str, Any] = {"partial": True, "total": total, "checks": list(checks)}
    if running is not None:
        partial["running"] = running
    db.session.execute(_owned(submission_id, worker).values(result=partial, heartbeat_at=utcnow()))
    db.session.commit()


def _finish(
    submission_id: int,
    worker: str,
    status: str,
    result: dict | None = None,
    error: str | None = None,
) -> None:
    values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "error": error}
    if result is not None:
        values.update(result=result, verdict=result["verdict"], score=result["score"])
        if status == ERROR:
            values["error"] = render(result["message"], "en")
    else:
        values.update(verdict="error", score=0.0)
    stored = db.session.execute(_owned(submission_id, worker).values(**values)).rowcount
    if stored and result is not None:
        store_failed_checks(db.session, submission_id, result)  # in the same transaction
    if stored and status == DONE:
        review_submission(submission_id)  # a graded submission is also a review
    db.session.commit()
    if stored:
        _try_publish(
            submission_id,
            "finished",
            status=status,
            verdict=values["verdict"],
            score=values["score"],
            error=values["error"],
        )


def _try_publish(submission_id: int, event: str, **data: Any) -> None:
    try:
        publish(submission_id, event, **data)
    except Exception:  # watchers resync from the database
        current_app.logger.exception("could not broadcast %s of %s", event, submission_id)


def _heartbeat(app, submission_id: int, worker: str, stop: threading.Event) -> None:
    """Beat until told to stop; a failed beat (database busy) is retried at the next one,
    so a live grading is not taken for dead."""
    interval = app.config["HEARTBEAT_SECONDS"]
    with app.app_context():
        while not stop.wait(interval):
            try:
                db.session.execute(_owned(submission_id, worker).values(heartbeat_at=utcnow()))
                db.session.commit()
            except Exception:
                db.session.rollback()
                app.logger.warning("heartbeat of submission %s failed", submission_id)
        db.session.remove()


def stale_submissions(stale_after: float) -> tuple[list[int], list[int]]:
    """Re-queue running submissions whose worker stopped beating; give up (error) after
    the maximum attempts. Returns (re-queued ids, failed ids)."""
    cutoff = utcnow() - timedelta(seconds=stale_after)
    stale = db.session.scalars(
        sa.select(Submission).where(Submission.status == RUNNING, Submission.heartbeat_at < cutoff)
    ).all()
    return _requeue_or_fail(stale)


def _requeue_or_fail(stale: list[Submission]) -> tuple[list[int], list[int]]:
    requeued, failed = [], []
    max_attempts = current_app.config["MAX_GRADING_ATTEMPTS"]
    for submission in stale:
        guard = sa.update(Submission).where(
            Submission.id == submission.id,
            Submission.status == RUNNING,
            Submission.worker_id == submission.worker_id,
        )
        if submission.attempts >= max_attempts:
            done = db.session.execute(
                guard.values(
                    status=ERROR,
                    verdict="error",
                    score=0.0,
                    finished_at=utcnow(),
                    error=f"Grading was interrupted {submission.attempts} times; giving up.",
                )
            ).rowcount
            (failed if done else []).append(submission.id)
        else:
            done = db.session.execute(guard.values(status=QUEUED, worker_id=None)).rowcount
            (requeued if done else []).append(submission.id)
    db.session.commit()
    return requeued, failed


def orphaned_by_dead_local_workers() -> tuple[list[int], list[int]]:
    """Running submissions of worker processes on this host that no longer exist."""
    host = socket.gethostname()
    running = db.session.scalars(sa.select(Submission).where(Submission.status == RUNNING)).all()
    dead = [s for s in running if _local_dead(s.worker_id or "", host)]
    return _requeue_or_fail(dead)


def _local_dead(worker: str, host: str) -> bool:
    name, _, rest = worker.partition(":")
    pid = rest.partition(":")[0]
    if name != host or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def next_queued() -> int | None:
    """The oldest queued submission (first come, first graded)."""
    return db.session.scalar(
        sa.select(Submission.id).where(Submission.status == QUEUED).order_by(Submission.id).limit(1)
    )


def queued_ids(older_than: float = 0) -> list[int]:
    cutoff = utcnow() - timedelta(seconds=older_than)
    return list(
        db.session.scalars(
            sa.select(Submission.id)
            .where(Submission.status == QUEUED, Submission.created_at <= cutoff)
            .order_by(Submission.id)
        )
    )
