"""What ``/healthz`` checks: the database answers, Redis answers (when configured), at
least one grading worker beat within ``STALE_SECONDS``, and the oldest queued submission
has waited less than ``MAX_QUEUE_AGE_SECONDS``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app

from app.models import Submission, SubmissionStatus, db, utcnow


def oldest_queued_age() -> float:
    """Seconds the oldest queued submission has waited (0 with an empty queue)."""
    oldest = db.session.scalar(
        sa.select(sa.func.min(Submission.created_at)).where(
            Submission.status == SubmissionStatus.QUEUED.value
        )
    )
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=utcnow().tzinfo)
    return max(0.0, (utcnow() - oldest).total_seconds())


def queue_depth() -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Submission)
        .where(Submission.status == SubmissionStatus.QUEUED.value)
    )


def _check(checks: dict[str, Any], name: str, probe) -> Any:
    try:
        value = probe()
    except Exception as exc:  # a health check reports failures, it does not raise them
        checks[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        return None
    checks[name] = {"ok": True}
    return value


def report() -> dict[str, Any]:
    config = current_app.config
    checks: dict[str, Any] = {}
    database_up = _check(checks, "database", lambda: db.session.execute(sa.text("SELECT 1")))
    if config["REDIS_URL"]:
        dispatcher = current_app.extensions["dispatcher"]
        _check(checks, "redis", lambda: dispatcher.redis.ping())
    live = _check(checks, "workers", lambda: current_app.extensions["dispatcher"].live_workers())
    if live is not None:
        checks["workers"] = {"ok": live > 0, "live": live}
    if database_up is not None:
        age = _check(checks, "queue", oldest_queued_age)
        if age is not None:
            limit = config["MAX_QUEUE_AGE_SECONDS"]
            checks["queue"] = {"ok": age < limit, "oldest_queued_seconds": round(age, 1)}
    db.session.remove()
    return {"ok": all(c["ok"] for c in checks.values()), "checks": checks}
