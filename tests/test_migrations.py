"""The schema comes only from migrations: up and down on SQLite and PostgreSQL, and the
models match what the migrations build."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app.models import db
from tests.helpers import make_app, postgres_app


def _roundtrip(app) -> None:
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
            tables = set(sa.inspect(connection).get_table_names())
        assert diff == [], f"models and migrations differ: {diff}"
        assert {
            "topic",
            "question",
            "question_version",
            "user",
            "submission",
            "concept_review",
            "api_token",
            "known_wrong_answer",
            "throttle_event",
            "practice_card",
            "practice_review",
            "quiz_attempt",
            "mock_interview",
        } <= tables
        downgrade(revision="base")
        with db.engine.connect() as connection:
            left = set(sa.inspect(connection).get_table_names()) - {"alembic_version"}
        assert left == set()
        upgrade()
        db.engine.dispose()


def test_sqlite_upgrade_downgrade(tmp_path):
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'm.sqlite3'}")
    _roundtrip(app)


@pytest.mark.postgres
def test_postgres_upgrade_downgrade(tmp_path):
    with postgres_app(tmp_path) as app:
        _roundtrip(app)
