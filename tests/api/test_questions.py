"""Questions through the API: learners never get reference solutions or spec internals."""

from __future__ import annotations

import json

import sqlalchemy as sa

from app.models import Question, db
from tests.api.helpers import reference
from tests.helpers import bank_check_count


def published_slugs(app) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(sa.select(Question.slug).where(Question.published.is_(True)))
        )


def test_list_has_every_published_question_with_its_summary(app, api):
    response = api.get("/questions")
    assert response.status_code == 200
    questions = response.get_json()["questions"]
    assert sorted(q["slug"] for q in questions) == sorted(published_slugs(app))
    echo = next(q for q in questions if q["slug"] == "tcp-echo")
    assert echo["topic"] == "sockets" and echo["kind"] == "code" and echo["order"] == 1
    assert echo["roles"] == ["server", "client"] and "tcp" in echo["tags"]
    assert echo["title"] == {
        "en": "TCP echo server and client",
        "zh": "实现 TCP 回显服务器与客户端",
    }
    assert echo["difficulty"] == "easy" and echo["url"] == "/api/v1/questions/tcp-echo"
    orders = [q["order"] for q in questions]
    assert orders == sorted(orders)


def test_list_filters_like_the_question_page(api):
    code = api.get("/questions?kind=code").get_json()["questions"]
    assert code and all(q["kind"] == "code" for q in code)
    assert "tcp-echo" in {q["slug"] for q in code} and "udp-vs-tcp" not in {q["slug"] for q in code}
    tagged = api.get("/questions?tag=udp").get_json()["questions"]
    assert tagged and all("udp" in q["tags"] for q in tagged)


def test_unpublished_questions_are_not_listed(app, api):
    with app.app_context():
        question = db.session.scalar(sa.select(Question).where(Question.slug == "tcp-echo"))
        question.published = False
        db.session.commit()
    slugs = {q["slug"] for q in api.get("/questions").get_json()["questions"]}
    assert "tcp-echo" not in slugs
    response = api.get("/questions/tcp-echo")
    assert response.status_code == 404 and "Unknown question" in response.get_json()["error"]


def test_a_learner_gets_prompt_roles_starters_and_checks_but_no_solution(app, api):
    response = api.get("/questions/tcp-echo")
    assert response.status_code == 200
    data = response.get_json()
    assert data["slug"] == "tcp-echo" and data["roles"] == ["server", "client"]
    assert "socket" in data["prompt"]["en"] and data["prompt"]["zh"]
    assert data["key_points"]["en"] and data["key_points"]["zh"]
    assert set(data["starter_files"]) <= {"server", "client"}
    assert len(data["checks"]) == bank_check_count("tcp-echo")
    for check in data["checks"]:
        assert set(check) == {"id", "title", "role", "required"}
        assert check["role"] in ("server", "client") and check["title"]["zh"]
    for hidden in ("reference_files", "answer", "explanation", "spec"):
        assert hidden not in data
    text = response.get_data(as_text=True)
    for code in reference(app, "tcp-echo").values():
        body = json.dumps(code)[1:-1]
        assert body not in text
    for internal in ('"peer"', '"expect"', '"stdin"', "tcp_echo_server"):
        assert internal not in text


def test_no_question_leaks_reference_files_to_a_learner(app, api):
    for slug in published_slugs(app):
        data = api.get(f"/questions/{slug}").get_json()
        assert "reference_files" not in data and "answer" not in data, slug


def test_an_instructor_also_gets_the_solution_and_unpublished_questions(app, instructor_api):
    data = instructor_api.get("/questions/tcp-echo").get_json()
    assert data["reference_files"] == reference(app, "tcp-echo")
    assert data["answer"]["en"] and data["answer"]["zh"] and "explanation" in data
    with app.app_context():
        question = db.session.scalar(sa.select(Question).where(Question.slug == "tcp-echo"))
        question.published = False
        db.session.commit()
    response = instructor_api.get("/questions/tcp-echo")
    assert response.status_code == 200 and response.get_json()["published"] is False


def test_concept_question_has_no_code_parts(api):
    data = api.get("/questions/udp-vs-tcp").get_json()
    assert data["kind"] == "concept"
    assert data["roles"] == [] and data["checks"] == [] and data["starter_files"] == {}


def test_unknown_question_is_a_json_404(api):
    response = api.get("/questions/no-such-question")
    assert response.status_code == 404
    assert response.get_json() == {"error": "Unknown question 'no-such-question'."}
