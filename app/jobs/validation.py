"""A question's validation as a job of the grading service: grade the reference solution
and every known-wrong answer, and store the report on the question.

The job lives in ``Question.validation`` (no table of its own): the web stores
``{"state": "queued", "job": TOKEN, "version": V, ...}``; a worker claims it
(``queued -> running``, guarded by the token, so exactly one worker runs it), beats a
heartbeat and records how many gradings are done, then stores the report with
``"state": "done"`` — only if the job is still the same (an edit meanwhile clears the
validation, and the stale report is dropped). Reports without a ``state`` are done ones.
"""

from __future__ import annotations

import secrets
import threading
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from app.grading.engine import GradeResult, grade
from app.grading.spec import validate_spec
from app.jobs.grading import _local_dead, worker_name
from app.models import KnownWrongAnswer, Question, db, utcnow

QUEUED, RUNNING, DONE = "queued", "running", "done"
PENDING = (QUEUED, RUNNING)


def state_of(report: dict[str, Any] | None) -> str | None:
    if not report:
        return None
    return report.get("state", DONE)


# -- the web's side -------------------------------------------------------------------------


def request_validation(question: Question) -> dict[str, Any]:
    """Queue a validation of the question's current version (once: a pending one for
    this version is kept). The caller then nudges the dispatcher."""
    current = question.validation
    if state_of(current) in PENDING and current.get("version") == question.version:
        return current
    question.validation = {
        "state": QUEUED,
        "job": secrets.token_hex(8),
        "version": question.version,
        "requested_at": utcnow().isoformat(),
        "attempts": 0,
        "done": 0,
        "total": 1 + _answer_count(question.id),
    }
    db.session.commit()
    return question.validation


# -- the report -----------------------------------------------------------------------------


def _summary(result: GradeResult) -> dict[str, Any]:
    return {
        "verdict": result.verdict,
        "score": result.score,
        "message": result.message,
        "failed_checks": [
            c.id for c in result.checks if c.required and c.status in ("failed", "error")
        ],
        "advisory_failed": [c.id for c in result.checks if not c.required and c.status == "failed"],
    }


def needs_grading(question: Question) -> bool:
    """Only a code question with a valid spec has anything for the grader."""
    return bool(
        question.is_code and question.spec and not validate_spec(question.spec, question.roles)
    )


def compute_report(question: Question, on_graded=None) -> dict[str, Any]:
    """The validation report of the question as it is now (grades code: call it in a
    process that may run the engine)."""
    report: dict[str, Any] = {
        "version": question.version,
        "ran_at": utcnow().isoformat(),
        "spec_errors": [],
        "reference": None,
        "wrong": [],
    }
    if not question.is_code:
        report["publishable"] = True
        return report
    errors = validate_spec(question.spec, question.roles) if question.spec else []
    if not question.spec:
        report["spec_errors"] = ["a code question needs a grading spec"]
    report["spec_errors"] += [str(e) for e in errors]
    if report["spec_errors"]:
        report["publishable"] = False
        return report

    # Read everything first: the gradings use plain values, and ``on_graded`` (the worker's
    # progress, which commits) ends the read before each one, so no transaction stays open
    # for minutes (PostgreSQL ends a session idle in one).
    spec, reference_files = question.spec, question.reference_files
    answers = [(a.id, a.name, a.files, a.failing_check) for a in _answers(question.id)]
    if on_graded:
        on_graded(0, 1 + len(answers))
    reference = grade(spec, reference_files)
    report["reference"] = {
        **_summary(reference),
        "result": reference.to_dict(),
        "ok": reference.verdict == "passed",
    }
    if on_graded:
        on_graded(1, 1 + len(answers))
    for number, (answer_id, name, files, failing_check) in enumerate(answers, start=2):
        result = grade(spec, files)
        summary = _summary(result)
        ok = result.verdict == "failed" and (
            failing_check is None or failing_check in summary["failed_checks"]
        )
        report["wrong"].append(
            {
                "id": answer_id,
                "name": name,
                "expected": "failed",
                "expected_check": failing_check,
                **summary,
                "ok": ok,
            }
        )
        if on_graded:
            on_graded(number, 1 + len(answers))
    report["publishable"] = report["reference"]["ok"] and all(w["ok"] for w in report["wrong"])
    return report


def validate_question(question: Question) -> dict[str, Any]:
    """Run the validation now, in this process, and store it (tests, and questions with
    nothing to grade)."""
    report = {**compute_report(question), "state": DONE}
    question.validation = report
    db.session.commit()
    return report


def _answers(question_id: int) -> list[KnownWrongAnswer]:
    return list(
        db.session.scalars(
            sa.select(KnownWrongAnswer)
            .where(KnownWrongAnswer.question_id == question_id)
            .order_by(KnownWrongAnswer.id)
        )
    )


def _answer_count(question_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(KnownWrongAnswer)
        .where(KnownWrongAnswer.question_id == question_id)
    )


# -- the worker's side ----------------------------------------------------------------------


def _job_is(token: str, state: str):
    return sa.and_(
        Question.validation["job"].as_string() == token,
        Question.validation["state"].as_string() == state,
    )


def _replace(question_id: int, token: str, state: str, job: dict[str, Any]) -> bool:
    """Store ``job`` as the question's validation if it still holds job ``token`` in
    ``state`` (one atomic UPDATE)."""
    stored = db.session.execute(
        sa.update(Question)
        .where(Question.id == question_id, _job_is(token, state))
        .values(validation=job)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return stored == 1


def next_queued() -> int | None:
    return db.session.scalar(
        sa.select(Question.id)
        .where(Question.validation["state"].as_string() == QUEUED)
        .order_by(Question.id)
        .limit(1)
    )


def run_validation(question_id: int) -> None:
    """Claim the question's queued validation, run it, store the report."""
    question = db.session.get(Question, question_id)
    job = dict(question.validation or {}) if question else {}
    if job.get("state") != QUEUED or not job.get("job"):
        return
    token, worker, now = job["job"], worker_name(), utcnow().isoformat()
    running = {
        **job,
        "state": RUNNING,
        "worker": worker,
        "started_at": now,
        "heartbeat_at": now,
        "attempts": job.get("attempts", 0) + 1,
    }
    if not _replace(question_id, token, QUEUED, running):
        return  # another worker was first, or it was cancelled
    db.session.expire_all()
    question = db.session.get(Question, question_id)
    progress = threading.Lock()
    app = current_app._get_current_object()
    beating = threading.Event()

    def beat() -> None:
        with app.app_context():
            while not beating.wait(app.config["HEARTBEAT_SECONDS"]):
                with progress:
                    running["heartbeat_at"] = utcnow().isoformat()
                    try:
                        _replace(question_id, token, RUNNING, dict(running))
                    except Exception:
                        db.session.rollback()
            db.session.remove()

    def graded(done: int, total: int) -> None:
        with progress:
            running.update(done=done, total=total, heartbeat_at=utcnow().isoformat())
            _replace(question_id, token, RUNNING, dict(running))

    heart = threading.Thread(target=beat, name=f"validation-beat-{question_id}", daemon=True)
    heart.start()
    try:
        report = compute_report(question, on_graded=graded)
    except Exception as exc:  # an engine crash must never leave it running
        db.session.rollback()  # a database error (a session ended by the server) too
        current_app.logger.exception("validation of question %s crashed", question_id)
        report = _failed(job, f"The grader crashed ({type(exc).__name__}); run it again later.")
    finally:
        beating.set()
        heart.join(5)
    with progress:
        done = {**report, "state": DONE, "job": token, "total": running.get("total", 1)}
        done["done"] = done["total"] if "error" not in report else running.get("done", 0)
        _replace(question_id, token, RUNNING, done)


def _failed(job: dict[str, Any], error: str) -> dict[str, Any]:
    return {
        "version": job.get("version"),
        "ran_at": utcnow().isoformat(),
        "spec_errors": [],
        "reference": None,
        "wrong": [],
        "publishable": False,
        "error": error,
    }


def _running_jobs() -> list[Question]:
    return list(
        db.session.scalars(
            sa.select(Question).where(Question.validation["state"].as_string() == RUNNING)
        )
    )


def _requeue_or_fail(questions: list[Question]) -> tuple[list[int], list[int]]:
    requeued, failed = [], []
    max_attempts = current_app.config["MAX_GRADING_ATTEMPTS"]
    for question in questions:
        job = dict(question.validation)
        if job.get("attempts", 0) >= max_attempts:
            error = f"The validation was interrupted {job['attempts']} times; giving up."
            done = {**_failed(job, error), "state": DONE, "job": job["job"]}
            (failed if _replace(question.id, job["job"], RUNNING, done) else []).append(question.id)
        else:
            queued = {**job, "state": QUEUED, "worker": None}
            if _replace(question.id, job["job"], RUNNING, queued):
                requeued.append(question.id)
    return requeued, failed


def stale_validations(stale_after: float) -> tuple[list[int], list[int]]:
    """Re-queue running validations whose worker stopped beating (or give up)."""
    cutoff = utcnow() - timedelta(seconds=stale_after)
    stale = [q for q in _running_jobs() if _beat_before(q.validation, cutoff)]
    return _requeue_or_fail(stale)


def orphaned_by_dead_local_workers() -> tuple[list[int], list[int]]:
    import socket

    host = socket.gethostname()
    dead = [q for q in _running_jobs() if _local_dead(q.validation.get("worker") or "", host)]
    return _requeue_or_fail(dead)


def queued_ids() -> list[int]:
    return list(
        db.session.scalars(
            sa.select(Question.id).where(Question.validation["state"].as_string() == QUEUED)
        )
    )


def _beat_before(job: dict[str, Any], cutoff: datetime) -> bool:
    try:
        beat = datetime.fromisoformat(job.get("heartbeat_at") or "")
    except ValueError:
        return True
    return beat < cutoff
