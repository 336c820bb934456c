"""The schema comes only from migrations: up and down on SQLite and PostgreSQL, and the
models match what the migrations build."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app.models import db
from tests.helpers import make_app, require

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_reachable() -> bool:
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


def _roundtrip(app) -> None:
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
            tables = set(sa.inspect(connection).get_table_names())
        assert diff == [], f"models and migrations differ: {diff}"
        assert {"topic", "question", "question_version", "user", "submission",
                "concept_review", "api_token", "known_wrong_answer"} <= tables
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
    require(_postgres_reachable(), "PostgreSQL is not reachable at 127.0.0.1:5432 (database test)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        app = make_app(
            tmp_path,
            POSTGRES_URL,
            SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"options": f"-csearch_path={schema}"}},
        )
        _roundtrip(app)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
