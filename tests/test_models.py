"""What every database connection is set up with (app/models.py)."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from app import models
from app.models import db
from tests.helpers import postgres_app


@pytest.mark.postgres
def test_a_session_stopped_inside_a_transaction_lets_go_of_its_locks(tmp_path, monkeypatch):
    """A grader paused mid-transaction (SIGSTOP) must not hold its row locks forever:
    PostgreSQL ends its session, and the sweeper's update of the same row goes through."""
    monkeypatch.setattr(models, "IDLE_IN_TRANSACTION_SECONDS", 1)
    with postgres_app(tmp_path) as app, app.app_context():
        with db.engine.begin() as setup:
            setup.execute(sa.text("CREATE TABLE job (id int PRIMARY KEY, owner text)"))
            setup.execute(sa.text("INSERT INTO job VALUES (1, 'paused')"))
        paused = db.engine.connect()
        sweeper = db.engine.connect()
        try:
            paused.execute(sa.text("UPDATE job SET owner = 'paused' WHERE id = 1"))  # and stops
            sweeper.execute(sa.text("SET lock_timeout = '10s'"))
            began = time.monotonic()
            sweeper.execute(sa.text("UPDATE job SET owner = 'sweeper' WHERE id = 1"))
            sweeper.commit()
            assert time.monotonic() - began < 5
            with pytest.raises(DBAPIError, match="idle-in-transaction timeout"):
                paused.execute(sa.text("SELECT 1"))
        finally:
            paused.close()
            sweeper.close()
        with db.engine.connect() as fresh:
            show = sa.text("SHOW idle_in_transaction_session_timeout")
            assert fresh.execute(show).scalar() == "1s"
            fresh.rollback()  # set outside any transaction: a rollback keeps it
            assert fresh.execute(show).scalar() == "1s"
            assert fresh.execute(sa.text("SELECT owner FROM job")).scalar() == "sweeper"
        db.engine.dispose()
