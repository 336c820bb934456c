"""Database queries behind the question pages (published questions only, for now)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import groupby

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.bank.files import DIFFICULTIES, KINDS
from app.fragments import remembered
from app.models import LANGS, Question, Topic, content_stamp, db

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


# A list shows titles and labels: never the texts, files or spec of its questions.
LIST_COLUMNS = (
    Question.slug,
    Question.topic_id,
    Question.order,
    Question.kind,
    Question.difficulty,
    Question.tags,
    Question.title_zh,
    Question.title_en,
)


def _listing(query: sa.Select) -> list[Question]:
    """Questions with their topic (already joined in: no query per topic)."""
    options = (so.load_only(*LIST_COLUMNS), so.contains_eager(Question.topic))
    return list(db.session.scalars(query.options(*options)))


def listed(filters: Filters) -> list[Question]:
    return _listing(filtered(filters))


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


# What a question page reads on every request; the texts (Markdown) and the validation
# report are read only when the page's cached text is rendered again (app/fragments.py).
PAGE_COLUMNS = (
    *LIST_COLUMNS,
    Question.roles,
    Question.starter_files,
    Question.published,
    Question.version,
    Question.updated_at,
)


# Built once, like _READING_ORDER below: building it and its cache key would cost more
# than running it.
_PUBLISHED_QUESTION = (
    sa.select(Question)
    .options(so.load_only(*PAGE_COLUMNS), so.joinedload(Question.topic))
    .where(Question.slug == sa.bindparam("slug"), Question.published.is_(True))
)


def published_question(slug: str) -> Question | None:
    return db.session.scalar(_PUBLISHED_QUESTION, {"slug": slug})


@dataclass(frozen=True)
class Neighbour:
    slug: str
    title: str


def _title(row: sa.Row, prefix: str, lang: str) -> str:
    first, second = (lang, "en" if lang == "zh" else "zh") if lang in LANGS else ("en", "zh")
    return getattr(row, f"{prefix}_{first}") or getattr(row, f"{prefix}_{second}") or ""


@dataclass(frozen=True)
class Placed:
    """Where a published question stands in reading order, and what its page depends on
    beyond its own row (the neighbours' titles, its topic's title): a question page's
    cache key, from one light query."""

    id: int
    version: int
    updated_at: object
    topic: tuple[str, str]
    before: Neighbour | None
    after: Neighbour | None
    stamp: int | None  # the content stamp read before all this (None: no stamp row)


_READING_ORDER = published().with_only_columns(
    Question.id,
    Question.slug,
    Question.version,
    Question.updated_at,
    Question.title_zh,
    Question.title_en,
    Topic.slug.label("topic_slug"),
    Topic.title_zh.label("topic_zh"),
    Topic.title_en.label("topic_en"),
)


@dataclass(frozen=True)
class ReadingOrder:
    stamp: int | None
    rows: list[sa.Row]
    positions: dict[str, int]


def _reading_order(connection: sa.Connection, stamp: int | None) -> ReadingOrder:
    rows = connection.execute(_READING_ORDER).all()
    return ReadingOrder(stamp, rows, {row.slug: i for i, row in enumerate(rows)})


def reading_order() -> ReadingOrder:
    """The published questions in reading order, read again only when the content stamp
    moved (a trigger bumps it on any write to ``question`` or ``topic``): a cached page's
    one statement is then this one-row read. On a connection of its own rather than the
    ORM session, whose bookkeeping would cost more than the statement."""
    with db.engine.connect() as connection:
        stamp = content_stamp(connection)
        if stamp is None:  # no stamp row: read it all each time
            return _reading_order(connection, stamp)
        # The stamp is read first: rows read after it are at least as new as it says.
        return remembered(("reading-order", stamp), lambda: _reading_order(connection, stamp))


def placed(slug: str, lang: str) -> Placed | None:
    order = reading_order()
    rows = order.rows
    position = order.positions.get(slug)
    if position is None:
        return None

    def at(index: int) -> Neighbour | None:
        if not 0 <= index < len(rows):
            return None
        return Neighbour(rows[index].slug, _title(rows[index], "title", lang))

    row = rows[position]
    return Placed(
        id=row.id,
        version=row.version,
        updated_at=row.updated_at,
        topic=(row.topic_slug, _title(row, "topic", lang)),
        before=at(position - 1),
        after=at(position + 1),
        stamp=order.stamp,
    )


def topic_by_slug(slug: str) -> Topic | None:
    return db.session.scalar(sa.select(Topic).where(Topic.slug == slug))


def topic_questions(topic: Topic) -> list[Question]:
    return _listing(published().where(Question.topic_id == topic.id))
