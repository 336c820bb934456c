"""The studio's pages. Rules live in the services (``validation``, ``versions``,
``regrade``, ``stats``, ``app.bank``); these views collect input and show results."""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response

from app.bank import document
from app.bank.archive import export_zip, import_bank, read_zip
from app.bank.chapter import ChapterFormatError
from app.bank.files import BankFormatError, parse_spec_text
from app.bank.importer import ImportConflict, import_chapter
from app.bank.loader import record_version
from app.grading.spec import SpecSyntaxError
from app.i18n import current_lang
from app.instructor import bp, editing, listing, reference, stats, validation, versions
from app.instructor import regrade as regrading
from app.instructor.access import admin_required, instructor_required, visible_questions
from app.instructor.forms import (
    ROLE_LABELS,
    ImportForm,
    NewQuestionForm,
    QuestionForm,
    RoleForm,
    WrongAnswerForm,
    choices,
    split_lines,
    split_list,
    unix_newlines,
)
from app.instructor.views import (
    check_ids,
    diff_lines,
    parse_ids,
    reference_data,
    validation_state,
)
from app.jobs.validation import PENDING as PENDING_VALIDATION
from app.markdown import render_inline, render_markdown
from app.messages import say
from app.models import KnownWrongAnswer, Question, Role, Submission, Topic, User, db
from app.pagination import count, paginate

LANGS = ("zh", "en")
MARKDOWN_FIELDS = ("prompt", "answer", "explanation")


@bp.context_processor
def _studio_helpers() -> dict[str, Any]:
    return {"validation_state": validation_state}


def _question(slug: str, *columns: Any) -> Question:
    """The question (404 if none); with ``columns``, only those are loaded."""
    query = sa.select(Question).where(Question.slug == slug)
    if columns:
        query = query.options(so.load_only(*columns))
    question = db.session.scalar(query)
    if question is None:
        abort(404)
    return question


def _topic(slug: str) -> Topic:
    topic = db.session.scalar(sa.select(Topic).where(Topic.slug == slug))
    if topic is None:
        abort(404)
    return topic


def _topics() -> list[Topic]:
    return list(db.session.scalars(sa.select(Topic).order_by(Topic.order, Topic.slug)))


# -- dashboard ---------------------------------------------------------------------------


@bp.get("/")
@instructor_required
def dashboard() -> str:
    pages = paginate(
        sa.select(Topic).order_by(Topic.order, Topic.slug),
        listing.TOPICS_PER_PAGE,
        total=count([], Topic),
    )
    topics = list(pages.items)
    by_topic: dict[int, list[listing.ListedQuestion]] = {topic.id: [] for topic in topics}
    for question in listing.dashboard_questions(list(by_topic)):
        by_topic[question.topic_id].append(question)
    return render_template(
        "instructor/dashboard.html",
        groups=[(topic, by_topic[topic.id]) for topic in topics],
        counts=listing.dashboard_counts(),
        pages=pages,
    )


# -- authoring ---------------------------------------------------------------------------


def _role_files(prefix: str, roles: list[str]) -> dict[str, str]:
    """Files per role posted as ``PREFIX-ROLE`` textareas (CRLF normalised)."""
    return {role: unix_newlines(request.form.get(f"{prefix}-{role}", "")) for role in roles}


def _previews(form: QuestionForm) -> dict[str, Markup]:
    previews = {}
    for lang in LANGS:
        for name in MARKDOWN_FIELDS:
            field = f"{name}_{lang}"
            previews[field] = render_markdown(getattr(form, field).data, top_level=3)
        previews[f"key_points_{lang}"] = _points_html(getattr(form, f"key_points_{lang}").data)
    return previews


def _points_html(text: str | None) -> Markup:
    points = split_lines(text)
    if not points:
        return Markup("")
    items = "".join(f"<li>{render_inline(point)}</li>" for point in points)
    return Markup(f'<ul class="key-points">{items}</ul>')


def _editor(question: Question | None) -> str | Response | tuple[str, int]:
    """The authoring form, for a new question (``question`` None) or an existing one."""
    form = NewQuestionForm() if question is None else QuestionForm()
    form.topic.choices = choices(
        (t.id, f"{t.text('title', current_lang())} ({t.slug})") for t in _topics()
    )
    spec_errors: list[SpecSyntaxError] = []
    file_errors: dict[str, str] = {}
    notice = None
    status = 200
    if not form.is_submitted():
        if question is not None:
            editing.fill_form(form, document.from_question(question), question.topic_id)
            roles = list(question.roles or [])
            starter = {role: question.starter_files.get(role, "") for role in roles}
            reference_files = {role: question.reference_files.get(role, "") for role in roles}
        else:
            roles, starter, reference_files = [], {}, {}
    else:
        roles = split_list(form.roles.data)
        starter = _role_files("starter", roles)
        reference_files = _role_files("reference", roles)
        missing_boxes = [role for role in roles if f"reference-{role}" not in request.form]
        if form.preview.data:
            notice = _("Preview updated. Nothing is saved yet.")
        elif form.update_roles.data or missing_boxes:
            notice = _("Roles updated: fill in the files of each role, then save.")
        else:
            valid = form.validate()
            spec = None
            if (form.spec.data or "").strip():
                spec, spec_errors = parse_spec_text(form.spec.data, roles)
            limit = current_app.config["MAX_CODE_BYTES"]
            for group, files in (("starter", starter), ("reference", reference_files)):
                for role, code in files.items():
                    if len(code.encode()) > limit:
                        file_errors[f"{group}-{role}"] = _(
                            "This file is larger than %(num)d bytes.", num=limit
                        )
            if question is None and valid and _slug_taken(form.slug.data):
                form.slug.errors.append(_("A question with this slug already exists."))
                valid = False
            if valid and not spec_errors and not file_errors:
                values = editing.form_values(form, roles, starter, reference_files, spec)
                saved = (
                    _create(form.slug.data, values)
                    if question is None
                    else _update(question, values)
                )
                if saved is not None:
                    return redirect(url_for("instructor.question", slug=saved.slug), 303)
                form.slug.errors.append(_("A question with this slug already exists."))
            status = 422
    return render_template(
        "instructor/edit.html",
        form=form,
        question=question,
        roles=roles,
        starter=starter,
        reference_files=reference_files,
        spec_errors=spec_errors,
        file_errors=file_errors,
        notice=notice,
        previews=_previews(form),
        open_previews=bool(form.is_submitted() and form.preview.data),
        peers=reference.peers(),
        expectations=reference.expectations(),
        hint_conditions=reference.hint_conditions(),
        example=reference.WORKED_EXAMPLE,
        snippets=reference.snippets(),
    ), status


RESERVED_SLUGS = {"new"}  # /instructor/questions/new is the authoring page


def _slug_taken(slug: str) -> bool:
    if slug in RESERVED_SLUGS:
        return True
    return db.session.scalar(sa.select(Question.id).where(Question.slug == slug)) is not None


def _create(slug: str, values: dict[str, Any]) -> Question | None:
    question = Question(slug=slug, published=False, source="studio", version=1)
    for name, value in values.items():
        setattr(question, name, value)
    db.session.add(question)
    try:
        db.session.flush()
        record_version(question)
        db.session.commit()
    except IntegrityError:  # the same slug, created a moment ago
        db.session.rollback()
        return None
    flash(_("Draft created. Validate it, then publish it when it is ready."), "success")
    return question


def _update(question: Question, values: dict[str, Any]) -> Question:
    changed = document.changed_fields(question, values)
    graded_change = bool(changed & set(document.GRADED_FIELDS))
    new_version = versions.apply_edit(question, values)
    db.session.commit()
    if new_version:
        flash(
            _(
                "How this published question is graded changed, so it is now version "
                "%(num)d and its validation was cleared: validate it again. Past submissions "
                "keep the version they were graded against.",
                num=question.version,
            ),
            "warning",
        )
    elif graded_change:
        flash(_("Saved. The grading changed, so validate the question again."), "success")
    else:
        flash(_("Saved."), "success")
    return question


@bp.route("/questions/new", methods=["GET", "POST"])
@instructor_required
def new_question():
    return _editor(None)


@bp.route("/questions/<slug>/edit", methods=["GET", "POST"])
@instructor_required
def edit_question(slug: str):
    return _editor(_question(slug))


@bp.post("/preview")
@instructor_required
def preview():
    """Markdown -> the public pages' sanitized HTML, for the editor's live preview."""
    body = request.get_json(silent=True) if request.is_json else request.form
    if not isinstance(body, dict) and not hasattr(body, "getlist"):
        return jsonify(error="send a JSON object or a form with a text field"), 400
    text = body.get("text", "")
    if not isinstance(text, str):
        return jsonify(error="text must be a string"), 400
    html = _points_html(text) if body.get("mode") == "lines" else render_markdown(text, top_level=3)
    return str(html), 200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}


# -- a question's studio page: validation, known-wrong answers, publishing, versions ------


def _wrong_form(question: Question) -> WrongAnswerForm:
    form = WrongAnswerForm()
    form.failing_check.choices = choices(
        [("", _("Any check"))] + [(i, i) for i in check_ids(question)]
    )
    return form


def _studio_page(
    question: Question,
    wrong_form: WrongAnswerForm | None = None,
    wrong_files: dict[str, str] | None = None,
    refused: list[str] | None = None,
    status: int = 200,
):
    answers = db.session.scalars(
        sa.select(KnownWrongAnswer)
        .where(KnownWrongAnswer.question_id == question.id)
        .order_by(KnownWrongAnswer.id)
    ).all()
    history = versions.versions(question)
    problems = [] if question.published else validation.publish_problems(question)
    return render_template(
        "instructor/question.html",
        question=question,
        report=question.validation,
        state=validation_state(question),
        data=reference_data(question),
        answers=answers,
        wrong_form=wrong_form or _wrong_form(question),
        wrong_files=wrong_files or {},
        problems=[say(p) for p in problems],
        refused=[say(p) for p in refused] if refused else None,
        history=history,
        submissions=db.session.scalar(
            sa.select(sa.func.count()).where(
                Submission.question_id == question.id, Submission.regrade_of.is_(None)
            )
        ),
    ), status


@bp.get("/questions/<slug>")
@instructor_required
def question(slug: str):
    return _studio_page(_question(slug))


@bp.post("/questions/<slug>/validate")
@instructor_required
def validate(slug: str) -> Response:
    found = _question(slug)
    report = validation.start_validation(found)
    if report.get("state") in PENDING_VALIDATION:
        flash(_("Validation queued: the grading service runs it now."), "success")
    elif report.get("publishable"):
        flash(_("Validation passed for version %(num)d.", num=found.version), "success")
    else:
        flash(_("Validation found problems: see below."), "error")
    return redirect(url_for("instructor.question", slug=slug, _anchor="validation"), 303)


@bp.get("/questions/<slug>/validation.json")
@instructor_required
def validation_progress(slug: str) -> Response:
    """The state of the question's validation, for the page that follows it."""
    found = _question(slug)
    report = found.validation or {}
    return jsonify(
        state=validation_state(found),
        version=report.get("version"),
        done=report.get("done", 0),
        total=report.get("total", 0),
        finished=validation_state(found) != "running",
        publishable=bool(report.get("publishable")),
    )


@bp.post("/questions/<slug>/publish")
@instructor_required
def publish(slug: str):
    found = _question(slug)
    problems = validation.publish(found)
    if problems:
        return _studio_page(found, refused=problems, status=409)
    flash(_("Published: learners can see the question now."), "success")
    return redirect(url_for("instructor.question", slug=slug), 303)


@bp.post("/questions/<slug>/unpublish")
@instructor_required
def unpublish(slug: str) -> Response:
    found = _question(slug)
    found.published = False
    db.session.commit()
    flash(_("Unpublished: the question is a draft again, hidden from learners."), "success")
    return redirect(url_for("instructor.question", slug=slug), 303)


@bp.post("/questions/<slug>/wrong-answers")
@instructor_required
def add_wrong_answer(slug: str):
    found = _question(slug)
    form = _wrong_form(found)
    files = _role_files("wrong", list(found.roles or []))
    files = {role: code for role, code in files.items() if code.strip()}
    valid = form.validate_on_submit()
    if not files:
        form.form_errors.append(_("Give the code of at least one role."))
        valid = False
    limit = current_app.config["MAX_CODE_BYTES"]
    if any(len(code.encode()) > limit for code in files.values()):
        form.form_errors.append(_("This file is larger than %(num)d bytes.", num=limit))
        valid = False
    if not valid:
        return _studio_page(found, wrong_form=form, wrong_files=files, status=422)
    db.session.add(
        KnownWrongAnswer(
            question_id=found.id,
            name=form.name.data,
            files=files,
            failing_check=form.failing_check.data or None,
        )
    )
    found.validation = None  # the last validation did not cover this answer
    db.session.commit()
    flash(_("Known-wrong answer added. Run the validation again."), "success")
    return redirect(url_for("instructor.question", slug=slug, _anchor="wrong-answers"), 303)


@bp.post("/questions/<slug>/wrong-answers/<int:answer_id>/delete")
@instructor_required
def delete_wrong_answer(slug: str, answer_id: int) -> Response:
    found = _question(slug)
    answer = db.session.get(KnownWrongAnswer, answer_id)
    if answer is None or answer.question_id != found.id:
        abort(404)
    db.session.delete(answer)
    found.validation = None
    db.session.commit()
    flash(_("Known-wrong answer deleted. Run the validation again."), "success")
    return redirect(url_for("instructor.question", slug=slug, _anchor="wrong-answers"), 303)


@bp.get("/questions/<slug>/diff")
@instructor_required
def diff(slug: str):
    found = _question(slug)
    numbers = [v.version for v in versions.versions(found)]
    if not numbers:
        abort(404)
    new = request.args.get("to", type=int, default=numbers[-1])
    old = request.args.get("from", type=int, default=numbers[-2] if len(numbers) > 1 else new)
    try:
        patch = versions.diff(found, old, new)
    except LookupError:
        abort(404)
    return render_template(
        "instructor/diff.html",
        question=found,
        old=old,
        new=new,
        numbers=numbers,
        lines=diff_lines(patch),
    )


# -- import / export ---------------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
@instructor_required
def import_questions():
    form = ImportForm()
    error = None
    outcome = None
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        name = secure_filename(upload.filename or "") or "upload.md"
        data = upload.read()
        try:
            if name.lower().endswith(".zip"):
                report = import_bank(*read_zip(data))
                outcome = {
                    "kind": "bank",
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                }
            else:
                imported = import_chapter(
                    data, name, form.topic.data or None, form.prefix.data or None
                )
                outcome = {"kind": "chapter", "questions": imported}
        except (BankFormatError, ChapterFormatError, ImportConflict) as exc:
            db.session.rollback()
            error = str(exc)
            status = 422
        else:
            flash(_("Imported. New questions are unpublished drafts."), "success")
    elif form.is_submitted():
        status = 422
    return render_template(
        "instructor/import.html", form=form, error=error, outcome=outcome
    ), status


def _zip_response(data: bytes, name: str) -> Response:
    response = send_file(
        io.BytesIO(data),
        mimetype="application/zip",
        as_attachment=True,
        download_name=name,
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/questions/<slug>/export.zip")
@instructor_required
def export_question(slug: str) -> Response:
    found = _question(slug)
    return _zip_response(export_zip([found]), f"{found.slug}.zip")


@bp.get("/topics/<slug>/export.zip")
@instructor_required
def export_topic(slug: str) -> Response:
    topic = _topic(slug)
    questions = list(
        db.session.scalars(
            sa.select(Question)
            .where(Question.topic_id == topic.id)
            .order_by(Question.order, Question.slug)
        )
    )
    if not questions:
        flash(_("This topic has no questions to export."), "error")
        return redirect(url_for("instructor.dashboard"), 303)
    return _zip_response(export_zip(questions), f"{topic.slug}.zip")


# -- regrading ---------------------------------------------------------------------------


def _regrade_ids(ids: list[int], question: Question | None = None) -> list[int]:
    """The regrade submissions among ``ids`` of questions the user can see."""
    query = (
        sa.select(Submission.id)
        .join(Question, Submission.question_id == Question.id)
        .where(
            Submission.id.in_(ids),
            Submission.regrade_of.is_not(None),
            visible_questions(current_user),
        )
        .order_by(Submission.id)
    )
    if question is not None:
        query = query.where(Submission.question_id == question.id)
    return list(db.session.scalars(query))


@bp.post("/questions/<slug>/regrade")
@instructor_required
def regrade(slug: str) -> Response:
    found = _question(slug)
    if not found.is_code:
        flash(_("Only code questions are graded."), "error")
        return redirect(url_for("instructor.question", slug=slug), 303)
    ids = regrading.regrade(found)
    if not ids:
        flash(_("Nobody has submitted this question yet: nothing to regrade."), "info")
        return redirect(url_for("instructor.question", slug=slug), 303)
    flash(
        _(
            "Regrading %(num)d submissions against version %(version)d.",
            num=len(ids),
            version=found.version,
        ),
        "success",
    )
    return redirect(url_for("instructor.regrade_page", slug=slug, ids=",".join(map(str, ids))), 303)


@bp.get("/questions/<slug>/regrade")
@instructor_required
def regrade_page(slug: str):
    found = _question(slug, Question.slug, Question.version, Question.topic_id)
    ids = parse_ids(request.args.get("ids"))
    if ids is None:
        abort(400)
    ids = _regrade_ids(ids, found)
    pages = paginate(regrading.rows(ids), regrading.PER_PAGE, total=len(ids))
    return render_template(
        "instructor/regrade.html",
        question=found,
        ids=ids,
        pages=pages,
        rows=pages.items,
        originals=regrading.originals(pages.items),
        progress=regrading.progress(ids),
    )


@bp.get("/regrades/progress")
@instructor_required
def regrade_progress() -> Response | tuple[Response, int]:
    ids = parse_ids(request.args.get("ids"))
    if ids is None:
        return jsonify(error="ids: a comma-separated list of submission ids"), 400
    allowed = _regrade_ids(ids)
    body = regrading.progress(allowed)
    body["ids"] = allowed
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


# -- statistics --------------------------------------------------------------------------


@bp.get("/topics/<slug>/stats")
@instructor_required
def topic_stats(slug: str):
    topic = _topic(slug)
    rows = stats.topic_stats(topic, current_lang())
    return render_template(
        "instructor/stats.html", topic=topic, rows=rows, chart=stats.pass_rate_chart(rows)
    )


@bp.get("/topics/<slug>/stats.csv")
@instructor_required
def topic_stats_csv(slug: str) -> Response:
    topic = _topic(slug)
    text = stats.to_csv(stats.topic_stats(topic, current_lang()))
    response = current_app.response_class(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{topic.slug}-stats.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


# -- users (admins) ----------------------------------------------------------------------


@bp.get("/users")
@admin_required
def users():
    search = request.args.get("q", "").strip()
    where = listing.user_search(search)
    pages = paginate(
        sa.select(User).where(*where).order_by(User.email, User.id),
        listing.USERS_PER_PAGE,
        total=count(where, User),
    )
    return render_template(
        "instructor/users.html",
        pages=pages,
        users=pages.items,
        search=search,
        roles=ROLE_LABELS,
        form=RoleForm(),
    )


@bp.post("/users/<int:user_id>/role")
@admin_required
def change_role(user_id: int) -> Response:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    form = RoleForm()
    page = request.args.get("page", type=int)
    back = redirect(
        url_for("instructor.users", q=request.args.get("q") or None, page=page or None), 303
    )
    if not form.validate_on_submit():
        flash(_("Choose a role."), "error")
        return back
    if user.id == current_user.id and form.role.data != Role.ADMIN.value:
        flash(
            _("You cannot remove your own administrator role: ask another administrator."), "error"
        )
        return back
    before = user.role
    user.role = form.role.data
    db.session.commit()
    if before != user.role:
        flash(
            _("%(email)s is now: %(role)s.", email=user.email, role=str(ROLE_LABELS[user.role])),
            "success",
        )
    return back
