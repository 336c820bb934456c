"""The practice part of the OpenAPI document: queue, reviews, quiz, progress, mock
interviews (app/api/practice.py)."""

from __future__ import annotations

from typing import Any

from app.bank.quiz import ITEM_ID, TYPES
from app.practice.scheduling import RATINGS, STATES
from app.practice.service import MOCK_COUNTS, MOCK_MINUTES

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): {"$ref": f"#/components/responses/{ERRORS[code]}"} for code in codes}


ERRORS = {
    400: "BadRequest",
    401: "Unauthorized",
    404: "NotFound",
    415: "UnsupportedMediaType",
    422: "PracticeUnprocessable",
}
TIMESTAMP = {"type": "string", "description": "ISO 8601, UTC."}
ANSWER = {
    "description": (
        "A choice id (single), a list of choice ids (multiple), every choice id in order "
        "(ordering), or text (fill)."
    ),
    "anyOf": [
        {"type": "string", "maxLength": 200},
        {"type": "array", "items": {"type": "string"}, "maxItems": 20},
    ],
}


def practice_schemas(slug_schema: dict[str, Any]) -> dict[str, Any]:
    localized = _ref("Localized")
    queue_entry = {
        "type": "object",
        "properties": {
            "question": slug_schema,
            "kind": {"enum": ["code", "concept"]},
            "due_at": {"anyOf": [TIMESTAMP, {"type": "null"}]},
        },
        "required": ["question", "kind", "due_at"],
    }
    summary_entry = {
        "type": "object",
        "properties": {
            "question": slug_schema,
            "kind": {"enum": ["code", "concept"]},
            "quiz_score": {"anyOf": [{"type": "number"}, {"type": "null"}]},
            "self_rating": {"anyOf": [{"enum": list(RATINGS)}, {"type": "null"}]},
            "verdict": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "submission_score": {"anyOf": [{"type": "number"}, {"type": "null"}]},
            "submission_id": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "seconds": {"type": "integer", "description": "Time spent on the question."},
            "strength": {"type": "number", "minimum": 0, "maximum": 1},
            "weak": {
                "type": "boolean",
                "description": "Put at the front of the practice queue.",
            },
        },
        "required": ["question", "kind", "quiz_score", "verdict", "seconds", "weak"],
    }
    return {
        "QuizItem": {
            "type": "object",
            "description": "A quiz item; answer and explanation for instructors only.",
            "properties": {
                "id": {"type": "string", "pattern": ITEM_ID.pattern},
                "type": {"enum": list(TYPES)},
                "prompt": localized,
                "choices": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string"},
                            "zh": {"type": "string"},
                            "en": {"type": "string"},
                        },
                        "required": ["id", "zh", "en"],
                    },
                },
                "answer": {"anyOf": [{"type": "string"}, {"type": "array"}]},
                "explanation": localized,
            },
            "required": ["id", "type", "prompt", "choices"],
        },
        "PracticeQueue": {
            "type": "object",
            "properties": {
                "due": {"type": "array", "items": queue_entry},
                "new": {"type": "array", "items": queue_entry},
            },
            "required": ["due", "new"],
        },
        "ReviewRequest": {
            "type": "object",
            "properties": {"question": slug_schema, "rating": {"enum": list(RATINGS)}},
            "required": ["question", "rating"],
            "additionalProperties": False,
        },
        "Review": {
            "type": "object",
            "properties": {
                "question": slug_schema,
                "due_at": TIMESTAMP,
                "state": {"enum": list(STATES.values())},
            },
            "required": ["question", "due_at", "state"],
        },
        "QuizAnswers": {
            "type": "object",
            "properties": {
                "answers": {
                    "type": "object",
                    "propertyNames": {"pattern": ITEM_ID.pattern},
                    "additionalProperties": ANSWER,
                    "maxProperties": 20,
                }
            },
            "required": ["answers"],
            "additionalProperties": False,
        },
        "QuizResult": {
            "type": "object",
            "properties": {
                "score": {"type": "number", "minimum": 0, "maximum": 1},
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string"},
                            "correct": {"type": "boolean"},
                            "explanation": localized,
                        },
                        "required": ["id", "correct", "explanation"],
                    },
                },
                "due_at": TIMESTAMP,
                "state": {"enum": list(STATES.values())},
            },
            "required": ["score", "items"],
        },
        "Progress": {
            "type": "object",
            "properties": {
                "topics": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "topic": {"type": "string"},
                            **{
                                name: {"type": "integer", "minimum": 0}
                                for name in ("seen", "passed", "mastered", "due")
                            },
                        },
                        "required": ["topic", "seen", "passed", "mastered", "due"],
                    },
                },
                "streak_days": {"type": "integer", "minimum": 0},
            },
            "required": ["topics", "streak_days"],
        },
        "MockInterviewRequest": {
            "type": "object",
            "properties": {
                "topic": {"type": "string", "pattern": slug_schema["pattern"]},
                "count": {
                    "type": "integer",
                    "minimum": MOCK_COUNTS.start,
                    "maximum": MOCK_COUNTS.stop - 1,
                },
                "minutes": {
                    "type": "integer",
                    "minimum": MOCK_MINUTES.start,
                    "maximum": MOCK_MINUTES.stop - 1,
                },
            },
            "required": ["topic", "count", "minutes"],
            "additionalProperties": False,
        },
        "MockInterview": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "topic": {"type": "string"},
                "questions": {"type": "array", "items": slug_schema},
                "started_at": TIMESTAMP,
                "ends_at": TIMESTAMP,
                "finished": {"type": "boolean"},
                "summary": {"anyOf": [{"type": "array", "items": summary_entry}, {"type": "null"}]},
            },
            "required": ["id", "questions", "ends_at", "finished", "summary"],
        },
    }


def practice_responses() -> dict[str, Any]:
    return {
        "PracticeUnprocessable": {
            "description": (
                "Well-formed JSON the endpoint cannot use: a rating other than again, hard, "
                "good, easy; a quiz item the question does not have, or an answer of the "
                "wrong type for its item; a count or minutes out of range. Nothing is stored."
            ),
            "content": {JSON: {"schema": _ref("Error")}},
        }
    }


def _ok(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": _ref(schema)}}}


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": _ref(schema)}}}


def practice_paths(slug_param: dict[str, Any]) -> dict[str, Any]:
    return {
        "/practice/queue": {
            "get": {
                "operationId": "getPracticeQueue",
                "summary": "Questions due for review now, and new ones, for the token's user.",
                "responses": {"200": _ok("The queue.", "PracticeQueue"), **_errors(400, 401)},
            }
        },
        "/practice/reviews": {
            "post": {
                "operationId": "createReview",
                "summary": "Rate yourself on a question; FSRS schedules its next review.",
                "requestBody": _body("ReviewRequest"),
                "responses": {
                    "201": _ok("The new schedule.", "Review"),
                    **_errors(400, 401, 404, 415, 422),
                },
            }
        },
        "/questions/{slug}/quiz": {
            "post": {
                "operationId": "answerQuiz",
                "summary": "Answer a question's quiz items; the result also rates the question.",
                "description": (
                    "Unanswered items count as wrong. All correct rates the question good, "
                    "any wrong answer again. 404 when the question has no quiz."
                ),
                "parameters": [slug_param],
                "requestBody": _body("QuizAnswers"),
                "responses": {
                    "200": _ok("Score and per-item results.", "QuizResult"),
                    **_errors(400, 401, 404, 415, 422),
                },
            }
        },
        "/progress": {
            "get": {
                "operationId": "getProgress",
                "summary": "Per topic: questions seen, passed, mastered, due; the streak.",
                "responses": {"200": _ok("Your progress.", "Progress"), **_errors(400, 401)},
            }
        },
        "/mock-interviews": {
            "post": {
                "operationId": "startMockInterview",
                "summary": "Start a timed mock interview on a topic (a mix of kinds).",
                "requestBody": _body("MockInterviewRequest"),
                "responses": {
                    "201": _ok("The interview.", "MockInterview"),
                    **_errors(400, 401, 404, 415, 422),
                },
            }
        },
        "/mock-interviews/{mock_id}/finish": {
            "post": {
                "operationId": "finishMockInterview",
                "summary": "Finish a mock interview: its summary; weak questions go first.",
                "parameters": [
                    {
                        "name": "mock_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                    }
                ],
                "responses": {
                    "200": _ok("The finished interview.", "MockInterview"),
                    **_errors(400, 401, 404),
                },
            }
        },
    }
