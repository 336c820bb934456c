"""The question list, topic overviews and question pages."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for

from app.i18n import current_lang
from app.practice.pages import home_context as practice_home
from app.practice.pages import question_context as practice_context
from app.questions import bp, queries
from app.questions.queries import Filters


@bp.get("/")
def index() -> str:
    filters = Filters.from_args(request.args)
    questions = queries.listed(filters)
    return render_template(
        "questions/index.html",
        **practice_home(),
        filters=filters,
        groups=queries.grouped_by_topic(questions),
        count=len(questions),
        tags=queries.all_tags(),
    )


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says: send them the SVG."""
    return redirect(url_for("static", filename="favicon.svg"), 301)


@bp.get("/topics/<slug>")
def topic(slug: str) -> str:
    found = queries.topic_by_slug(slug)
    questions = queries.topic_questions(found) if found else []
    if found is None or not questions:  # a topic of drafts only is not public yet
        abort(404)
    return render_template("questions/topic.html", topic=found, questions=questions)


@bp.get("/questions/<slug>")
def question(slug: str) -> str:
    found = queries.published_question(slug)
    if found is None:
        abort(404)
    before, after = queries.neighbours(found)
    lang = current_lang()
    return render_template(
        "questions/question.html",
        question=found,
        key_points=found.key_points(lang),
        reveal=request.args.get("reveal") == "1",
        previous=before,
        next_question=after,
        **practice_context(found),
    )
