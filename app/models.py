"""Typed SQLAlchemy 2.0 models for the whole product.

Bilingual text is stored as column pairs (``*_zh`` / ``*_en``); :meth:`Question.text`
picks the one for the current language and falls back to the other.
"""

from __future__ import annotations

import enum
import os
import sqlite3
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin
from flask_sqlalchemy import SQLAlchemy
from werkzeug.security import check_password_hash, generate_password_hash

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(so.DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


# A grader stopped (SIGSTOP, a frozen VM) inside a transaction holds its row locks for as
# long as it stays stopped, and the sweeper that would re-queue its work waits on them:
# PostgreSQL ends such a session after this long (0: never). SQLite has no such setting.
IDLE_IN_TRANSACTION_SECONDS = int(os.environ.get("DB_IDLE_IN_TRANSACTION_SECONDS") or 60)


@sa.event.listens_for(sa.Engine, "connect")
def _connection_settings(connection, _record) -> None:
    """SQLite: WAL and a busy timeout let the web threads and grading workers share it.
    PostgreSQL: a session idle inside a transaction is ended (see above)."""
    if isinstance(connection, sqlite3.Connection):
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
    elif type(connection).__module__.startswith("psycopg"):
        autocommit, connection.autocommit = connection.autocommit, True  # outlives a rollback
        with connection.cursor() as cursor:
            milliseconds = int(IDLE_IN_TRANSACTION_SECONDS * 1000)
            cursor.execute(f"SET idle_in_transaction_session_timeout = {milliseconds}")
        connection.autocommit = autocommit


LANGS = ("zh", "en")


def utcnow() -> datetime:
    return datetime.now(UTC)


# Timestamps are stored timezone-aware so SQLite and PostgreSQL read back the same thing.
Timestamp = sa.DateTime(timezone=True)


class Role(enum.StrEnum):
    LEARNER = "learner"
    INSTRUCTOR = "instructor"
    ADMIN = "admin"


class QuestionKind(enum.StrEnum):
    CODE = "code"
    CONCEPT = "concept"


class SubmissionStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    ERROR = "error"


class Topic(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    order: so.Mapped[int] = so.mapped_column(default=0)
    title_zh: so.Mapped[str] = so.mapped_column(sa.String(200))
    title_en: so.Mapped[str] = so.mapped_column(sa.String(200))
    overview_zh: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    overview_en: so.Mapped[str] = so.mapped_column(sa.Text, default="")

    questions: so.WriteOnlyMapped[Question] = so.relationship(back_populates="topic")

    def text(self, field: str, lang: str) -> str:
        return _localized(self, field, lang)


class Question(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    topic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("topic.id"), index=True)
    order: so.Mapped[int] = so.mapped_column(default=0)
    kind: so.Mapped[str] = so.mapped_column(sa.String(16), default=QuestionKind.CONCEPT.value)
    difficulty: so.Mapped[str] = so.mapped_column(sa.String(16), default="medium")
    tags: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)

    title_zh: so.Mapped[str] = so.mapped_column(sa.String(300))
    title_en: so.Mapped[str] = so.mapped_column(sa.String(300))
    prompt_zh: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    prompt_en: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    key_points_zh: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    key_points_en: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    answer_zh: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    answer_en: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    explanation_zh: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    explanation_en: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # Hints that unlock one at a time after failed attempts, and auto-graded quiz items
    # (app/bank/quiz.py), kept with each version like the spec.
    hints_zh: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    hints_en: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    quiz: so.Mapped[list[dict[str, Any]]] = so.mapped_column(sa.JSON, default=list)

    # Code questions: role names, files per role, and the grading spec (plain JSON).
    roles: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    starter_files: so.Mapped[dict[str, str]] = so.mapped_column(sa.JSON, default=dict)
    reference_files: so.Mapped[dict[str, str]] = so.mapped_column(sa.JSON, default=dict)
    spec: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)

    published: so.Mapped[bool] = so.mapped_column(default=False, index=True)
    version: so.Mapped[int] = so.mapped_column(default=1)
    # The last validation run (reference + known-wrong answers) and the version it covered.
    validation: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    source: so.Mapped[str] = so.mapped_column(sa.String(16), default="bank")
    created_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow, onupdate=utcnow)

    topic: so.Mapped[Topic] = so.relationship(back_populates="questions")
    versions: so.WriteOnlyMapped[QuestionVersion] = so.relationship(
        back_populates="question", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def is_code(self) -> bool:
        return self.kind == QuestionKind.CODE.value

    def text(self, field: str, lang: str) -> str:
        return _localized(self, field, lang)

    def key_points(self, lang: str) -> list[str]:
        points = getattr(self, f"key_points_{lang}", None) or []
        return points or getattr(self, f"key_points_{_other(lang)}") or []


class QuestionVersion(db.Model):
    """A frozen copy of a question's gradable content, so old submissions keep their spec."""

    __table_args__ = (sa.UniqueConstraint("question_id", "version"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    question_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("question.id", ondelete="CASCADE"), index=True
    )
    version: so.Mapped[int]
    snapshot: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow)

    question: so.Mapped[Question] = so.relationship(back_populates="versions")


class ContentStamp(db.Model):
    """One row whose value database triggers bump on every write to ``question`` or
    ``topic`` (migration 0006): what a cached question page checks it is still current."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    value: so.Mapped[int] = so.mapped_column(sa.BigInteger)


_STAMP = sa.select(ContentStamp.value).where(ContentStamp.id == 1)


def content_stamp(connection: sa.Connection) -> int | None:
    """The stamp's value now (None without its row)."""
    return connection.execute(_STAMP).scalar()


class KnownWrongAnswer(db.Model):
    """An answer an instructor knows is wrong: publishing requires that it fails."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    question_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("question.id", ondelete="CASCADE"), index=True
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    files: so.Mapped[dict[str, str]] = so.mapped_column(sa.JSON)
    # Optionally, the check that must be the one to fail.
    failing_check: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    created_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow)

    question: so.Mapped[Question] = so.relationship()


class User(UserMixin, db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(256))
    role: so.Mapped[str] = so.mapped_column(sa.String(16), default=Role.LEARNER.value)
    created_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_instructor(self) -> bool:
        return self.role in (Role.INSTRUCTOR.value, Role.ADMIN.value)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow)
    last_used_at: so.Mapped[datetime | None] = so.mapped_column(Timestamp)
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(Timestamp)


class Submission(db.Model):
    __table_args__ = (
        sa.Index("ix_submission_status_created", "status", "created_at"),
        # Cover the lists (history, the editor's recent attempts) and the statistics: SQLite
        # would otherwise walk each row's result (overflow pages) to reach the columns
        # stored after it.
        sa.Index(
            "ix_submission_history",
            "user_id",
            "id",
            "question_id",
            "status",
            "verdict",
            "score",
            "created_at",
            "regrade_of",
        ),
        sa.Index(
            "ix_submission_stats",
            "question_id",
            "regrade_of",
            "user_id",
            "status",
            "verdict",
            "created_at",
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    question_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("question.id", ondelete="CASCADE"), index=True
    )
    question_version: so.Mapped[int]
    files: so.Mapped[dict[str, str]] = so.mapped_column(sa.JSON)
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default=SubmissionStatus.QUEUED.value)
    verdict: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    score: so.Mapped[float | None]
    result: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    error: so.Mapped[str | None] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow)
    started_at: so.Mapped[datetime | None] = so.mapped_column(Timestamp)
    finished_at: so.Mapped[datetime | None] = so.mapped_column(Timestamp)
    heartbeat_at: so.Mapped[datetime | None] = so.mapped_column(Timestamp)
    worker_id: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    # A regrade is a new submission of the same files against the current version.
    regrade_of: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("submission.id", ondelete="SET NULL"), index=True
    )

    user: so.Mapped[User] = so.relationship()
    question: so.Mapped[Question] = so.relationship()
    failed_checks: so.Mapped[list[FailedCheck]] = so.relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class FailedCheck(db.Model):
    """A required check a submission's result failed, one row each: the statistics count
    these instead of reading every result (each up to a hundred kilobytes of JSON).
    Kept in step with ``Submission.result`` by :func:`store_failed_checks` (the grading
    writes with UPDATE statements) and the flush hook below (the ORM)."""

    submission_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("submission.id", ondelete="CASCADE"), primary_key=True
    )
    check_id: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)


def failed_required_checks(result: dict[str, Any] | None) -> list[str]:
    """The ids of the required checks ``result`` failed, each once, in order."""
    found: dict[str, None] = {}
    for check in (result or {}).get("checks") or []:
        if isinstance(check, dict) and check.get("required") and check.get("status") == "failed":
            found.setdefault(str(check.get("id"))[:64], None)
    return list(found)


def store_failed_checks(session: so.Session, submission_id: int, result: dict | None) -> None:
    """Replace ``submission_id``'s rows (for writers that bypass the ORM)."""
    session.execute(sa.delete(FailedCheck).where(FailedCheck.submission_id == submission_id))
    rows = [{"submission_id": submission_id, "check_id": c} for c in failed_required_checks(result)]
    if rows:
        session.execute(sa.insert(FailedCheck), rows)


@sa.event.listens_for(so.Session, "before_flush")
def _failed_checks_follow_results(session: so.Session, _context, _instances) -> None:
    for submission in [*session.new, *session.dirty]:
        if not isinstance(submission, Submission):
            continue
        state = sa.inspect(submission)
        if not state.pending and not state.attrs.result.history.has_changes():
            continue
        wanted = failed_required_checks(submission.result)
        with session.no_autoflush:
            current = list(submission.failed_checks)
        for row in current:
            if row.check_id not in wanted:
                submission.failed_checks.remove(row)
        have = {row.check_id for row in current}
        submission.failed_checks.extend(FailedCheck(check_id=c) for c in wanted if c not in have)


class ConceptReview(db.Model):
    """A learner's self-assessment of a concept question (ready for spaced repetition)."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    question_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("question.id", ondelete="CASCADE"), index=True
    )
    rating: so.Mapped[int]
    answer_text: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    reviewed_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow)
    due_at: so.Mapped[datetime | None] = so.mapped_column(Timestamp)


def _other(lang: str) -> str:
    return "en" if lang == "zh" else "zh"


def _localized(obj: object, field: str, lang: str) -> str:
    lang = lang if lang in LANGS else "en"
    return getattr(obj, f"{field}_{lang}") or getattr(obj, f"{field}_{_other(lang)}") or ""


class ThrottleEvent(db.Model):
    """One counted event (a failed sign-in, a registration) of a throttle's bucket, an
    HMAC of what is throttled (app/auth/throttle.py); old rows are deleted as new come."""

    __table_args__ = (sa.Index("ix_throttle_event_bucket_at", "bucket", "at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    bucket: so.Mapped[str] = so.mapped_column(sa.String(80))
    at: so.Mapped[float] = so.mapped_column(sa.Float, index=True)  # seconds since the epoch


class PracticeCard(db.Model):
    """A learner's FSRS schedule of one question (app/practice/scheduling.py)."""

    __table_args__ = (
        sa.UniqueConstraint("user_id", "question_id"),
        sa.Index("ix_practice_card_user_due", "user_id", "due_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    question_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("question.id", ondelete="CASCADE"), index=True
    )
    state: so.Mapped[str] = so.mapped_column(sa.String(16))  # learning, review, relearning
    due_at: so.Mapped[datetime] = so.mapped_column(Timestamp)
    stability: so.Mapped[float | None]
    fsrs: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)  # fsrs.Card.to_dict()
    reviews: so.Mapped[int] = so.mapped_column(default=0)
    # Set when a mock interview found this question weak: first in the queue until reviewed.
    front_since: so.Mapped[datetime | None] = so.mapped_column(Timestamp)
    last_review_at: so.Mapped[datetime | None] = so.mapped_column(Timestamp)

    question: so.Mapped[Question] = so.relationship()


class PracticeReview(db.Model):
    """One rating of a question: a self-rating, a quiz result or a graded submission."""

    __table_args__ = (sa.Index("ix_practice_review_user_at", "user_id", "reviewed_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    question_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("question.id", ondelete="CASCADE"), index=True
    )
    rating: so.Mapped[str] = so.mapped_column(sa.String(8))  # again, hard, good, easy
    source: so.Mapped[str] = so.mapped_column(sa.String(16))  # self, quiz, submission
    reviewed_at: so.Mapped[datetime] = so.mapped_column(Timestamp)
    due_at: so.Mapped[datetime] = so.mapped_column(Timestamp)


class QuizAttempt(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    question_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("question.id", ondelete="CASCADE"), index=True
    )
    question_version: so.Mapped[int]
    answers: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    results: so.Mapped[list[dict[str, Any]]] = so.mapped_column(sa.JSON)
    score: so.Mapped[float]
    created_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow)


class MockInterview(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    topic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("topic.id", ondelete="CASCADE"))
    question_ids: so.Mapped[list[int]] = so.mapped_column(sa.JSON)
    minutes: so.Mapped[int]
    started_at: so.Mapped[datetime] = so.mapped_column(Timestamp)
    ends_at: so.Mapped[datetime] = so.mapped_column(Timestamp)
    finished_at: so.Mapped[datetime | None] = so.mapped_column(Timestamp)
    summary: so.Mapped[list[dict[str, Any]] | None] = so.mapped_column(sa.JSON)
    # [question id, ISO time] each time the learner opened one of its questions.
    timeline: so.Mapped[list[list[Any]]] = so.mapped_column(sa.JSON, default=list)

    topic: so.Mapped[Topic] = so.relationship()
