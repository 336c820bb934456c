"""The endpoints of /api/v1 (described in openapi.py)."""

from __future__ import annotations

import json
import re
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import jsonify, request
from werkzeug.wrappers import Response

from app.api import bp, openapi
from app.api.auth import current_api_user
from app.api.errors import ApiError
from app.api.present import (
    question_detail,
    question_summary,
    submission_status,
    submission_summary,
)
from app.bank.files import DIFFICULTIES, KINDS, SLUG
from app.models import Question, Submission, db
from app.questions import queries
from app.submissions.service import Rejected, can_view, create_submission
from app.submissions.views import LISTED

SUBMISSION_FIELDS = ("question", "files")
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL
DIGITS = re.compile(r"[0-9]{1,9}")
FLAG_VALUES = {
    "0": False,
    "false": False,
    "no": False,
    "1": True,
    "true": True,
    "yes": True,
}


# Query parameters each endpoint knows; any other is refused, as unknown body fields are.
QUERY = {
    "api.questions": ("kind", "difficulty", "tag", "q"),
    "api.submissions": ("question", "limit"),
    "api.submission": ("files",),
}


@bp.before_request
def refuse_unknown_query_parameters() -> None:
    known = QUERY.get(request.endpoint or "", ())
    unknown = sorted(set(request.args) - set(known))
    if unknown:
        expected = f"Known: {', '.join(known)}." if known else "This endpoint takes none."
        raise ApiError(400, f"Unknown query parameter(s): {', '.join(unknown)}. {expected}")


# --- submissions ----------------------------------------------------------------------------


def _json_body() -> Any:
    if not request.is_json:
        got = request.mimetype or "no content type"
        raise ApiError(
            415, f"Send the body as JSON with 'Content-Type: application/json' (got {got})."
        )
    data = request.get_data(cache=True)  # a body over MAX_CONTENT_LENGTH raises 413 here
    try:
        return json.loads(data)
    except UnicodeDecodeError:
        raise ApiError(400, "The body is not valid UTF-8.") from None
    except ValueError as exc:
        raise ApiError(400, f"The body is not valid JSON: {exc}.") from None
    except RecursionError:
        raise ApiError(400, "The body is not valid JSON: nested too deeply.") from None


@bp.post("/submissions")
def submit() -> tuple[Response, int, dict[str, str]]:
    body = _json_body()
    if not isinstance(body, dict):
        raise ApiError(
            400, 'The body must be a JSON object: {"question": SLUG, "files": {ROLE: CODE}}.'
        )
    unknown = sorted(set(body) - set(SUBMISSION_FIELDS))
    if unknown:
        raise ApiError(
            400,
            f"Unknown field(s): {', '.join(unknown)}. Expected: {', '.join(SUBMISSION_FIELDS)}.",
        )
    if "question" not in body:
        raise ApiError(400, 'Missing "question": the slug of a code question, e.g. "tcp-echo".')
    slug = body["question"]
    if not isinstance(slug, str) or not slug.strip():
        raise ApiError(400, '"question" must be the slug of a code question, e.g. "tcp-echo".')
    if "files" not in body:
        raise ApiError(400, 'Missing "files": an object {ROLE: CODE}.')
    try:
        submission = create_submission(current_api_user(), slug.strip(), body["files"])
    except Rejected as rejected:
        headers = {"Retry-After": str(rejected.retry_after)} if rejected.retry_after else {}
        raise ApiError(rejected.status, rejected.message, headers) from None
    data = submission_status(submission)
    return jsonify(data), 202, {"Location": data["status_url"]}


@bp.get("/submissions/<int:submission_id>")
def submission(submission_id: int) -> Response:
    include_files = _flag("files")
    # Ids are 32-bit in the database: a larger one names no submission (and must not reach
    # PostgreSQL, which would refuse it as out of range).
    found = db.session.get(Submission, submission_id) if submission_id <= MAX_ID else None
    if found is None:
        raise ApiError(404, f"No submission {submission_id}.")
    if not can_view(current_api_user(), found):
        raise ApiError(403, f"Submission {submission_id} is not yours.")
    return jsonify(submission_status(found, include_files=include_files))


@bp.get("/submissions")
def submissions() -> Response:
    user = current_api_user()
    limit = _limit()
    query = (
        sa.select(Submission)
        .options(  # the summary's columns: never the files or the result
            so.load_only(*LISTED, Submission.finished_at),
            so.joinedload(Submission.question).load_only(Question.slug),
        )
        .where(Submission.user_id == user.id)
        .order_by(Submission.id.desc())
        .limit(limit)
    )
    slug = _single("question")
    if slug is not None:
        if not SLUG.fullmatch(slug):
            raise ApiError(400, "'question' must be a question's slug, e.g. tcp-echo.")
        question = db.session.scalar(sa.select(Question).where(Question.slug == slug))
        if question is None or not (question.published or user.is_instructor):
            raise ApiError(404, f"Unknown question '{slug}'.")
        query = query.where(Submission.question_id == question.id)
    found = db.session.scalars(query).all()
    return jsonify(submissions=[submission_summary(s) for s in found], limit=limit)


def _single(name: str) -> str | None:
    """A query parameter given at most once, as sent (None when absent)."""
    values = request.args.getlist(name)
    if len(values) > 1:
        raise ApiError(400, f"Give '{name}' at most once.")
    return values[0] if values else None


def _limit() -> int:
    raw = _single("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not DIGITS.fullmatch(raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiError(400, f"'limit' must be a whole number from 1 to {MAX_LIMIT}.")
    return int(raw)


def _flag(name: str) -> bool:
    raw = _single(name)
    if raw is None:
        return False
    if raw.lower() not in FLAG_VALUES:
        raise ApiError(400, f"'{name}' must be true or false (or 1 or 0).")
    return FLAG_VALUES[raw.lower()]


def _choice(name: str, allowed: tuple[str, ...]) -> None:
    raw = _single(name)
    if raw is not None and raw not in allowed:
        raise ApiError(400, f"'{name}' must be one of: {', '.join(allowed)}.")


# --- questions ------------------------------------------------------------------------------


@bp.get("/questions")
def questions() -> Response:
    """Published questions in reading order; the page's filters (kind, difficulty, tag, q)."""
    _choice("kind", KINDS)  # the page drops unknown values; the API says so
    _choice("difficulty", DIFFICULTIES)
    found = queries.listed(queries.Filters.from_args(request.args))
    return jsonify(questions=[question_summary(q) for q in found])


@bp.get("/questions/<slug>")
def question(slug: str) -> Response:
    user = current_api_user()
    found = db.session.scalar(sa.select(Question).where(Question.slug == slug))
    if found is None or not (found.published or user.is_instructor):
        raise ApiError(404, f"Unknown question '{slug}'.")
    return jsonify(question_detail(found, user))


# --- the description ------------------------------------------------------------------------


@bp.get("/openapi.json", endpoint="openapi")
def openapi_document() -> Response:
    return jsonify(openapi.document())
