"""What a submission looks like to its watchers: the live state (what a watching page
receives, by Socket.IO or by polling) and the snapshot (the live state and the whole result:
the result page as served, its checks fragment, the JSON endpoints)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import render_template, request, url_for
from flask_babel import force_locale, gettext
from flask_login import current_user
from markupsafe import Markup

from app.fragments import cached
from app.grading.messages import is_message
from app.grading.transcript import stored_checks
from app.i18n import LANGUAGES, current_lang
from app.messages import in_both, say, say_html
from app.models import Question, QuestionKind, Submission, SubmissionStatus, db
from app.submissions.service import can_view, queue_position

FINISHED = (SubmissionStatus.DONE.value, SubmissionStatus.ERROR.value)

# What a watching page needs, and all a live socket carries: where the grading is and,
# once graded, the verdict and the grader's message. A few hundred bytes whatever the
# result's size: the checks (traces, transcripts) come over HTTP, in the result page's
# fragment (GET /submissions/<id>/checks) or the JSON (GET /submissions/<id>.json).
LIVE = (
    "id",
    "status",
    "position",
    "verdict",
    "score",
    "error",
    "total",
    "done",
    "message",
    "running",
    "graded_in",
)
# the columns it is read from (not the files)
LIVE_COLUMNS = (
    Submission.status,
    Submission.verdict,
    Submission.score,
    Submission.error,
    Submission.result,
    Submission.started_at,
    Submission.finished_at,
)


def live_state(submission: Submission) -> dict[str, Any]:
    result = submission.result or {}
    checks = result.get("checks") or []
    return {
        "id": submission.id,
        "status": submission.status,
        "position": queue_position(submission),
        "verdict": submission.verdict,
        "score": submission.score,
        "error": submission.error,
        "total": result.get("total") or len(checks) or None,
        "done": len(checks),
        # the grader's message in both languages beside its id (app/messages.py)
        "message": in_both(result.get("message")),
        "running": running_check(submission),
        # "Graded in 2.1 s." as the result page says it, in both languages
        "graded_in": graded_in(submission),
    }


def snapshot(submission: Submission, include_files: bool = False) -> dict[str, Any]:
    """The live state and the whole result: for the page's server rendering and the JSON."""
    result = submission.result or {}
    data = live_state(submission)
    data.update(
        question=submission.question.slug,
        question_version=submission.question_version,
        created_at=_iso(submission.created_at),
        started_at=_iso(submission.started_at),
        finished_at=_iso(submission.finished_at),
        attempts=submission.attempts,
        # every message of the grader in both languages beside its id
        checks=in_both(stored_checks(result.get("checks", []))),
        skipped_roles=result.get("skipped_roles", []),
        url=url_for("submissions.show", submission_id=submission.id),
    )
    if include_files:
        data["files"] = submission.files
    return data


def running_check(submission: Submission) -> dict[str, Any] | None:
    """The check running now (id, index, title, started_at, elapsed_ms), as the grading
    stored it when the check started; None when none is running."""
    result = submission.result or {}
    running = result.get("running")
    if submission.status != "running" or not isinstance(running, dict):
        return None
    if running.get("index", 0) < len(result.get("checks") or []):
        return None  # its result is in: a stale mark
    data = dict(running)
    started = _parse_iso(running.get("started_at"))
    if started is not None:
        elapsed = (datetime.now(UTC) - started).total_seconds() * 1000
        data["elapsed_ms"] = max(int(elapsed), 0)
    return data


def _parse_iso(text: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


# -- the pages: editor state, lists, formatting -----------------------------------------


@dataclass
class EditorState:
    """What the code editor of a question page starts with, for a signed-in user."""

    files: dict[str, str]  # role -> the code in the editor
    starter: dict[str, str]  # role -> starter code (for "Reset to starter")
    source: str  # "starter" | "submission" (?from=<id>) | "last" (the last own attempt)
    from_submission: Submission | None = None
    from_refused: str | None = None  # the ?from= value that could not be loaded
    recent: list[Submission] = field(default_factory=list)


def editor_state(question: Question) -> EditorState:
    """A past submission's files with ``?from=<id>`` when the current user may view it
    (``can_view``), else the user's last own attempt at this question (not an instructor's
    regrade of it; the browser's unsubmitted draft, when there is one, still wins over
    it), else the starter files; and the user's last submissions of this question."""
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
    if not wanted:
        last = next((s for s in state.recent if s.regrade_of is None), None)
        if last is None and state.recent:
            last = last_attempt(question)
        if last is not None:
            state.source = "last"
            state.from_submission = last
            state.files.update(
                {role: code for role, code in last.files.items() if role in question.roles}
            )
    return state


def _loadable(wanted: str, question: Question) -> Submission | None:
    if not wanted.isdigit() or not current_user.is_authenticated:
        return None
    submission = db.session.get(Submission, int(wanted))
    if submission is None or submission.question_id != question.id:
        return None
    return submission if can_view(current_user, submission) else None


def last_attempt(question: Question) -> Submission | None:
    """The current user's own last submission of ``question`` (regrades are not theirs)."""
    return db.session.scalar(
        sa.select(Submission)
        .options(so.load_only(*LISTED))
        .where(
            Submission.user_id == current_user.id,
            Submission.question_id == question.id,
            Submission.regrade_of.is_(None),
        )
        .order_by(Submission.id.desc())
        .limit(1)
    )


def editor_strings() -> Markup:
    """The editor script's messages in this language, as its JSON block."""
    return cached(
        ("editor-strings", current_lang()),
        lambda: render_template("submissions/_editor_strings.html"),
    )


# What a list of submissions shows: never the files or the result (up to 100 KB).
LISTED = (
    Submission.id,
    Submission.question_id,
    Submission.status,
    Submission.verdict,
    Submission.score,
    Submission.created_at,
    Submission.regrade_of,
)


# Built once (a question page's per-visitor query): its cache key is computed once too.
_RECENT = (
    sa.select(Submission)
    .options(so.load_only(*LISTED))  # the files of the last one load on demand
    .where(
        Submission.user_id == sa.bindparam("user_id"),
        Submission.question_id == sa.bindparam("question_id"),
    )
    .order_by(Submission.id.desc())
    .limit(sa.bindparam("limit"))
)


def recent_submissions(question: Question, limit: int = 5) -> list[Submission]:
    if not current_user.is_authenticated:
        return []
    values = {"user_id": current_user.id, "question_id": question.id, "limit": limit}
    return list(db.session.scalars(_RECENT, values))


def code_questions() -> list[Question]:
    """The code questions a learner can filter the history by, in bank order."""
    return list(
        db.session.scalars(
            sa.select(Question)
            .options(
                so.load_only(Question.slug, Question.order, Question.title_zh, Question.title_en)
            )
            .where(Question.kind == QuestionKind.CODE.value, Question.published.is_(True))
            .order_by(Question.order, Question.id)
        )
    )


def page_state(data: dict[str, Any]) -> dict[str, Any]:
    """The live state in a snapshot: what the result page's script starts from."""
    return {key: data.get(key) for key in LIVE}


def ordered_checks(checks: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """The checks as the result page reads them, top-down, each with its 1-based number in
    the spec: failed required checks first, then failed advisory ones, skipped ones, and
    the passed ones last; in spec order within each group."""

    def group(check: dict[str, Any]) -> int:
        if check.get("status") in ("failed", "error"):
            return 0 if check.get("required") else 1
        return 2 if check.get("status") == "skipped" else 3

    numbered = list(enumerate(checks, start=1))
    return sorted(numbered, key=lambda item: (group(item[1]), item[0]))


def unreached(check: dict[str, Any]) -> bool:
    """A server check whose exchange never took place: the reference client could not
    start it (the server listens on the wrong port or address, or never listens), so its
    expectations ("0 replies", "0 of 0") say nothing and the check's message explains
    it instead."""
    if check.get("status") != "failed" or check.get("role") != "server":
        return False
    resources = check.get("resources") or {}
    peer = check.get("peer") or {}
    if resources.get("limit") or not str(peer.get("kind", "")).endswith("_client"):
        return False
    if peer.get("connections") or peer.get("sent_bytes") or peer.get("received_bytes"):
        return False
    # the message is the harness's, not one of the expectations'
    messages = [_message_id(item.get("message")) for item in check.get("expectations") or []]
    return _message_id(check.get("message")) not in messages


def _message_id(message: Any) -> Any:
    """What tells two messages apart: id and parameters (older results: the text)."""
    if isinstance(message, dict) and "id" in message:
        return (message["id"], json.dumps(message.get("params"), sort_keys=True, default=str))
    return json.dumps(message, sort_keys=True, default=str)


def failed_expectations(check: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in check.get("expectations") or [] if not item.get("ok")]


def shown_value(value: Any) -> str:
    """An expectation's expected/actual value as text, in the reader's language."""
    value = say(value)
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def shown_value_html(value: Any) -> Markup:
    """``shown_value`` for a page: a message as words, with the data in it (a literal, the
    bytes of a difference) in ``<code>``; any other value (text, a number) in ``<code>``."""
    if is_message(value):
        return Markup('<span class="value-words">%s</span>') % say_html(value)
    return Markup("<code>%s</code>") % shown_value(value)


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
        return gettext("%(ms)s ms", ms=f"{ms:.0f}")
    return gettext("%(seconds)s s", seconds=f"{ms / 1000:.1f}")


def format_score(score: float | None) -> str:
    return "" if score is None else f"{score:.0%}"


def graded_in(submission: Submission) -> dict[str, str] | None:
    """How long the grading took, once over, as the page's ``duration`` filter words it
    in each language (``{"en": "2.1 s", "zh": "2.1 秒"}``); None while pending."""
    took = graded_in_ms(submission)
    if took is None or submission.status not in FINISHED:
        return None
    words = {}
    for lang in LANGUAGES:
        with force_locale(lang):
            words[lang] = format_duration(took)
    return words


def graded_in_ms(submission: Submission) -> float | None:
    if submission.started_at is None or submission.finished_at is None:
        return None
    return (submission.finished_at - submission.started_at).total_seconds() * 1000
