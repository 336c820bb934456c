"""Instructors write quiz items and hints in the studio: the form shows the question's
document, saves it back, and refuses an item without a correct answer (nothing saved)."""

from __future__ import annotations

import yaml

from app.models import db
from tests.instructor.conftest import form_values, question, text_of


def test_the_editor_round_trips_quiz_and_hints(app, instructor):
    values = form_values(instructor.get("/instructor/questions/udp-vs-tcp/edit"), "question-form")
    items = yaml.safe_load(values["quiz"])
    with app.app_context():
        assert items == question("udp-vs-tcp").quiz
    items.append(
        {
            "id": "udp-checksum",
            "type": "single",
            "prompt": {"zh": "UDP 有校验和吗？", "en": "Does UDP have a checksum?"},
            "choices": [
                {"id": "yes", "zh": "有", "en": "Yes"},
                {"id": "no", "zh": "没有", "en": "No"},
            ],
            "answer": "yes",
            "explanation": {"zh": "有，IPv6 中必需。", "en": "Yes; mandatory over IPv6."},
        }
    )
    values.update(
        quiz=yaml.safe_dump(items, allow_unicode=True),
        hints_en="Think of the header\r\n",
        save="Save",
    )
    response = instructor.post("/instructor/questions/udp-vs-tcp/edit", data=values)
    assert response.status_code == 303, text_of(response)[:2000]
    with app.app_context():
        saved = question("udp-vs-tcp")
        assert saved.quiz[-1]["id"] == "udp-checksum" and saved.hints_en == ["Think of the header"]
        assert saved.version == 2  # published, and the quiz is graded: a new version


def test_an_item_without_a_correct_answer_is_refused(app, instructor):
    values = form_values(instructor.get("/instructor/questions/udp-vs-tcp/edit"), "question-form")
    items = yaml.safe_load(values["quiz"])
    del items[0]["answer"]
    values.update(quiz=yaml.safe_dump(items, allow_unicode=True), save="Save")
    response = instructor.post("/instructor/questions/udp-vs-tcp/edit", data=values)
    assert response.status_code == 422
    assert "no correct answer" in text_of(response)
    with app.app_context():
        db.session.expire_all()
        assert "answer" in question("udp-vs-tcp").quiz[0] and question("udp-vs-tcp").version == 1
