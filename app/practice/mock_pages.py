"""Mock interview pages: choose a topic, a number of questions and a time; the countdown
page (which survives a reload: everything is on the server); the summary."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.models import MockInterview, Question, Topic, db
from app.practice import service
from app.practice.queue import aware
from app.practice.web import bp


def _topics() -> list[Topic]:
    with_questions = sa.select(Question.topic_id).where(Question.published.is_(True))
    return list(
        db.session.scalars(
            sa.select(Topic).where(Topic.id.in_(with_questions)).order_by(Topic.order, Topic.id)
        )
    )


@bp.get("/mock")
@login_required
def mock_new() -> Response | str:
    running = service.active_mock(current_user.id)
    db.session.commit()
    if running is not None:
        return redirect(url_for("practice.mock", mock_id=running.id))
    return render_template("practice/mock_new.html", topics=_topics(), error=None)


@bp.post("/mock")
@login_required
def mock_start() -> Response | tuple[str, int]:
    topic = db.session.scalar(sa.select(Topic).where(Topic.slug == request.form.get("topic", "")))
    count = request.form.get("count", type=int)
    minutes = request.form.get("minutes", type=int)
    error = None
    if topic is None:
        error = _("Choose a topic.")
    elif count not in service.MOCK_COUNTS or minutes not in service.MOCK_MINUTES:
        error = _("Choose 1 to 10 questions and 1 to 120 minutes.")
    if error is None:
        try:
            mock = service.start_mock(current_user.id, topic, count, minutes)
        except service.PracticeError:
            error = _("This topic has no questions yet.")
    if error is not None:
        db.session.rollback()
        return render_template("practice/mock_new.html", topics=_topics(), error=error), 422
    db.session.commit()
    return redirect(url_for("practice.mock", mock_id=mock.id), 303)


def _own(mock_id: int) -> MockInterview:
    mock = db.session.get(MockInterview, mock_id)
    if mock is None or mock.user_id != current_user.id:
        abort(404)
    return mock


@bp.get("/mock/<int:mock_id>")
@login_required
def mock(mock_id: int) -> str:
    found = _own(mock_id)
    service.active_mock(current_user.id)  # finishes it when its time ran out
    db.session.commit()
    questions = service.mock_questions(found)
    return render_template(
        "practice/mock.html",
        mock=found,
        questions=questions,
        by_slug={q.slug: q for q in questions},
        ends_at=aware(found.ends_at),
    )


@bp.post("/mock/<int:mock_id>/finish")
@login_required
def mock_finish(mock_id: int) -> Response:
    found = _own(mock_id)
    service.finish_mock(found)
    db.session.commit()
    flash(_("Mock interview finished: the weakest questions are first in your queue."), "success")
    return redirect(url_for("practice.mock", mock_id=mock_id), 303)
