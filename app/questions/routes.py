"""The question list, topic overviews and question pages."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, session, url_for
from flask_login import current_user

from app.fragments import cached
from app.i18n import current_lang
from app.page_cache import share
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
    lang = current_lang()
    place = queries.placed(slug, lang)
    if place is None:
        abort(404)
    reveal = request.args.get("reveal") == "1"
    # What is the same for every visitor of this version in this language is rendered once
    # (Markdown, Pygments, the template) and kept (app/fragments.py); the editor, the
    # practice state (quiz result, hints unlocked, the rating form) are the visitor's.
    # The content stamp too: an edit that leaves updated_at alone (SQL by hand) moves it.
    version = (place.id, place.version, place.updated_at, place.stamp, lang)

    def page() -> str:
        found = queries.published_question(slug)
        if found is None:  # unpublished since
            abort(404)
        text = cached(
            ("question-text", *version),
            lambda: render_template("questions/_question_text.html", question=found),
        )
        answer = cached(
            ("question-answer", *version),
            lambda: render_template("questions/_question_answer.html", question=found),
        )
        pager = cached(
            ("question-pager", *version, place.before, place.after),
            lambda: render_template(
                "questions/_question_pager.html",
                previous=place.before,
                next_question=place.after,
            ),
        )
        return render_template(
            "questions/question.html",
            question=found,
            text=text,
            answer=answer,
            pager=pager,
            reveal=reveal,
            **practice_context(found, place.stamp),
        )

    if _same_for_every_visitor():
        share(place.stamp, lang)  # app/page_cache.py serves it again to the sessionless
        return cached(
            (
                "question-page",
                *version,
                reveal,
                place.before,
                place.after,
                place.topic,
                request.full_path,
            ),
            page,
        )
    return page()


def _same_for_every_visitor() -> bool:
    """An anonymous visitor with no message waiting, on the page's own address (its links
    back carry the query string): the whole page is one of a few per question version."""
    return (
        not current_user.is_authenticated
        and not session.get("_flashes")
        and request.query_string in (b"", b"reveal=1")
    )
