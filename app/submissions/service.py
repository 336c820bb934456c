"""Creating submissions: validate everything, store, then queue. Shared by the web pages
and the JSON API, so both refuse bad input with the same clear 4xx and store nothing."""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from app.jobs import dispatcher
from app.models import Question, Submission, SubmissionStatus, User, db, utcnow

PENDING = (SubmissionStatus.QUEUED.value, SubmissionStatus.RUNNING.value)


@dataclass
class Rejected(Exception):
    """A submission refused before anything was stored."""

    status: int
    message: str
    retry_after: int | None = None

    def __str__(self) -> str:
        return self.message


def find_question(slug: str, user: User) -> Question:
    question = db.session.scalar(sa.select(Question).where(Question.slug == slug))
    if question is None or not (question.published or user.is_instructor):
        raise Rejected(404, f"Unknown question '{slug}'.")
    if not question.is_code or not question.spec:
        raise Rejected(400, f"'{slug}' is a concept question: there is no code to grade.")
    return question


def clean_files(question: Question, files: Any) -> dict[str, str]:
    """Role -> source text, checked for shape, roles, size and encoding."""
    if not isinstance(files, dict) or not files:
        raise Rejected(
            400,
            "Submit at least one file, as {role: code}. "
            f"Roles of this question: {', '.join(question.roles)}.",
        )
    limit = current_app.config["MAX_CODE_BYTES"]
    cleaned: dict[str, str] = {}
    for role, code in files.items():
        if role not in question.roles:
            raise Rejected(
                422, f"Unknown role '{role}'. Roles of this question: {', '.join(question.roles)}."
            )
        if isinstance(code, bytes):
            try:
                code = code.decode("utf-8")
            except UnicodeDecodeError:
                raise Rejected(400, f"The {role} file is not valid UTF-8 text.") from None
        if not isinstance(code, str):
            raise Rejected(400, f"The {role} file must be text.")
        try:
            size = len(code.encode("utf-8"))
        except UnicodeEncodeError:
            raise Rejected(400, f"The {role} file is not valid UTF-8 text.") from None
        if size > limit:
            raise Rejected(
                413, f"The {role} file is {size // 1024} KiB; the limit is {limit // 1024} KiB."
            )
        if not code.strip():
            raise Rejected(400, f"The {role} file is empty.")
        cleaned[role] = code
    return cleaned


def check_rate(user: User) -> None:
    config = current_app.config
    # Regrades are the instructors' doing: they do not count against the learner.
    mine = (
        sa.select(sa.func.count())
        .select_from(Submission)
        .where(Submission.user_id == user.id, Submission.regrade_of.is_(None))
    )
    pending = db.session.scalar(mine.where(Submission.status.in_(PENDING)))
    if pending >= config["MAX_PENDING_SUBMISSIONS"]:
        raise Rejected(
            429,
            f"You already have {pending} submissions waiting to be graded; wait for one to finish.",
            retry_after=5,
        )
    window = utcnow() - timedelta(seconds=60)
    recent = db.session.scalars(
        sa.select(Submission.created_at)
        .where(
            Submission.user_id == user.id,
            Submission.created_at > window,
            Submission.regrade_of.is_(None),
        )
        .order_by(Submission.created_at)
    ).all()
    if len(recent) >= config["SUBMISSIONS_PER_MINUTE"]:
        oldest = _aware(recent[0])
        wait = max(1, int((oldest + timedelta(seconds=60) - utcnow()).total_seconds()) + 1)
        raise Rejected(
            429,
            f"Too many submissions: at most {config['SUBMISSIONS_PER_MINUTE']} "
            f"a minute. Try again in {wait} s.",
            retry_after=wait,
        )


def _aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


_user_locks: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)


def create_submission(user: User, slug: str, files: Any) -> Submission:
    """Validate, store (status queued), commit, and only then queue the id.

    Counting a user's submissions and adding one happen under a per-user lock (in this
    process) and a row lock on the user (across processes, on PostgreSQL), so concurrent
    requests cannot slip past the rate limits together."""
    question = find_question(slug, user)
    cleaned = clean_files(question, files)
    with _user_locks[user.id]:
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(sa.select(User.id).where(User.id == user.id).with_for_update())
        try:
            check_rate(user)
        except Rejected:
            db.session.rollback()
            raise
        submission = Submission(
            user_id=user.id,
            question_id=question.id,
            question_version=question.version,
            files=cleaned,
            status=SubmissionStatus.QUEUED.value,
        )
        db.session.add(submission)
        db.session.commit()
    dispatcher().enqueue(submission.id)
    return submission


def queue_position(submission: Submission) -> int | None:
    """1 for the next to be graded; None once grading started."""
    if submission.status != SubmissionStatus.QUEUED.value:
        return None
    ahead = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Submission)
        .where(Submission.status == SubmissionStatus.QUEUED.value, Submission.id < submission.id)
    )
    return ahead + 1


def can_view(user: User, submission: Submission) -> bool:
    return user.is_authenticated and (submission.user_id == user.id or user.is_instructor)
