"""The studio's lists, light: the dashboard's questions without their texts, files or
validation report (only the report's state, version and verdict, read by the database),
and the users, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.models import LANGS, Question, QuestionKind, User, db

USERS_PER_PAGE = 50
TOPICS_PER_PAGE = 20

_report = Question.validation
_report_state = _report["state"].as_string()
_report_version = _report["version"].as_integer()
_report_publishable = _report["publishable"].as_boolean()
# validation_state(q) == "passing", in SQL (a missing report reads as NULL: not passing).
_PASSING = sa.and_(
    sa.func.coalesce(_report_state, "").not_in(["queued", "running"]),
    _report_version == Question.version,
    _report_publishable.is_(True),
)
_CODE = Question.kind == QuestionKind.CODE.value
_COUNTS = sa.select(
    sa.func.count(),
    sa.func.count(sa.case((Question.published.is_(False), 1))),
    sa.func.count(sa.case((sa.and_(_CODE, _PASSING), None), (_CODE, 1))),
)
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
    _report_state.label("report_state"),
    _report_version.label("report_version"),
    _report_publishable.label("report_publishable"),
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


def dashboard_questions(topic_ids: list[int]) -> list[ListedQuestion]:
    """The questions of these topics (a page of the dashboard)."""
    rows = db.session.execute(_DASHBOARD.where(Question.topic_id.in_(topic_ids))).all()
    return [_listed(row) for row in rows]


def dashboard_counts() -> dict[str, int]:
    """Over the whole bank: questions, drafts, code questions not validated (passing) for
    their current version."""
    total, drafts, unvalidated = db.session.execute(_COUNTS).one()
    return {"total": total, "drafts": drafts, "unvalidated": unvalidated}


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
