"""Long lists a page at a time (``?page=N``; a page past the end or not a number is a 404).

Flask-SQLAlchemy counts by wrapping the whole query, every column listed; the callers know
a cheaper total (a count over an index, or the ids they already hold) and give it."""

from __future__ import annotations

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination

from app.models import db


def paginate(query: sa.Select, per_page: int, total: int) -> Pagination:
    pages = db.paginate(query, per_page=per_page, max_per_page=per_page, count=False)
    pages.total = total
    return pages


def count(where: list[sa.ColumnElement[bool]], table: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(table).where(*where)) or 0
