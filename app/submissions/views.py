"""What a submission looks like to its watchers: one snapshot shape for the result page,
the JSON endpoints and the Socket.IO resync."""

from __future__ import annotations

from typing import Any

from flask import url_for

from app.models import Submission
from app.submissions.service import queue_position


def snapshot(submission: Submission, include_files: bool = False) -> dict[str, Any]:
    result = submission.result or {}
    data: dict[str, Any] = {
        "id": submission.id,
        "question": submission.question.slug,
        "question_version": submission.question_version,
        "status": submission.status,
        "position": queue_position(submission),
        "verdict": submission.verdict,
        "score": submission.score,
        "error": submission.error,
        "created_at": _iso(submission.created_at),
        "started_at": _iso(submission.started_at),
        "finished_at": _iso(submission.finished_at),
        "attempts": submission.attempts,
        "total": result.get("total") or len(result.get("checks", [])) or None,
        "checks": result.get("checks", []),
        "message": result.get("message"),
        "skipped_roles": result.get("skipped_roles", []),
        "url": url_for("submissions.show", submission_id=submission.id),
    }
    if include_files:
        data["files"] = submission.files
    return data


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None
