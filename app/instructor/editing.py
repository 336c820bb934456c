"""The studio's form ⇄ the question's bank document (app/bank/document.py): the form is one
more view of the document, so the studio edits the same fields the bank files hold."""

from __future__ import annotations

from typing import Any

from app.bank import document
from app.bank.archive import render_quiz
from app.bank.files import BankQuestion
from app.grading.spec import dump_spec_yaml
from app.instructor.forms import QuestionForm, split_lines, split_list

LANGS = document.LANGS
MARKDOWN_FIELDS = ("prompt", "answer", "explanation")
LINE_FIELDS = document.BILINGUAL_LISTS  # one entry per line in the form


def fill_form(form: QuestionForm, item: BankQuestion, topic_id: int) -> None:
    form.topic.data = topic_id
    form.order.data = item.order
    form.kind.data = item.kind
    form.difficulty.data = item.difficulty
    form.tags.data = ", ".join(item.tags)
    for lang in LANGS:
        getattr(form, f"title_{lang}").data = item.title[lang]
        for name in MARKDOWN_FIELDS:
            getattr(form, f"{name}_{lang}").data = getattr(item, name)[lang]
        for name in LINE_FIELDS:
            getattr(form, f"{name}_{lang}").data = "\n".join(getattr(item, name)[lang])
    form.roles.data = ", ".join(item.roles)
    form.spec.data = dump_spec_yaml(item.spec) if item.spec else ""
    form.quiz.data = render_quiz(item.quiz) if item.quiz else ""


def form_document(
    form: QuestionForm,
    roles: list[str],
    starter: dict[str, str],
    reference_files: dict[str, str],
    spec: dict[str, Any] | None,
) -> BankQuestion:
    """The document the posted form describes (slug and topic are the row's business)."""
    text = lambda name: {lang: getattr(form, f"{name}_{lang}").data or "" for lang in LANGS}  # noqa: E731
    return BankQuestion(
        slug="",
        topic="",
        order=form.order.data or 0,
        kind=form.kind.data,
        difficulty=form.difficulty.data,
        tags=split_list(form.tags.data),
        title=text("title"),
        **{name: text(name) for name in MARKDOWN_FIELDS},
        **{
            name: {lang: split_lines(getattr(form, f"{name}_{lang}").data) for lang in LANGS}
            for name in LINE_FIELDS
        },
        roles=roles,
        starter_files={role: code for role, code in starter.items() if code.strip()},
        reference_files={role: code for role, code in reference_files.items() if code.strip()},
        spec=spec,
        quiz=getattr(form, "quiz_items", []),
    )


def form_values(form: QuestionForm, *args: Any) -> dict[str, Any]:
    """Column values of the posted form (see form_document for ``args``)."""
    return {"topic_id": form.topic.data, **document.to_columns(form_document(form, *args))}
