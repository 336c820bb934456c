"""The practice endpoints: queue, reviews, quiz, progress, mock interviews; bad input is
a clear 4xx and stores nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.models import MockInterview, PracticeCard, PracticeReview, QuizAttempt, db


def _stored(app) -> tuple[int, ...]:
    with app.app_context():
        return tuple(
            db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (PracticeCard, PracticeReview, QuizAttempt, MockInterview)
        )


def test_review_then_queue(api):
    queue = api.get("/practice/queue").get_json()
    assert (
        queue["due"] == []
        and {"question": "tcp-echo", "kind": "code", "due_at": None} in queue["new"]
    )
    response = api.post("/practice/reviews", json={"question": "udp-vs-tcp", "rating": "again"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["question"] == "udp-vs-tcp" and body["state"] == "learning" and body["due_at"]
    queue = api.get("/practice/queue").get_json()
    assert "udp-vs-tcp" not in [entry["question"] for entry in queue["new"]]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"question": "no-such-question", "rating": "good"}, 404),
        ({"question": "udp-vs-tcp", "rating": "great"}, 422),
        ({"question": "udp-vs-tcp", "rating": 3}, 422),
        ({"question": "udp-vs-tcp"}, 400),
        ({"question": "udp-vs-tcp", "rating": "good", "extra": 1}, 400),
        (["udp-vs-tcp", "good"], 400),
    ],
)
def test_bad_reviews_store_nothing(app, api, body, status):
    response = api.post("/practice/reviews", json=body)
    assert response.status_code == status and response.get_json()["error"]
    assert _stored(app) == (0, 0, 0, 0)


def test_learners_get_quiz_items_without_answers_instructors_with(api, instructor_api):
    learner = api.get("/questions/udp-vs-tcp").get_json()["quiz"]
    assert len(learner) >= 3 and all("answer" not in item for item in learner)
    assert {"id", "type", "prompt", "choices"} <= set(learner[0])
    teacher = instructor_api.get("/questions/udp-vs-tcp").get_json()["quiz"]
    assert all("answer" in item for item in teacher)


def test_answering_the_quiz_scores_explains_and_schedules(app, api, instructor_api):
    items = instructor_api.get("/questions/hol-scenarios").get_json()["quiz"]
    answers = {item["id"]: item["answer"] for item in items}
    response = api.post("/questions/hol-scenarios/quiz", json={"answers": answers})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["score"] == 1 and all(item["correct"] for item in body["items"])
    assert body["items"][0]["explanation"]["zh"]
    first = items[0]["id"]
    wrong = api.post("/questions/hol-scenarios/quiz", json={"answers": {first: ["x"]}})
    assert wrong.get_json()["score"] == 0
    assert _stored(app)[:3] == (1, 2, 2)


@pytest.mark.parametrize(
    ("slug", "body", "status"),
    [
        ("hol-scenarios", {"answers": {"hol-conditions": "shared"}}, 422),  # multiple: a list
        ("hol-scenarios", {"answers": {"hol-scenario": ["backup"]}}, 422),  # single: a string
        ("hol-scenarios", {"answers": {"hol-layers": 3}}, 422),
        ("hol-scenarios", {"answers": {"no-such-item": "a"}}, 422),
        ("hol-scenarios", {"answers": ["backup"]}, 422),
        ("hol-scenarios", {"answer": {}}, 400),
        ("tcp-echo", {"answers": {}}, 404),  # no quiz
        ("no-such-question", {"answers": {}}, 404),
    ],
)
def test_bad_quiz_answers_store_nothing(app, api, slug, body, status):
    response = api.post(f"/questions/{slug}/quiz", json=body)
    assert response.status_code == status and response.get_json()["error"]
    assert _stored(app) == (0, 0, 0, 0)


def test_mock_interview_and_progress(app, api, other_api):
    response = api.post("/mock-interviews", json={"topic": "sockets", "count": 4, "minutes": 30})
    assert response.status_code == 201
    mock = response.get_json()
    assert len(mock["questions"]) == 4 and mock["ends_at"] and not mock["finished"]
    assert other_api.post(f"/mock-interviews/{mock['id']}/finish").status_code == 404
    finished = api.post(f"/mock-interviews/{mock['id']}/finish").get_json()
    assert (
        finished["finished"] and [e["question"] for e in finished["summary"]] == mock["questions"]
    )
    assert all(entry["weak"] for entry in finished["summary"])  # nothing answered
    queue = api.get("/practice/queue").get_json()
    assert {e["question"] for e in queue["due"][:4]} == set(mock["questions"])
    progress = api.get("/progress").get_json()
    assert progress["topics"][0]["topic"] == "sockets" and progress["topics"][0]["seen"] == 4
    assert progress["streak_days"] == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"topic": "nope", "count": 4, "minutes": 30}, 404),
        ({"topic": "sockets", "count": 0, "minutes": 30}, 422),
        ({"topic": "sockets", "count": 4, "minutes": 1000}, 422),
        ({"topic": "sockets", "count": "4", "minutes": 30}, 422),
        ({"topic": "sockets", "count": 4}, 400),
    ],
)
def test_bad_mock_interviews_store_nothing(app, api, body, status):
    response = api.post("/mock-interviews", json=body)
    assert response.status_code == status and response.get_json()["error"]
    assert _stored(app) == (0, 0, 0, 0)
