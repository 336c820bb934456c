"""One mapping question ⇄ bank document, and one versioning rule for every path."""

from __future__ import annotations

import sqlalchemy as sa

from app.bank import document
from app.bank.archive import bank_question, render_question
from app.bank.files import parse_question
from app.bank.loader import apply_values
from app.instructor import versions
from app.models import Question, QuestionVersion, db


def _question(slug: str) -> Question:
    return db.session.scalar(sa.select(Question).where(Question.slug == slug))


def test_every_question_round_trips_row_document_file_and_snapshot(app):
    with app.app_context():
        for question in db.session.scalars(sa.select(Question)):
            item = bank_question(question)
            again = parse_question(render_question(item), question.slug)
            assert document.to_columns(again) == document.to_columns(item)
            assert document.to_columns(item) == document.snapshot(question)
            stored = document.from_columns(
                document.snapshot(question), question.slug, question.topic.slug
            )
            assert stored == document.from_question(question)


def test_quiz_and_hints_travel_through_the_document(app):
    with app.app_context():
        question = _question("udp-vs-tcp")
        assert len(question.quiz) >= 3
        item = bank_question(question)
        item.hints = {"zh": ["先想首部"], "en": ["Think of the header first"]}
        text = render_question(item)
        assert "::: quiz" in text and "::: hints.en" in text
        parsed = parse_question(text, "x")
        assert parsed.quiz == question.quiz and parsed.hints["en"] == ["Think of the header first"]


def test_an_old_snapshot_without_the_new_fields_gets_the_defaults(app):
    with app.app_context():
        question = _question("tcp-echo")
        old = {
            k: v for k, v in document.snapshot(question).items() if k not in ("quiz", "hints_en")
        }
        item = document.from_columns(old, "tcp-echo", "sockets")
        assert item.quiz == [] and item.hints["en"] == [] and item.spec == question.spec


def test_one_rule_published_graded_change_makes_a_version_draft_is_edited_in_place(app):
    with app.app_context():
        question = _question("udp-vs-tcp")
        first = question.version
        quiz = [dict(question.quiz[0], id="renamed")] + question.quiz[1:]
        assert apply_values(question, {"quiz": quiz}) is True  # published: new version
        assert question.version == first + 1
        assert apply_values(question, {"title_en": "Renamed"}) is False  # not graded
        question.published = False
        question.validation = {"version": question.version, "publishable": True}
        assert versions.apply_edit(question, {"quiz": question.quiz[:1]}) is False  # draft
        assert question.version == first + 1 and question.validation is None
        db.session.commit()
        current = db.session.scalar(
            sa.select(QuestionVersion).where(
                QuestionVersion.question_id == question.id,
                QuestionVersion.version == question.version,
            )
        )
        assert current.snapshot["quiz"] == question.quiz[:1]
        assert current.snapshot["title_en"] == "Renamed"
