"""The OpenAPI 3.1 description of /api/v1, written by hand and served as JSON.

tests/api/test_openapi.py checks that every route of the blueprint is described here and
validates real responses against these schemas, so the two cannot drift apart silently.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app

from app.api.openapi_practice import practice_paths, practice_responses, practice_schemas
from app.api.openapi_result import result_schemas
from app.bank.files import DIFFICULTIES, KINDS, ROLE, SLUG

JSON = "application/json"


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _response(
    description: str, schema: dict[str, Any] | None = None, headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description}
    if schema is not None:
        response["content"] = {JSON: {"schema": schema}}
    if headers:
        response["headers"] = headers
    return response


def _error(description: str) -> dict[str, Any]:
    return _response(description, ref("Error"))


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): {"$ref": f"#/components/responses/{_ERROR_NAMES[code]}"} for code in codes}


_ERROR_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    413: "TooLarge",
    415: "UnsupportedMediaType",
    422: "UnknownRole",
    429: "TooManyRequests",
}

LOCALIZED = {
    "type": "object",
    "description": "The same text in English and Simplified Chinese.",
    "properties": {"en": {"type": "string"}, "zh": {"type": "string"}},
    "required": ["en", "zh"],
}

STRING_LIST = {"type": "array", "items": {"type": "string"}}
FILES = {
    "type": "object",
    "description": "Role (e.g. server, client) -> Python source text.",
    "additionalProperties": {"type": "string"},
}
TIMESTAMP = {"type": "string", "description": "ISO 8601, UTC."}
SLUG_SCHEMA = {
    "type": "string",
    "pattern": SLUG.pattern,
    "description": "A question's slug: lowercase letters, digits and hyphens.",
    "examples": ["tcp-echo"],
}
MAX_ID = 2**31 - 1
_SLUG_PARAM = {"name": "slug", "in": "path", "required": True, "schema": SLUG_SCHEMA}


def _role_names() -> dict[str, Any]:
    """The roles of the published code questions (a question accepts its own: see
    ``GET /questions/{slug}``), or the pattern of any role name when there are none."""
    from app.models import Question, QuestionKind, db

    found = db.session.scalars(
        sa.select(Question.roles).where(
            Question.published.is_(True), Question.kind == QuestionKind.CODE.value
        )
    )
    roles = sorted({role for roles in found for role in roles or []})
    return {"enum": roles} if roles else {"type": "string", "pattern": ROLE.pattern}


def _schemas() -> dict[str, Any]:
    max_kib = current_app.config["MAX_CODE_BYTES"] // 1024
    return {
        "Error": {
            "type": "object",
            "description": "Every error response: a sentence for people, in English.",
            "properties": {"error": {"type": "string"}},
            "required": ["error"],
        },
        "Localized": LOCALIZED,
        "SubmissionRequest": {
            "type": "object",
            "properties": {
                "question": {**SLUG_SCHEMA, "description": "Slug of a code question."},
                "files": {
                    "type": "object",
                    "minProperties": 1,
                    "propertyNames": _role_names(),
                    "additionalProperties": {
                        "type": "string",
                        "pattern": "\\S",
                        "description": "Python source, not blank.",
                    },
                    "description": (
                        "Role -> Python source (UTF-8 text, at most "
                        f"{max_kib} KiB per file once encoded: 413 above). The role names "
                        "are those of the published code questions; each question accepts "
                        "only its own roles (GET /questions/{slug}), another one is 422. "
                        "Roles you leave out are skipped and named in the result's "
                        "skipped_roles."
                    ),
                },
            },
            "required": ["question", "files"],
            "additionalProperties": False,
        },
        "CheckSummary": {
            "type": "object",
            "description": "A check of a question's grading spec, without its internals.",
            "properties": {
                "id": {"type": "string"},
                "title": ref("Localized"),
                "role": {"type": "string"},
                "required": {
                    "type": "boolean",
                    "description": "false: advisory, never fails the verdict",
                },
            },
            "required": ["id", "title", "role", "required"],
        },
        "QuestionSummary": {
            "type": "object",
            "properties": {
                "slug": {"type": "string"},
                "topic": {"type": "string", "description": "Slug of the topic."},
                "order": {"type": "integer"},
                "kind": {"enum": sorted(KINDS)},
                "difficulty": {"enum": sorted(DIFFICULTIES)},
                "tags": STRING_LIST,
                "title": ref("Localized"),
                "roles": {**STRING_LIST, "description": "Graded roles (empty for concepts)."},
                "url": {"type": "string", "description": "This question in the API."},
                "html_url": {"type": "string", "description": "The question's web page."},
            },
            "required": [
                "slug",
                "topic",
                "order",
                "kind",
                "difficulty",
                "tags",
                "title",
                "roles",
                "url",
                "html_url",
            ],
        },
        "QuestionList": {
            "type": "object",
            "properties": {"questions": {"type": "array", "items": ref("QuestionSummary")}},
            "required": ["questions"],
        },
        "Question": {
            "description": (
                "A question as a learner sees it before answering. Instructors and admins "
                "also get answer, explanation and reference_files; learners never do."
            ),
            "allOf": [ref("QuestionSummary")],
            "type": "object",
            "properties": {
                "published": {"type": "boolean"},
                "version": {"type": "integer"},
                "prompt": ref("Localized"),
                "key_points": {
                    "type": "object",
                    "properties": {"en": STRING_LIST, "zh": STRING_LIST},
                    "required": ["en", "zh"],
                },
                "starter_files": FILES,
                "checks": {"type": "array", "items": ref("CheckSummary")},
                "answer": {**LOCALIZED, "description": "Instructors and admins only."},
                "explanation": {**LOCALIZED, "description": "Instructors and admins only."},
                "reference_files": {**FILES, "description": "Instructors and admins only."},
                "quiz": {"type": "array", "items": ref("QuizItem")},
            },
            "required": [
                "published",
                "version",
                "prompt",
                "key_points",
                "starter_files",
                "checks",
                "quiz",
            ],
        },
        **result_schemas(),
        "Result": {
            "type": "object",
            "description": "The grader's full result object.",
            "properties": {
                "verdict": {"enum": ["passed", "failed", "error"]},
                "score": {
                    "type": "number",
                    "minimum": 0,
                    "maximum": 1,
                    "description": "Share of the required checks passed.",
                },
                "checks": {"type": "array", "items": ref("CheckResult")},
                "message": ref("Message"),
                "skipped_roles": STRING_LIST,
                "duration_ms": {"type": "integer"},
                "engine_version": {"type": "string"},
            },
            "required": [
                "verdict",
                "score",
                "checks",
                "message",
                "skipped_roles",
                "engine_version",
            ],
        },
        "SubmissionStatus": {
            "type": "object",
            "description": (
                "queued -> running -> done (verdict passed|failed) or error (the grader "
                "failed). Poll status_url until status is done or error."
            ),
            "properties": {
                "id": {"type": "integer"},
                "question": {"type": "string"},
                "question_version": {"type": "integer"},
                "status": {"enum": ["queued", "running", "done", "error"]},
                "position": nullable(
                    {
                        "type": "integer",
                        "minimum": 1,
                        "description": "Place in the queue while queued.",
                    }
                ),
                "verdict": nullable({"enum": ["passed", "failed", "error"]}),
                "score": nullable({"type": "number"}),
                "error": nullable({"type": "string"}),
                "created_at": TIMESTAMP,
                "started_at": nullable(TIMESTAMP),
                "finished_at": nullable(TIMESTAMP),
                "attempts": {"type": "integer"},
                "total": nullable(
                    {"type": "integer", "description": "Number of checks, once known."}
                ),
                "done": {"type": "integer", "description": "Number of checks graded so far."},
                "checks": {
                    "type": "array",
                    "items": ref("CheckResult"),
                    "description": "The checks graded so far.",
                },
                "message": nullable(ref("Message")),
                "skipped_roles": STRING_LIST,
                "running": nullable(
                    {
                        "type": "object",
                        "description": "While running: the check running now and for how "
                        "long (elapsed_ms, at the time of the answer).",
                        "properties": {
                            "id": {"type": "string"},
                            "index": {"type": "integer"},
                            "title": ref("Localized"),
                            "started_at": TIMESTAMP,
                            "elapsed_ms": {"type": "integer"},
                        },
                    }
                ),
                "graded_in": nullable(
                    {
                        **ref("Localized"),
                        "description": "Once graded: how long the grading took, as the "
                        "result page says it (`2.1 s`, `2.1 秒`).",
                    }
                ),
                "status_url": {"type": "string"},
                "html_url": {"type": "string", "description": "The web result page."},
                "result": nullable(
                    {**ref("Result"), "description": "Once done or error: the full result."}
                ),
                "files": {**FILES, "description": "Only with ?files=1."},
            },
            "required": [
                "id",
                "question",
                "question_version",
                "status",
                "position",
                "verdict",
                "score",
                "error",
                "created_at",
                "started_at",
                "finished_at",
                "attempts",
                "total",
                "done",
                "checks",
                "message",
                "skipped_roles",
                "status_url",
                "html_url",
                "result",
            ],
        },
        "SubmissionSummary": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "question": {"type": "string"},
                "status": {"enum": ["queued", "running", "done", "error"]},
                "verdict": nullable({"enum": ["passed", "failed", "error"]}),
                "score": nullable({"type": "number"}),
                "created_at": TIMESTAMP,
                "finished_at": nullable(TIMESTAMP),
                "status_url": {"type": "string"},
            },
            "required": [
                "id",
                "question",
                "status",
                "verdict",
                "score",
                "created_at",
                "finished_at",
                "status_url",
            ],
        },
        "SubmissionList": {
            "type": "object",
            "properties": {
                "submissions": {"type": "array", "items": ref("SubmissionSummary")},
                "limit": {"type": "integer"},
            },
            "required": ["submissions", "limit"],
        },
    }


def _responses() -> dict[str, Any]:
    config = current_app.config
    return {
        "BadRequest": _error(
            "Malformed request: not JSON, not an object, a missing or "
            "unknown field, an empty or non-UTF-8 file, a concept question; or a query "
            "parameter out of its range, not one of its values, or given twice."
        ),
        "Unauthorized": _response(
            "No token, a malformed Authorization header, or an unknown or revoked token.",
            ref("Error"),
            {
                "WWW-Authenticate": {
                    "schema": {"type": "string"},
                    "description": 'Bearer realm="Loopback API"',
                }
            },
        ),
        "Forbidden": _error(
            "The submission belongs to somebody else (instructors and "
            "admins may see every submission)."
        ),
        "NotFound": _error(
            "Unknown question or submission (unpublished questions are unknown to learners)."
        ),
        "TooLarge": _error(
            f"A file is over {config['MAX_CODE_BYTES'] // 1024} KiB, or the "
            f"body over {config['MAX_CONTENT_LENGTH'] // 1024} KiB."
        ),
        "UnsupportedMediaType": _error("The body is not sent as application/json."),
        "UnknownRole": _error(
            "A file for a role the question does not have (its roles are in "
            "GET /questions/{slug}); nothing is stored."
        ),
        "TooManyRequests": _response(
            f"Rate limit: at most {config['MAX_PENDING_SUBMISSIONS']} submissions queued or "
            f"running, and {config['SUBMISSIONS_PER_MINUTE']} a minute, per user.",
            ref("Error"),
            {
                "Retry-After": {
                    "schema": {"type": "integer"},
                    "description": "Seconds to wait before trying again.",
                }
            },
        ),
    }


def _paths() -> dict[str, Any]:
    slug = {"name": "slug", "in": "path", "required": True, "schema": SLUG_SCHEMA}
    submission_id = {
        "name": "submission_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    }

    def query(name: str, description: str, schema: dict[str, Any] | None = None):
        return {
            "name": name,
            "in": "query",
            "required": False,
            "description": description,
            "schema": schema or {"type": "string"},
        }

    return {
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document (no token needed).",
                "security": [],
                "responses": {"200": _response("OpenAPI 3.1 document.", {"type": "object"})},
            },
        },
        "/questions": {
            "get": {
                "operationId": "listQuestions",
                "summary": "Published questions, in reading order.",
                "parameters": [
                    query("kind", "Only this kind.", {"enum": sorted(KINDS)}),
                    query("difficulty", "Only this difficulty.", {"enum": sorted(DIFFICULTIES)}),
                    query("tag", "Only questions with this tag."),
                    query("q", "Search titles and prompts."),
                ],
                "responses": {
                    "200": _response("The questions.", ref("QuestionList")),
                    **_errors(400, 401),
                },
            },
        },
        "/questions/{slug}": {
            "get": {
                "operationId": "getQuestion",
                "summary": "One question: prompt, key points, roles, starter files, checks.",
                "description": (
                    "Through the API, learners never get the reference files nor the model "
                    "answer (people reveal it on the question page); instructors and admins "
                    "get them, and unpublished questions."
                ),
                "parameters": [slug],
                "responses": {
                    "200": _response("The question.", ref("Question")),
                    **_errors(401, 404),
                },
            },
        },
        "/submissions": {
            "post": {
                "operationId": "createSubmission",
                "summary": "Submit code for grading.",
                "description": (
                    "Validated and stored (status queued) before it is queued; a "
                    "refused submission stores nothing."
                ),
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": ref("SubmissionRequest")}},
                },
                "responses": {
                    "202": _response(
                        "Accepted and queued.",
                        ref("SubmissionStatus"),
                        {
                            "Location": {
                                "schema": {"type": "string"},
                                "description": "The status_url.",
                            }
                        },
                    ),
                    **_errors(400, 401, 404, 413, 415, 422, 429),
                },
            },
            "get": {
                "operationId": "listSubmissions",
                "summary": "Your recent submissions, newest first.",
                "parameters": [
                    query("question", "Only submissions of this question.", SLUG_SCHEMA),
                    query(
                        "limit",
                        "How many (default 20).",
                        {"type": "integer", "minimum": 1, "maximum": 100},
                    ),
                ],
                "responses": {
                    "200": _response("Your submissions.", ref("SubmissionList")),
                    **_errors(400, 401, 404),
                },
            },
        },
        "/submissions/{submission_id}": {
            "get": {
                "operationId": "getSubmission",
                "summary": "Status, checks so far and, once finished, the full result.",
                "parameters": [
                    submission_id,
                    query(
                        "files",
                        "true (or 1): include the submitted files.",
                        {"type": "boolean"},
                    ),
                ],
                "responses": {
                    "200": _response("The submission.", ref("SubmissionStatus")),
                    **_errors(400, 401, 403, 404),
                },
            },
        },
    }


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Loopback API",
            "version": "1.1.0",
            "summary": "Submit Python code to network-programming questions and get it graded.",
            "description": (
                "Authenticate with an API token from your profile page (/auth/profile) or "
                "`flask users token EMAIL`: `Authorization: Bearer <token>`. Every error is "
                '`{"error": message}`.'
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": {**_paths(), **practice_paths(_SLUG_PARAM)},
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token, lb_...",
                },
            },
            "schemas": {**_schemas(), **practice_schemas(SLUG_SCHEMA)},
            "responses": {**_responses(), **practice_responses()},
        },
    }
