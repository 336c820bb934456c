"""A web process that cannot reach Redis still answers a stored submission with 202: the
row is the queue's source of truth, and a worker's sweeper queues it once Redis is back."""

from __future__ import annotations

import shutil

import sqlalchemy as sa

from app.models import Submission, User, db
from tests.helpers import csrf_token, free_port, make_app, reference_files


def test_submission_stored_while_redis_is_down_is_accepted(migrated_database, tmp_path):
    database = tmp_path / "loopback.sqlite3"
    shutil.copy(migrated_database, database)
    closed = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app = make_app(tmp_path, f"sqlite:///{database}", REDIS_URL=closed, GRADING_IN_PROCESS=False)
    # Sign-in throttling uses Redis too: the account comes from the CLI, the session
    # cookie from the test client.
    created = app.test_cli_runner().invoke(
        args=["users", "create", "down@example.com", "--password", "correct horse"]
    )
    assert created.exit_code == 0, created.output
    with app.app_context():
        user_id = db.session.scalar(sa.select(User.id).where(User.email == "down@example.com"))
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
    token = csrf_token(client.get("/").get_data(as_text=True))
    response = client.post(
        "/questions/tcp-echo/submissions",
        json={"files": reference_files(app, "tcp-echo")},
        headers={"Accept": "application/json", "X-CSRFToken": token},
    )
    assert response.status_code == 202, response.get_data(as_text=True)[:300]
    with app.app_context():
        stored = db.session.get(Submission, response.get_json()["id"])
        assert stored is not None and stored.status == "queued"
        db.engine.dispose()
