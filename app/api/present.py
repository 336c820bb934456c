"""What questions and submissions look like in the API.

Through the API, learners never receive a question's reference files, model answer or
explanation (people read the model answer on the question page, where revealing it is a
deliberate study step; programs grading code have no business fetching it), nor a
spec's internals (peers, expectations, stdin scripts): only each check's id, title, role and
whether it is required. Instructors and admins also get ``answer``, ``explanation`` and
``reference_files``.
"""

from __future__ import annotations

from typing import Any

from flask import url_for

from app.bank.quiz import public_item
from app.grading.transcript import stored_checks
from app.messages import in_both
from app.models import LANGS, Question, Submission, User
from app.submissions.views import FINISHED, snapshot


def _pair(obj: object, field: str) -> dict[str, Any]:
    return {lang: getattr(obj, f"{field}_{lang}") for lang in LANGS}


def question_summary(question: Question) -> dict[str, Any]:
    return {
        "slug": question.slug,
        "topic": question.topic.slug,
        "order": question.order,
        "kind": question.kind,
        "difficulty": question.difficulty,
        "tags": list(question.tags or []),
        "title": _pair(question, "title"),
        "roles": list(question.roles or []),
        "url": url_for("api.question", slug=question.slug),
        "html_url": url_for("questions.question", slug=question.slug),
    }


def public_checks(spec: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The checks of a spec without their internals."""
    checks = []
    for check in (spec or {}).get("checks", []):
        title = check.get("title") or {}
        if isinstance(title, str):
            title = {"en": title, "zh": title}
        checks.append(
            {
                "id": check.get("id"),
                "title": {lang: title.get(lang) or title.get("en") or "" for lang in LANGS},
                "role": check.get("role"),
                "required": bool(check.get("required", True)),
            }
        )
    return checks


def question_detail(question: Question, user: User) -> dict[str, Any]:
    data = question_summary(question)
    data.update(
        published=question.published,
        version=question.version,
        prompt=_pair(question, "prompt"),
        key_points={lang: list(getattr(question, f"key_points_{lang}") or []) for lang in LANGS},
        starter_files=dict(question.starter_files or {}) if question.is_code else {},
        checks=public_checks(question.spec) if question.is_code else [],
        quiz=[public_item(item, with_answer=user.is_instructor) for item in question.quiz or []],
    )
    if user.is_instructor:
        data.update(
            answer=_pair(question, "answer"),
            explanation=_pair(question, "explanation"),
            reference_files=dict(question.reference_files or {}),
        )
    return data


def submission_status(submission: Submission, include_files: bool = False) -> dict[str, Any]:
    """The web's status snapshot, plus the API's links and, once finished, the result."""
    data = snapshot(submission, include_files=include_files)
    data["html_url"] = data.pop("url")
    data["status_url"] = url_for("api.submission", submission_id=submission.id)
    result = submission.result
    finished = submission.status in FINISHED and result and not result.get("partial")
    if finished and isinstance(result.get("checks"), list):
        result = {**result, "checks": stored_checks(result["checks"])}
    data["result"] = in_both(result) if finished else None
    return data


def submission_summary(submission: Submission) -> dict[str, Any]:
    return {
        "id": submission.id,
        "question": submission.question.slug,
        "status": submission.status,
        "verdict": submission.verdict,
        "score": submission.score,
        "created_at": _iso(submission.created_at),
        "finished_at": _iso(submission.finished_at),
        "status_url": url_for("api.submission", submission_id=submission.id),
    }


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None
