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
        _stamp_follows_writes(app)
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


def _stamp_follows_writes(app) -> None:
    """The triggers of migration 0006 bump the content stamp on writes to both tables (on
    PostgreSQL at the commit)."""
    stamp = "SELECT value FROM content_stamp WHERE id = 1"
    writes = (
        'INSERT INTO topic (slug, "order", title_zh, title_en, overview_zh, overview_en) '
        "VALUES ('t', 0, 't', 't', '', '')",
        "UPDATE topic SET title_en = 'u'",
        'INSERT INTO question (slug, topic_id, "order", kind, difficulty, tags, title_zh, '
        "title_en, prompt_zh, prompt_en, key_points_zh, key_points_en, answer_zh, answer_en, "
        "explanation_zh, explanation_en, hints_zh, hints_en, quiz, roles, starter_files, "
        "reference_files, published, version, source, created_at, updated_at) SELECT 'q', id, "
        "0, 'concept', 'easy', '[]', 'q', 'q', '', '', '[]', '[]', '', '', '', '', '[]', '[]', "
        "'[]', '[]', '{}', '{}', false, 1, 'bank', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP "
        "FROM topic",
        "UPDATE question SET published = true",
        "DELETE FROM question",
        "DELETE FROM topic",
    )
    for write in writes:
        with db.engine.begin() as connection:
            before = connection.exec_driver_sql(stamp).scalar_one()
            connection.exec_driver_sql(write)
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql(stamp).scalar_one() > before, write


def test_sqlite_upgrade_downgrade(tmp_path):
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'm.sqlite3'}")
    _roundtrip(app)


@pytest.mark.postgres
def test_postgres_upgrade_downgrade(tmp_path):
    with postgres_app(tmp_path) as app:
        _roundtrip(app)
