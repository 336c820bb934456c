"""Practice pages: the queue walk-through, self-ratings and quiz answers from the question
page, progress; and what the question page shows of them (question_context)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.bank.quiz import QuizAnswerError, public_item
from app.fragments import remembered
from app.i18n import current_lang
from app.models import MockInterview, Question, db
from app.practice import chart, hints, queue, service
from app.practice.scheduling import RATINGS, Source, published_question, review
from app.practice.web import bp

T = TypeVar("T")


def _published(slug: str) -> Question:
    found = published_question(slug)
    if found is None:
        abort(404)
    return found


def _next_url(question: Question) -> str:
    """Back into the walk-through, the mock interview, or the question page."""
    mock_id = request.form.get("mock", type=int)
    if mock_id:
        return url_for("practice.mock", mock_id=mock_id)
    if request.form.get("practice") == "1":
        return url_for("practice.start")
    return url_for("questions.question", slug=question.slug)


@bp.get("/")
@login_required
def start() -> Response | str:
    """The next question of the queue (due first, then new), in walk-through mode;
    ``?after=SLUG`` skips the question the learner just left."""
    found = queue.queue(current_user.id)
    after = request.args.get("after", "")
    ordered = [q for q, _ in found.due] + found.new
    if after in [q.slug for q in ordered]:
        index = [q.slug for q in ordered].index(after)
        ordered = ordered[index + 1 :] + ordered[:index]
    if not ordered:
        return render_template("practice/done.html")
    return redirect(url_for("questions.question", slug=ordered[0].slug, practice=1))


@bp.post("/questions/<slug>/rate")
@login_required
def rate(slug: str) -> Response:
    question = _published(slug)
    rating = request.form.get("rating", "")
    if rating not in RATINGS:
        abort(400)
    review(current_user.id, question.id, rating, Source.SELF)
    db.session.commit()
    flash(_("Rated. This question comes back when it is due."), "success")
    return redirect(_next_url(question), 303)


def _form_answers(question: Question) -> dict[str, Any]:
    """The quiz form's answers as the API takes them; an ordering's positions become the
    ordered list (two choices in one position: QuizAnswerError)."""
    answers: dict[str, Any] = {}
    for item in question.quiz or []:
        key = f"item-{item['id']}"
        if item["type"] == "multiple":
            answers[item["id"]] = request.form.getlist(key)
        elif item["type"] == "ordering":
            positions = {c["id"]: request.form.get(f"{key}-{c['id']}", "") for c in item["choices"]}
            if not all(positions.values()):
                continue
            if len(set(positions.values())) != len(positions):
                raise QuizAnswerError(_("Give each step of the order a different position."))
            answers[item["id"]] = sorted(positions, key=lambda c: positions[c])
        elif request.form.get(key):
            answers[item["id"]] = request.form.get(key, "")
    return answers


def _form_given(question: Question) -> dict[str, dict[str, Any]]:
    """What the quiz form sent, as the form shows it again (see _given)."""
    given = {}
    for item in question.quiz or []:
        key = f"item-{item['id']}"
        positions = {}
        if item["type"] == "ordering":
            for choice in item["choices"]:
                value = request.form.get(f"{key}-{choice['id']}", "")
                if value.isdigit():
                    positions[choice["id"]] = int(value)
        given[item["id"]] = {
            "chosen": request.form.getlist(key),
            "positions": positions,
            "text": request.form.get(key, "") if item["type"] == "fill" else "",
        }
    return given


@bp.post("/questions/<slug>/quiz")
@login_required
def quiz(slug: str) -> Response | tuple[str, int]:
    question = _published(slug)
    if not question.quiz:
        abort(404)
    try:
        service.answer_quiz(current_user.id, question, _form_answers(question))
    except QuizAnswerError as exc:
        db.session.rollback()
        # The question page again, its form holding what was sent and saying what to fix.
        g.quiz_refused = {"error": str(exc), "given": _form_given(question)}
        g.page_url = url_for("questions.question", slug=slug)
        return current_app.view_functions["questions.question"](slug=slug), 422
    db.session.commit()
    args: dict[str, Any] = {"slug": slug, "_anchor": "quiz"}
    if request.form.get("practice") == "1":
        args["practice"] = 1
    if request.form.get("mock"):
        args["mock"] = request.form.get("mock", type=int)
    return redirect(url_for("questions.question", **args), 303)


@bp.get("/progress")
@login_required
def progress() -> str:
    days = queue.daily(current_user.id)
    return render_template(
        "practice/progress.html",
        topics=queue.progress(current_user.id),
        streak=queue.streak(current_user.id),
        chart=chart.layout(days),
        days=days,
    )


def of_version(
    question: Question, part: Hashable, compute: Callable[[], T], stamp: int | None
) -> T:
    """``compute()`` for this version of ``question``, kept per process (app/fragments.py)
    until it changes (in place too: ``updated_at``, and the content ``stamp`` the page read,
    which any writer moves): a page then reads none of the hints, spec, quiz or key points.
    Kept values are shared: never change them."""
    key = (part, question.id, question.version, question.updated_at, stamp)
    return remembered(key, compute)


def _quiz_items(question: Question) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """What a learner sees of the quiz, and each item's explanation by id."""
    items = question.quiz or []
    return [public_item(item) for item in items], {i["id"]: i["explanation"] for i in items}


def _given(kind: str, answer: Any) -> dict[str, Any]:
    """What the form shows of one stored answer (the learner's own, right or wrong): the
    ticked choice ids, an ordering's position of each choice id, a fill-in's text. An answer
    of another shape (the API's, an older version's) shows as nothing."""
    chosen: list[str] = []
    positions: dict[str, int] = {}
    text = ""
    if kind == "single" and isinstance(answer, str):
        chosen = [answer]
    elif kind == "multiple" and isinstance(answer, list):
        chosen = [a for a in answer if isinstance(a, str)]
    elif kind == "ordering" and isinstance(answer, list):
        positions = {a: n for n, a in enumerate(answer, start=1) if isinstance(a, str)}
    elif kind == "fill" and isinstance(answer, str):
        text = answer
    return {"chosen": chosen, "positions": positions, "text": text}


def _quiz_view(question: Question, user_id: int | None, stamp: int | None) -> dict[str, Any]:
    """The quiz, the learner's last result of it and the answers its form holds: those of
    the last attempt, or those of a refused one (``g.quiz_refused``) with what to fix."""
    items, explanations = of_version(question, "quiz", lambda: _quiz_items(question), stamp)
    refused = g.get("quiz_refused")
    if refused is not None:
        given, error = refused["given"], refused["error"]
        return {"quiz": items, "quiz_results": {}, "quiz_given": given, "quiz_error": error}
    attempt = None
    if user_id is not None and items:
        attempt = service.latest_attempt(user_id, question.id)
    results, given = {}, {}
    if attempt is not None and request.args.get("practice") != "new":
        kinds = {item["id"]: item["type"] for item in items}
        answers = attempt.answers if isinstance(attempt.answers, dict) else {}
        for row in attempt.results:
            if row["id"] in explanations:
                results[row["id"]] = {
                    "correct": row["correct"],
                    "explanation": explanations[row["id"]],
                }
                given[row["id"]] = _given(kinds[row["id"]], answers.get(row["id"]))
    return {"quiz": items, "quiz_results": results, "quiz_given": given, "quiz_error": None}


def question_context(question: Question, stamp: int | None) -> dict[str, Any]:
    """What the question page shows of practice: the quiz (and the learner's last result),
    unlocked hints, the walk-through, an active mock interview that holds this question
    (``stamp``: the content stamp the page read, see of_version)."""
    user_id = current_user.id if current_user.is_authenticated else None
    lang = current_lang()
    mock = None
    if user_id is not None and (mock_id := request.values.get("mock", type=int)):
        found = db.session.get(MockInterview, mock_id)
        if found is not None and found.user_id == user_id and question.id in found.question_ids:
            mock = found if service.active_mock(user_id) is found else None
            if mock is not None:
                service.note_opened(mock, question)
            db.session.commit()
    every = of_version(question, ("hints", lang), lambda: hints.all_hints(question, lang), stamp)
    unlocked, total, passed = hints.unlocked(question, user_id, lang, every)
    return {
        **_quiz_view(question, user_id, stamp),
        # request.values: a refused quiz form is answered with this page (its fields count)
        "practising": request.values.get("practice") == "1",
        "mock": mock,
        "hints_unlocked": unlocked,
        "hints_total": total,
        "hints_passed": passed,
        "key_points": of_version(
            question, ("key-points", lang), lambda: question.key_points(lang), stamp
        ),
        "ratings": list(RATINGS),
    }


def home_context() -> dict[str, Any]:
    """The home page's practice panel and the list's status per question."""
    if not current_user.is_authenticated:
        return {"practice_queue": None, "practice_statuses": {}}
    return {
        "practice_queue": queue.queue(current_user.id),
        "practice_statuses": queue.statuses(current_user.id),
        "active_mock": service.active_mock(current_user.id),
    }
