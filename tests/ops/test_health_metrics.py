"""GET /healthz and GET /metrics on the app (in-process grading threads as the workers)."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from app.models import Question, Submission, User, db, utcnow
from tests.helpers import make_app


def samples(text: str) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def store(app, **values) -> int:
    with app.app_context():
        user = db.session.scalar(sa.select(User)) or User(email="ops@example.com")
        if user.id is None:
            user.set_password("correct horse")
            db.session.add(user)
        question = db.session.scalar(sa.select(Question).where(Question.slug == "tcp-echo"))
        submission = Submission(
            user=user, question=question, files={"client": "x"}, question_version=1, **values
        )
        db.session.add(submission)
        db.session.commit()
        return submission.id


def test_healthz_green_with_a_live_worker(app, client, workers):
    response = client.get("/healthz")
    assert response.status_code == 200, response.get_json()
    checks = response.get_json()["checks"]
    assert checks["database"]["ok"] and checks["workers"] == {"ok": True, "live": 1}
    assert checks["queue"] == {"ok": True, "oldest_queued_seconds": 0.0}
    assert "redis" not in checks  # not configured


def test_healthz_red_without_workers_or_with_an_old_queue(app, client):
    response = client.get("/healthz")  # the grading threads never started
    assert response.status_code == 503
    assert response.get_json()["checks"]["workers"] == {"ok": False, "live": 0}
    store(app, status="queued", created_at=utcnow() - timedelta(seconds=400))
    queue = client.get("/healthz").get_json()["checks"]["queue"]
    assert queue["ok"] is False and queue["oldest_queued_seconds"] >= 400


def test_metrics_count_requests_queue_and_gradings(app, client):
    client.get("/")
    client.get("/no-such-page")
    store(app, status="queued", created_at=utcnow() - timedelta(seconds=30))
    finished = utcnow() - timedelta(seconds=10)
    result = {
        "checks": [
            {"resources": {"limit": "memory"}},
            {"resources": {"limit": None}},
            {"resources": {"limit": "wall_time"}},
        ]
    }
    store(
        app,
        status="done",
        verdict="failed",
        result=result,
        started_at=finished - timedelta(seconds=3),
        finished_at=finished,
    )
    app.extensions["metrics"]._since = utcnow() - timedelta(minutes=1)
    first = samples(client.get("/metrics").get_data(as_text=True))
    assert (
        first[
            (
                "loopback_http_requests_total",
                (("endpoint", "questions.index"), ("method", "GET"), ("status", "200")),
            )
        ]
        == 1
    )
    assert (
        first[
            (
                "loopback_http_requests_total",
                (("endpoint", "unmatched"), ("method", "GET"), ("status", "404")),
            )
        ]
        == 1
    )
    assert first[("loopback_queue_depth", ())] == 1
    assert first[("loopback_oldest_queued_seconds", ())] >= 30
    assert first[("loopback_live_workers", ())] == 0
    assert first[("loopback_gradings_total", (("verdict", "failed"),))] == 1
    assert first[("loopback_grading_duration_seconds_count", ())] == 1
    assert first[("loopback_grading_duration_seconds_bucket", (("le", "2.0"),))] == 0
    assert first[("loopback_grading_duration_seconds_bucket", (("le", "5.0"),))] == 1
    assert first[("loopback_sandbox_limit_hits_total", (("limit", "memory"),))] == 1
    assert first[("loopback_sandbox_limit_hits_total", (("limit", "wall_time"),))] == 1
    again = samples(client.get("/metrics").get_data(as_text=True))
    assert again[("loopback_gradings_total", (("verdict", "failed"),))] == 1  # read once


@pytest.fixture
def guarded(migrated_database, tmp_path):
    database = tmp_path / "loopback.sqlite3"
    shutil.copy(migrated_database, database)
    app = make_app(tmp_path, f"sqlite:///{database}", METRICS_TOKEN="s3cret")
    yield app
    with app.app_context():
        db.engine.dispose()


def test_metrics_token(guarded):
    client = guarded.test_client()
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert right.status_code == 200 and b"loopback_queue_depth" in right.data
