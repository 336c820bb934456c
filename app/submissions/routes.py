"""Submit code, follow its grading, look back at past submissions."""

from __future__ import annotations

import gzip
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import (
    abort,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup

from app.fragments import FragmentCache
from app.i18n import current_lang
from app.models import Question, Submission, db
from app.pagination import paginate
from app.static_assets import accepts_gzip
from app.submissions import bp, trace_view, views
from app.submissions.service import Rejected, can_view, create_submission
from app.submissions.views import FINISHED, snapshot


def wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def rejected_response(error: Rejected):
    if wants_json():
        response = jsonify(error=error.message)
    else:
        response = render_template("submissions/rejected.html", error=error)
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after else {}
    return response, error.status, headers


def submitted_files() -> object:
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise Rejected(400, 'The request body must be a JSON object {"files": {role: code}}.')
        return body.get("files")
    files: dict[str, str | bytes] = {}
    for key, value in request.form.items():
        if key.startswith("files-") and value.strip():
            files[key.removeprefix("files-")] = value
    for key, upload in request.files.items():
        if key.startswith("files-") and upload.filename:
            files[key.removeprefix("files-")] = upload.read()
    return files


@bp.post("/questions/<slug>/submissions")
def submit(slug: str):
    if not current_user.is_authenticated:
        if wants_json():
            return jsonify(error="Sign in to submit code."), 401
        return redirect(url_for("auth.login", next=url_for("questions.question", slug=slug)))
    try:
        submission = create_submission(current_user, slug, submitted_files())
    except Rejected as error:
        return rejected_response(error)
    if wants_json():
        body = snapshot(submission)
        body["status_url"] = url_for("submissions.status", submission_id=submission.id)
        return jsonify(body), 202, {"Location": body["url"]}
    return redirect(url_for("submissions.show", submission_id=submission.id), 303)


def visible_submission(submission_id: int) -> Submission:
    submission = db.session.get(Submission, submission_id)
    if submission is None:
        abort(404)
    if not can_view(current_user, submission):
        abort(403)
    return submission


@bp.get("/submissions/<int:submission_id>")
@login_required
def show(submission_id: int):
    submission = visible_submission(submission_id)
    return render_template(
        "submissions/show.html",
        submission=submission,
        data=snapshot(submission, include_files=True),
    )


@bp.get("/submissions/<int:submission_id>.json")
@login_required
def status(submission_id: int):
    submission = visible_submission(submission_id)
    return jsonify(snapshot(submission, include_files=True))


@bp.get("/submissions/<int:submission_id>/live.json")
@login_required
def live(submission_id: int):
    """The live state alone (what the socket sends): what the page polls without a socket."""
    return jsonify(views.live_state(visible_submission(submission_id)))


@bp.after_request
def private_pages(response):
    """Submission pages hold code: never cached by a shared cache or kept by the browser."""
    if request.endpoint != "submissions.submit":
        response.headers["Cache-Control"] = "private, no-store"
    return response


HISTORY_PER_PAGE = 50
TITLES = (Question.title_zh, Question.title_en)


@bp.get("/history")
@login_required
def history():
    slug = request.args.get("question", "")
    mine = [Submission.user_id == current_user.id]
    question = None
    if slug:
        question = db.session.scalar(
            sa.select(Question)
            .options(so.load_only(Question.slug, Question.published, *TITLES))
            .where(Question.slug == slug)
        )
        if question is None or not (question.published or current_user.is_instructor):
            abort(404)
        mine.append(Submission.question_id == question.id)
    query = (
        sa.select(Submission)
        .options(
            so.load_only(*views.LISTED),
            so.joinedload(Submission.question).load_only(Question.slug, *TITLES),
        )
        .where(*mine)
        .order_by(Submission.id.desc())
    )
    total, regrades = db.session.execute(
        sa.select(sa.func.count(), sa.func.count(Submission.regrade_of)).where(*mine)
    ).one()
    pages = paginate(query, HISTORY_PER_PAGE, total)
    return render_template(
        "submissions/history.html",
        pages=pages,
        submissions=pages.items,
        total=total,
        regrades=regrades,
        question=question,
    )


@bp.get("/submissions/<int:submission_id>/checks")
@login_required
def checks_fragment(submission_id: int):
    """The result page's list of checks alone (an HTML fragment): the page's script swaps it
    in once graded, so the checks are rendered by one template only. A finished one goes
    gzipped to a client that takes it (a few hundred KB of HTML, to every watching page
    at once when the verdict is out)."""
    submission = visible_submission(submission_id)
    if submission.status not in FINISHED:
        return _render_checks(submission)
    rendered = _finished_checks(submission)
    if accepts_gzip():
        response = make_response(rendered.gzipped)
        response.headers["Content-Encoding"] = "gzip"
        response.content_type = "text/html; charset=utf-8"
    else:
        response = make_response(rendered.html)
    response.vary.add("Accept-Encoding")
    return response


# Finished results' lists of checks kept rendered, per process (a few hundred KB each).
RENDERED_RESULTS = 16


@dataclass(frozen=True)
class RenderedChecks:
    html: Markup
    gzipped: bytes


def checks_html(submission: Submission, data: dict | None = None) -> Markup:
    """The list of checks, as the result page includes it and the fragment serves it."""
    if submission.status not in FINISHED:
        return _render_checks(submission, data)
    return _finished_checks(submission, data).html


def _render_checks(submission: Submission, data: dict | None = None) -> Markup:
    shown = data if data is not None else snapshot(submission)
    return Markup(render_template("submissions/_checks.html", submission=submission, data=shown))


def _finished_checks(submission: Submission, data: dict | None = None) -> RenderedChecks:
    """Once graded the list never changes: rendered (and compressed) once per language and
    process, not once per page."""
    key = (submission.id, submission.finished_at, current_lang())

    def render() -> RenderedChecks:
        html = _render_checks(submission, data)
        return RenderedChecks(html, gzip.compress(html.encode(), compresslevel=6, mtime=0))

    return current_app.extensions["rendered_results"].get(key, render)


@bp.record_once
def _init_cache(state) -> None:
    state.app.extensions["rendered_results"] = FragmentCache(RENDERED_RESULTS)


# -- template helpers for the submission pages and the question page's editor ----------
bp.add_app_template_global(checks_html, "submission_checks")
bp.add_app_template_global(views.editor_state, "submission_editor")
bp.add_app_template_global(views.editor_strings, "editor_strings")
bp.add_app_template_global(views.code_questions, "code_questions")
bp.add_app_template_global(views.page_state, "submission_page_state")
bp.add_app_template_global(views.failed_expectations, "failed_expectations")
bp.add_app_template_global(views.ordered_checks, "ordered_checks")
bp.add_app_template_global(views.unreached, "unreached_check")
bp.add_app_template_global(trace_view.build, "trace_diagram")
bp.add_app_template_filter(views.shown_value_html, "shown_html")
bp.add_app_template_filter(views.format_when, "when")
bp.add_app_template_filter(views.iso_when, "iso_when")
bp.add_app_template_filter(views.format_duration, "duration")
bp.add_app_template_filter(views.format_score, "score")
