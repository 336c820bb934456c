"""What a submission looks like to its watchers: one snapshot shape for the result page,
the JSON endpoints and the Socket.IO resync."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import request, url_for
from flask_login import current_user

from app.models import Question, QuestionKind, Submission, db
from app.submissions.service import can_view, queue_position


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


# -- the pages: editor state, lists, formatting -----------------------------------------


@dataclass
class EditorState:
    """What the code editor of a question page starts with, for a signed-in user."""

    files: dict[str, str]  # role -> the code in the editor
    starter: dict[str, str]  # role -> starter code (for "Reset to starter")
    source: str  # "starter" | "submission" (loaded with ?from=<id>)
    from_submission: Submission | None = None
    from_refused: str | None = None  # the ?from= value that could not be loaded
    recent: list[Submission] = field(default_factory=list)


def editor_state(question: Question) -> EditorState:
    """Starter files, or a past submission's files with ``?from=<id>`` when the current
    user may view it (``can_view``); and the user's last submissions of this question."""
    starter = {role: question.starter_files.get(role, "") for role in question.roles}
    state = EditorState(files=dict(starter), starter=starter, source="starter")
    wanted = request.args.get("from", "").strip()
    if wanted:
        loaded = _loadable(wanted, question)
        if loaded is None:
            state.from_refused = wanted[:20]
        else:
            state.source = "submission"
            state.from_submission = loaded
            state.files.update(
                {role: code for role, code in loaded.files.items() if role in question.roles}
            )
    state.recent = recent_submissions(question, limit=5)
    return state


def _loadable(wanted: str, question: Question) -> Submission | None:
    if not wanted.isdigit() or not current_user.is_authenticated:
        return None
    submission = db.session.get(Submission, int(wanted))
    if submission is None or submission.question_id != question.id:
        return None
    return submission if can_view(current_user, submission) else None


def recent_submissions(question: Question, limit: int = 5) -> list[Submission]:
    if not current_user.is_authenticated:
        return []
    return list(
        db.session.scalars(
            sa.select(Submission)
            .where(Submission.user_id == current_user.id, Submission.question_id == question.id)
            .order_by(Submission.id.desc())
            .limit(limit)
        )
    )


def code_questions() -> list[Question]:
    """The code questions a learner can filter the history by, in bank order."""
    return list(
        db.session.scalars(
            sa.select(Question)
            .where(Question.kind == QuestionKind.CODE.value, Question.published.is_(True))
            .order_by(Question.order, Question.id)
        )
    )


def page_state(data: dict[str, Any]) -> dict[str, Any]:
    """The small part of a snapshot the result page's script starts from."""
    keys = ("id", "status", "position", "verdict", "score", "error", "total", "message")
    state = {key: data.get(key) for key in keys}
    state["done"] = len(data.get("checks") or [])
    return state


def failed_expectations(check: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in check.get("expectations") or [] if not item.get("ok")]


def shown_value(value: Any) -> str:
    """An expectation's expected/actual value as text."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def format_when(moment: datetime | None) -> str:
    """``2026-11-29 16:20 UTC``: stored times are UTC (naive ones from SQLite too)."""
    if moment is None:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def iso_when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat(timespec="seconds")


def format_duration(ms: float | int | None) -> str:
    if ms is None:
        return ""
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f} s"


def format_score(score: float | None) -> str:
    return "" if score is None else f"{score:.0%}"


def graded_in_ms(submission: Submission) -> float | None:
    if submission.started_at is None or submission.finished_at is None:
        return None
    return (submission.finished_at - submission.started_at).total_seconds() * 1000
