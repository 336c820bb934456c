"""The practice endpoints of /api/v1 (described in openapi_practice.py): the queue,
reviews, quiz answers, progress and mock interviews, for the token's user."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import jsonify
from werkzeug.wrappers import Response

from app.api import bp
from app.api.auth import current_api_user
from app.api.errors import ApiError
from app.api.routes import MAX_ID, _json_body
from app.bank.files import SLUG
from app.bank.quiz import QuizAnswerError
from app.models import MockInterview, Question, Topic, db
from app.practice import queue as practice_queue
from app.practice import service
from app.practice.scheduling import RATINGS, Source, published_question, review


def _iso(moment) -> str:
    return practice_queue.aware(moment).isoformat()


def _object(fields: tuple[str, ...], example: str) -> dict[str, Any]:
    """The body as a JSON object with exactly ``fields`` (400 otherwise)."""
    body = _json_body()
    if not isinstance(body, dict):
        raise ApiError(400, f"The body must be a JSON object: {example}.")
    if unknown := sorted(set(body) - set(fields)):
        raise ApiError(400, f"Unknown field(s): {', '.join(unknown)}. Expected: {example}.")
    if missing := [name for name in fields if name not in body]:
        raise ApiError(400, f"Missing field(s): {', '.join(missing)}. Expected: {example}.")
    return body


def _question(slug: Any) -> Question:
    if not isinstance(slug, str) or not SLUG.fullmatch(slug):
        raise ApiError(400, '"question" must be a question\'s slug, e.g. "udp-vs-tcp".')
    found = published_question(slug)
    if found is None:
        raise ApiError(404, f"Unknown question '{slug}'.")
    return found


@bp.get("/practice/queue")
def practice_queue_view() -> Response:
    found = practice_queue.queue(current_api_user().id)
    entry = lambda q, due: {"question": q.slug, "kind": q.kind, "due_at": due}  # noqa: E731
    return jsonify(
        due=[entry(q, _iso(due)) for q, due in found.due],
        new=[entry(q, None) for q in found.new],
    )


@bp.post("/practice/reviews")
def practice_review() -> tuple[Response, int]:
    body = _object(("question", "rating"), '{"question": SLUG, "rating": "good"}')
    question = _question(body["question"])
    if not isinstance(body["rating"], str) or body["rating"] not in RATINGS:
        raise ApiError(422, f'"rating" must be one of: {", ".join(RATINGS)}.')
    card = review(current_api_user().id, question.id, body["rating"], Source.SELF)
    db.session.commit()
    return jsonify(question=question.slug, due_at=_iso(card.due_at), state=card.state), 201


@bp.post("/questions/<slug>/quiz")
def answer_quiz(slug: str) -> Response:
    body = _object(("answers",), '{"answers": {ITEM_ID: ANSWER}}')
    if not isinstance(body["answers"], dict):
        raise ApiError(422, '"answers" must be an object {ITEM_ID: ANSWER}.')
    question = published_question(slug) if SLUG.fullmatch(slug) else None
    if question is None or not question.quiz:
        raise ApiError(
            404, f"Question '{slug}' has no quiz." if question else f"Unknown question '{slug}'."
        )
    try:
        result = service.answer_quiz(current_api_user().id, question, body["answers"])
    except QuizAnswerError as exc:
        db.session.rollback()
        raise ApiError(422, f"{exc}.") from None
    db.session.commit()
    return jsonify(
        score=result["score"],
        items=result["items"],
        due_at=_iso(result["due_at"]),
        state=result["state"],
    )


@bp.get("/progress")
def progress() -> Response:
    user_id = current_api_user().id
    topics = [
        {**{k: v for k, v in row.items() if k != "topic"}, "topic": row["topic"].slug}
        for row in practice_queue.progress(user_id)
    ]
    return jsonify(topics=topics, streak_days=practice_queue.streak(user_id))


def _mock_json(mock: MockInterview) -> dict[str, Any]:
    view = service.mock_view(mock)
    view["started_at"], view["ends_at"] = _iso(view["started_at"]), _iso(view["ends_at"])
    return view


def _whole(value: Any, name: str, allowed: range) -> int:
    """A whole number in ``allowed`` (JSON's 5.0 is 5, as JSON Schema says)."""
    whole = isinstance(value, int | float) and not isinstance(value, bool) and value == int(value)
    if not whole or int(value) not in allowed:
        raise ApiError(
            422, f'"{name}" must be a whole number from {allowed.start} to {allowed.stop - 1}.'
        )
    return int(value)


@bp.post("/mock-interviews")
def start_mock() -> tuple[Response, int]:
    body = _object(("topic", "count", "minutes"), '{"topic": "sockets", "count": 4, "minutes": 30}')
    topic_slug = body["topic"]
    if not isinstance(topic_slug, str) or not SLUG.fullmatch(topic_slug):
        raise ApiError(400, '"topic" must be a topic\'s slug, e.g. "sockets".')
    count = _whole(body["count"], "count", service.MOCK_COUNTS)
    minutes = _whole(body["minutes"], "minutes", service.MOCK_MINUTES)
    topic = db.session.scalar(sa.select(Topic).where(Topic.slug == topic_slug))
    if topic is None:
        raise ApiError(404, f"Unknown topic '{topic_slug}'.")
    try:
        mock = service.start_mock(current_api_user().id, topic, count, minutes)
    except service.PracticeError as exc:
        db.session.rollback()
        raise ApiError(404, f"{exc}.") from None
    db.session.commit()
    return jsonify(_mock_json(mock)), 201


@bp.post("/mock-interviews/<int:mock_id>/finish")
def finish_mock(mock_id: int) -> Response:
    mock = db.session.get(MockInterview, mock_id) if mock_id <= MAX_ID else None
    if mock is None or mock.user_id != current_api_user().id:
        raise ApiError(404, f"No mock interview {mock_id} of yours.")
    service.finish_mock(mock)
    db.session.commit()
    return jsonify(_mock_json(mock))
