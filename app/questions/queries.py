"""Database queries behind the question pages (published questions only, for now)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import groupby

import sqlalchemy as sa

from app.bank.files import DIFFICULTIES, KINDS
from app.models import Question, Topic, db

MAX_SEARCH = 100


@dataclass(frozen=True)
class Filters:
    kind: str = ""
    difficulty: str = ""
    tag: str = ""
    q: str = ""

    @classmethod
    def from_args(cls, args) -> Filters:
        """Read the GET query; unknown values are dropped rather than rejected."""
        kind = args.get("kind", "").strip()
        difficulty = args.get("difficulty", "").strip()
        return cls(
            kind=kind if kind in KINDS else "",
            difficulty=difficulty if difficulty in DIFFICULTIES else "",
            tag=args.get("tag", "").strip()[:MAX_SEARCH],
            q=" ".join(args.get("q", "").split())[:MAX_SEARCH],
        )

    @property
    def active(self) -> bool:
        return bool(self.kind or self.difficulty or self.tag or self.q)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def published() -> sa.Select:
    return (
        sa.select(Question)
        .join(Question.topic)
        .where(Question.published.is_(True))
        .order_by(Topic.order, Topic.id, Question.order, Question.id)
    )


def filtered(filters: Filters) -> sa.Select:
    query = published()
    if filters.kind:
        query = query.where(Question.kind == filters.kind)
    if filters.difficulty:
        query = query.where(Question.difficulty == filters.difficulty)
    if filters.tag:
        # tags is a JSON list; its serialized text holds the tag exactly as json.dumps
        # writes it (quoted, non-ASCII escaped), on SQLite and PostgreSQL alike.
        needle = json.dumps(filters.tag)
        query = query.where(sa.cast(Question.tags, sa.Text).contains(needle, autoescape=True))
    if filters.q:
        pattern = f"%{_escape_like(filters.q.lower())}%"
        columns = (Question.title_en, Question.title_zh, Question.prompt_en, Question.prompt_zh)
        query = query.where(sa.or_(*(sa.func.lower(c).like(pattern, escape="\\") for c in columns)))
    return query


def listed(filters: Filters) -> list[Question]:
    return list(db.session.scalars(filtered(filters)))


def grouped_by_topic(questions: list[Question]) -> list[tuple[Topic, list[Question]]]:
    """Consecutive runs per topic (the query is ordered by topic first)."""
    return [(topic, list(items)) for topic, items in groupby(questions, key=lambda q: q.topic)]


def all_tags() -> list[str]:
    tags: set[str] = set()
    for question_tags in db.session.scalars(
        sa.select(Question.tags).where(Question.published.is_(True))
    ):
        tags.update(question_tags or [])
    return sorted(tags, key=str.lower)


def published_question(slug: str) -> Question | None:
    return db.session.scalar(
        sa.select(Question).where(Question.slug == slug, Question.published.is_(True))
    )


def neighbours(question: Question) -> tuple[Question | None, Question | None]:
    """The previous and next published question in reading order (across topics)."""
    ids = list(db.session.scalars(published().with_only_columns(Question.id)))
    try:
        position = ids.index(question.id)
    except ValueError:
        return None, None
    before = db.session.get(Question, ids[position - 1]) if position > 0 else None
    after = db.session.get(Question, ids[position + 1]) if position + 1 < len(ids) else None
    return before, after


def topic_by_slug(slug: str) -> Topic | None:
    return db.session.scalar(sa.select(Topic).where(Topic.slug == slug))


def topic_questions(topic: Topic) -> list[Question]:
    return list(db.session.scalars(published().where(Question.topic_id == topic.id)))
