"""Command-line tools: `flask bank ...` (more groups are added by later features)."""

from __future__ import annotations

import os

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from app.bank.files import BankFormatError

bank = AppGroup("bank", help="Load and import interview questions.")


@bank.command("load")
def bank_load() -> None:
    """Load the built-in question bank (idempotent: updates changed questions)."""
    from app.bank.loader import load_bank

    try:
        report = load_bank()
    except BankFormatError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"bank: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged"
    )


@bank.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--topic", help="Chapter format: topic slug for the drafts.")
@click.option("--prefix", help="Chapter format: slug prefix, questions become PREFIX-qN.")
def bank_import(path: str, topic: str | None, prefix: str | None) -> None:
    """Import questions: a zip of bank files (from `flask bank export`), or a chapter in the
    book format (.md). New questions arrive as unpublished drafts; a bad file imports
    nothing."""
    from app.bank.archive import import_bank, read_zip
    from app.bank.chapter import ChapterFormatError
    from app.bank.importer import ImportConflict, import_chapter

    with open(path, "rb") as handle:
        data = handle.read()
    try:
        if path.endswith(".zip"):
            report = import_bank(*read_zip(data))
            click.echo(
                f"bank: {len(report.created)} created, {len(report.updated)} updated, "
                f"{len(report.unchanged)} unchanged"
            )
            return
        questions = import_chapter(data, path, topic, prefix)
    except (BankFormatError, ChapterFormatError, ImportConflict) as exc:
        raise click.ClickException(f"{exc} (nothing was imported)") from None
    click.echo(f"imported {len(questions)} draft questions:")
    for question in questions:
        click.echo(f"  {question.slug}  [{question.kind}]  {question.title_zh}")


@bank.command("export")
@click.argument("slug_or_topic")
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
def bank_export(slug_or_topic: str, out: str) -> None:
    """Export a question, or a whole topic, as bank files in a zip."""
    from app.bank.archive import export_zip, select_questions

    try:
        questions = select_questions(slug_or_topic)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    with open(out, "wb") as handle:
        handle.write(export_zip(questions))
    click.echo(f"exported {len(questions)} questions to {out}")


@click.command("grade")
@with_appcontext
@click.argument("slug")
@click.argument("files", nargs=-1, metavar="ROLE=FILE...")
@click.option("--reference", is_flag=True, help="Grade the question's own reference solution.")
@click.option("--json", "as_json", is_flag=True, help="Print the result object as JSON.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True)
def grade_command(
    slug: str, files: tuple[str, ...], reference: bool, as_json: bool, lang: str
) -> None:
    """Grade a submission of a code question, e.g. `flask grade tcp-echo server=s.py`.

    Exit status: 0 passed, 1 failed, 2 usage or grader error.
    """
    import json
    import sys

    from app.grading.engine import grade
    from app.grading.report import format_report

    question = _code_question(slug)
    submitted = dict(question.reference_files) if reference else _read_role_files(files, question)
    show = None if as_json else (lambda event: _progress(event, lang))
    result = grade(question.spec, submitted, on_event=show)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(format_report(result, lang))
    sys.exit({"passed": 0, "failed": 1}.get(result.verdict, 2))


def _code_question(slug: str):
    import sqlalchemy as sa

    from app.models import Question, db

    question = db.session.scalar(sa.select(Question).where(Question.slug == slug))
    if question is None:
        raise click.UsageError(f"no question '{slug}' (see the list at /)")
    if not question.is_code or not question.spec:
        raise click.UsageError(f"'{slug}' is not a code question with a grading spec")
    return question


def _read_role_files(files: tuple[str, ...], question) -> dict[str, str]:
    if not files:
        raise click.UsageError(
            f"give at least one ROLE=FILE (roles of '{question.slug}': {', '.join(question.roles)})"
        )
    submitted: dict[str, str] = {}
    for item in files:
        role, sep, path = item.partition("=")
        if not sep or not path:
            raise click.UsageError(f"'{item}' is not ROLE=FILE")
        if role not in question.roles:
            raise click.UsageError(
                f"unknown role '{role}' (roles of '{question.slug}': {', '.join(question.roles)})"
            )
        try:
            with open(path, encoding="utf-8") as handle:
                submitted[role] = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise click.UsageError(f"cannot read {path}: {exc}") from None
    return submitted


def _progress(event: dict, lang: str) -> None:
    if event["type"] == "check_started":
        title = event["title"][lang]
        click.echo(f"[{event['index'] + 1}/{event['total']}] {title} ...", err=True)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit once the queue is empty.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Grade submissions from the Redis queue (scaled mode; needs REDIS_URL)."""
    from flask import current_app

    from app.jobs.redis_queue import RedisDispatcher

    chosen = current_app.extensions["dispatcher"]
    if not isinstance(chosen, RedisDispatcher):
        raise click.UsageError("set REDIS_URL: without it grading runs inside the web process")
    click.echo(f"grading worker {os.getpid()} on {current_app.config['REDIS_URL']}")
    chosen.work(burst=burst)


users = AppGroup("users", help="Create accounts, issue API tokens, change roles (for scripts).")
ROLES = ("learner", "instructor", "admin")


def _user(email: str):
    import sqlalchemy as sa

    from app.auth.forms import normalise_email
    from app.models import User, db

    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise click.ClickException(f"no account with the email {normalise_email(email)}")
    return user


@users.command("create")
@click.argument("email")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="At least 8 characters (asked for when omitted).",
)
@click.option("--role", type=click.Choice(ROLES), default="learner", show_default=True)
def users_create(email: str, password: str, role: str) -> None:
    """Create an account, e.g. `flask users create ana@example.com --password ... --role admin`."""
    import sqlalchemy as sa
    from sqlalchemy.exc import IntegrityError

    from app.auth.forms import MAX_PASSWORD, MIN_PASSWORD, is_valid_email, normalise_email
    from app.models import User, db

    email = normalise_email(email)
    if not is_valid_email(email):
        raise click.ClickException(f"'{email}' is not a valid email address")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise click.ClickException(
            f"the password is too weak: use between {MIN_PASSWORD} and {MAX_PASSWORD} characters"
        )
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise click.ClickException(f"an account with the email {email} already exists")
    user = User(email=email, role=role)
    user.set_password(password)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:  # created by somebody else a moment ago
        db.session.rollback()
        raise click.ClickException(f"an account with the email {email} already exists") from None
    click.echo(f"created {role} {email} (id {user.id})")


@users.command("token")
@click.argument("email")
@click.option("--name", default="cli", show_default=True, help="Shown on the profile page.")
def users_token(email: str, name: str) -> None:
    """Issue an API token and print only the token: `TOKEN=$(flask users token EMAIL)`."""
    from app.auth.tokens import TokenError, issue_token

    user = _user(email)
    try:
        raw = issue_token(user, name)
    except TokenError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(raw)


@users.command("role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
def users_role(email: str, role: str) -> None:
    """Change an account's role: learner, instructor or admin."""
    from app.models import db

    user = _user(email)
    before, user.role = user.role, role
    db.session.commit()
    click.echo(f"{user.email}: {before} -> {role}")


def register(app: Flask) -> None:
    app.cli.add_command(bank)
    app.cli.add_command(grade_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(users)
