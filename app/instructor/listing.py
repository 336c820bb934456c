"""The studio's lists, light: the dashboard's questions without their texts, files or
validation report (only the report's state, version and verdict, read by the database),
and the users, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.models import LANGS, Question, QuestionKind, User, db

USERS_PER_PAGE = 50

_report = Question.validation
_DASHBOARD = sa.select(
    Question.id,
    Question.slug,
    Question.topic_id,
    Question.order,
    Question.kind,
    Question.published,
    Question.version,
    Question.title_zh,
    Question.title_en,
    _report["state"].as_string().label("report_state"),
    _report["version"].as_integer().label("report_version"),
    _report["publishable"].as_boolean().label("report_publishable"),
).order_by(Question.order, Question.slug)


@dataclass(frozen=True)
class ListedQuestion:
    """What a dashboard row shows; ``validation`` has the keys ``validation_state`` reads."""

    id: int
    slug: str
    topic_id: int
    order: int
    kind: str
    published: bool
    version: int
    title_zh: str
    title_en: str
    validation: dict[str, Any] | None

    @property
    def is_code(self) -> bool:
        return self.kind == QuestionKind.CODE.value

    def text(self, field: str, lang: str) -> str:
        first = lang if lang in LANGS else "en"
        second = "en" if first == "zh" else "zh"
        return getattr(self, f"{field}_{first}") or getattr(self, f"{field}_{second}") or ""


def dashboard_questions() -> list[ListedQuestion]:
    rows = db.session.execute(_DASHBOARD).all()
    return [_listed(row) for row in rows]


def _listed(row: sa.Row) -> ListedQuestion:
    report = {
        "state": row.report_state,
        "version": row.report_version,
        "publishable": row.report_publishable,
    }
    return ListedQuestion(
        id=row.id,
        slug=row.slug,
        topic_id=row.topic_id,
        order=row.order,
        kind=row.kind,
        published=row.published,
        version=row.version,
        title_zh=row.title_zh,
        title_en=row.title_en,
        validation=report if any(v is not None for v in report.values()) else None,
    )


def user_search(search: str) -> list[sa.ColumnElement[bool]]:
    return [User.email.contains(search.lower(), autoescape=True)] if search else []
