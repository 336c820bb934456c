"""Validate before publishing: the reference must pass, known-wrong answers must fail."""

from __future__ import annotations

import sqlalchemy as sa

from app.models import KnownWrongAnswer, db
from tests.grading.test_chapter_answers import ANSWERS
from tests.instructor.conftest import question, text_of, wait_for_validation
from tests.instructor.test_authoring import new_question_values, udp_reference

WRONG_SERVER = (ANSWERS / "udp_echo_server_fixed_address.py").read_text()


def test_publishing_is_refused_before_validation(app, instructor):
    instructor.post("/instructor/questions/new", data=new_question_values(instructor))
    response = instructor.post("/instructor/questions/udp-ack/publish")
    assert response.status_code == 409
    text = text_of(response)
    assert "Not published. Fix these first:" in text
    assert "Run the validation for the current version first." in text
    with app.app_context():
        assert question("udp-ack").published is False


def test_a_failing_validation_is_shown_and_blocks_publishing(app, instructor):
    """A stored report (no grading needed): the wrong answer passed, so NOT OK."""
    with app.app_context():
        udp = question("udp-echo")
        udp.published = False
        udp.validation = {
            "version": udp.version,
            "ran_at": "2026-11-29T16:00:00+00:00",
            "spec_errors": [],
            "reference": {
                "verdict": "passed",
                "ok": True,
                "failed_checks": [],
                "score": 1.0,
                "message": {"en": "All passed", "zh": "全部通过"},
                "result": {"verdict": "passed", "checks": []},
            },
            "wrong": [
                {
                    "id": 1,
                    "name": "secretly right",
                    "expected": "failed",
                    "expected_check": None,
                    "verdict": "passed",
                    "failed_checks": [],
                    "ok": False,
                }
            ],
            "publishable": False,
        }
        db.session.commit()
    page = instructor.get("/instructor/questions/udp-echo")
    text = text_of(page)
    assert "Validation failing" in text and "NOT OK" in text and "secretly right" in text
    response = instructor.post("/instructor/questions/udp-echo/publish")
    assert response.status_code == 409
    assert "The known-wrong answer “secretly right” does not fail as expected" in text_of(response)
    with app.app_context():
        assert question("udp-echo").published is False


def test_known_wrong_answers_are_added_and_deleted(app, instructor):
    url = "/instructor/questions/udp-echo/wrong-answers"
    empty = instructor.post(url, data={"name": "nothing", "failing_check": ""})
    assert empty.status_code == 422 and "Give the code of at least one role." in text_of(empty)
    bad_check = instructor.post(
        url, data={"name": "x", "failing_check": "no-such-check", "wrong-server": WRONG_SERVER}
    )
    assert bad_check.status_code == 422
    with app.app_context():
        stored = sa.select(sa.func.count()).select_from(KnownWrongAnswer)
        from_the_bank = db.session.scalar(stored)  # the bank file's own wrong answers
        assert from_the_bank > 0
        question("udp-echo").validation = {"version": 1, "publishable": True}
        db.session.commit()
    added = instructor.post(
        url,
        data={
            "name": "first sender only",
            "failing_check": "server-acks-each-sender",
            "wrong-server": WRONG_SERVER.replace("\n", "\r\n"),
        },
    )
    assert added.status_code == 303
    with app.app_context():
        assert db.session.scalar(stored) == from_the_bank + 1
        answer = db.session.scalar(
            sa.select(KnownWrongAnswer).where(KnownWrongAnswer.name == "first sender only")
        )
        assert answer.files == {"server": WRONG_SERVER}
        assert answer.failing_check == "server-acks-each-sender"
        assert question("udp-echo").validation is None  # it did not cover the new answer
        answer_id = answer.id
    page = text_of(instructor.get("/instructor/questions/udp-echo"))
    assert "first sender only" in page and "must fail server-acks-each-sender" in page
    other = instructor.post(f"/instructor/questions/tcp-echo/wrong-answers/{answer_id}/delete")
    assert other.status_code == 404  # an answer of another question
    deleted = instructor.post(f"{url}/{answer_id}/delete")
    assert deleted.status_code == 303
    with app.app_context():
        assert db.session.get(KnownWrongAnswer, answer_id) is None


def test_validate_then_publish_a_new_udp_question(app, instructor, workers, sandbox):
    """Grading really runs, as a job of the grading threads (not in the request): the
    reference passes, the known-wrong server fails the check it should, then the question
    can be published (and unpublished)."""
    values = new_question_values(instructor, reference=udp_reference(app))
    assert instructor.post("/instructor/questions/new", data=values).status_code == 303
    added = instructor.post(
        "/instructor/questions/udp-ack/wrong-answers",
        data={
            "name": "answers the first sender only",
            "failing_check": "server-acks-each-sender",
            "wrong-server": WRONG_SERVER,
        },
    )
    assert added.status_code == 303

    queued = instructor.post("/instructor/questions/udp-ack/validate", follow_redirects=True)
    assert "Validation queued: the grading service runs it now." in text_of(queued)
    refused = instructor.post("/instructor/questions/udp-ack/publish")
    assert refused.status_code == 409  # not while it runs
    assert "The validation is still running: wait for it to finish." in text_of(refused)
    progress = wait_for_validation(instructor, "udp-ack")
    assert progress == {
        "state": "passing",
        "version": 1,
        "done": 2,
        "total": 2,
        "finished": True,
        "publishable": True,
    }
    response = instructor.get("/instructor/questions/udp-ack")
    assert response.status_code == 200
    text = text_of(response)
    assert "Validation passed for version 1." in text, text[:3000]
    assert "OK: the reference passes." in text
    assert "answers the first sender only" in text and "✓ OK" in text
    html = response.get_data(as_text=True)
    assert 'id="check-server-acks-each-sender"' in html  # the reference's checks, shown
    with app.app_context():
        report = question("udp-ack").validation
        assert report["reference"]["ok"] and report["wrong"][0]["ok"]
        assert "server-acks-each-sender" in report["wrong"][0]["failed_checks"]

    published = instructor.post("/instructor/questions/udp-ack/publish", follow_redirects=True)
    assert "Published: learners can see the question now." in text_of(published)
    with app.app_context():
        assert question("udp-ack").published is True
    assert instructor.client.get("/questions/udp-ack").status_code == 200

    instructor.post("/instructor/questions/udp-ack/unpublish")
    with app.app_context():
        assert question("udp-ack").published is False
