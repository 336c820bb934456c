"""The scaled mode against the real services: PostgreSQL as the database, an RQ queue on
Redis drained by `flask worker` processes, Socket.IO events relayed through Redis."""

from __future__ import annotations

import uuid

import pytest
import requests
import socketio as socketio_client
import sqlalchemy as sa
from flask_migrate import upgrade
from redis import Redis

from app.bank.loader import load_bank
from app.models import Question, db
from tests.helpers import (
    POSTGRES_URL,
    REDIS_URL,
    bank_check_count,
    free_port,
    make_app,
    reachable,
    require,
)
from tests.jobs.conftest import SLOW_CLIENT, Deployment, wait_for

POSTGRES, REDIS = POSTGRES_URL, REDIS_URL

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def scaled(tmp_path, sandbox):
    require(reachable(POSTGRES), "PostgreSQL is not reachable at 127.0.0.1:5432 (database test)")
    require(reachable(REDIS), "Redis is not reachable at 127.0.0.1:6379")
    schema = f"scaled_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    uri = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    queue = f"test-{schema}"
    setup = make_app(tmp_path, uri)
    with setup.app_context():
        upgrade()
        load_bank()
        db.engine.dispose()
    deployment = Deployment(tmp_path, "unused", REDIS_URL=REDIS, GRADING_QUEUE=queue)
    deployment.uri = uri
    deployment.app = make_app(tmp_path, uri, **deployment.settings)
    yield deployment
    deployment.close()
    Redis.from_url(REDIS).delete(f"rq:queue:{queue}")
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def enqueue(deployment: Deployment, files: dict[str, str]) -> int:
    submission_id = deployment.store("tcp-echo", files)
    with deployment.app.app_context():
        deployment.app.extensions["dispatcher"].enqueue(submission_id)
    return submission_id


def reference_files(deployment: Deployment) -> dict[str, str]:
    with deployment.app.app_context():
        question = db.session.scalar(sa.select(Question).where(Question.slug == "tcp-echo"))
        return dict(question.reference_files)


def test_killed_worker_is_replaced_and_nothing_is_lost(scaled):
    submission_id = enqueue(scaled, {"client": SLOW_CLIENT})
    first = scaled.spawn("worker")
    wait_for(
        lambda: scaled.submission(submission_id).status == "running",
        60,
        "the first worker to start grading",
    )
    scaled.kill(first)
    assert scaled.submission(submission_id).status == "running"

    scaled.spawn("worker")  # its sweeper finds the stale grading and queues it again
    wait_for(
        lambda: scaled.submission(submission_id).status == "done", 90, "another worker to grade it"
    )
    graded = scaled.submission(submission_id)
    assert graded.attempts == 2 and graded.verdict == "passed"


def signed_in_session(app, user_id: int) -> requests.Session:
    """A browser-like session cookie for ``user_id``, signed with the app's key."""
    serializer = app.session_interface.get_signing_serializer(app)
    session = requests.Session()
    session.cookies.set("session", serializer.dumps({"_user_id": str(user_id), "_fresh": True}))
    return session


def test_two_workers_share_the_queue_and_events_reach_the_web_process(scaled):
    ids = [enqueue(scaled, reference_files(scaled)) for _ in range(3)]
    owner = scaled.submission(ids[0]).user_id
    port = free_port()
    scaled.spawn("run", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: _up(base), 30, "the web process")

    received: list[dict] = []
    watcher = socketio_client.Client(http_session=signed_in_session(scaled.app, owner))
    watcher.on("snapshot", lambda data: received.append({"name": "snapshot", **data}))
    watcher.on("submission", lambda data: received.append({"name": "submission", **data}))
    watcher.connect(base, transports=["websocket"], wait_timeout=10)
    watcher.emit("watch", {"id": ids[0]})
    wait_for(lambda: received, 10, "the snapshot")

    workers = [scaled.spawn("worker"), scaled.spawn("worker")]
    for submission_id in ids:
        wait_for(
            lambda i=submission_id: scaled.submission(i).status == "done",
            120,
            f"submission {submission_id}",
        )
    wait_for(
        lambda: any(r.get("event") == "finished" for r in received),
        10,
        "the finished event to reach the browser side",
    )
    watcher.disconnect()

    assert {scaled.submission(i).verdict for i in ids} == {"passed"}
    assert received[0]["name"] == "snapshot" and received[0]["id"] == ids[0]
    events = [r["event"] for r in received if r["name"] == "submission"]
    assert events[0] == "started" and events[-1] == "finished"
    # Each grading's events arrive once. Under a heavy load a late heartbeat (STALE_SECONDS
    # is 3 here) can have the sweeper grade it again: its events then come twice.
    gradings = scaled.submission(ids[0]).attempts
    assert events.count("check_finished") == bank_check_count("tcp-echo") * gradings
    assert {r["id"] for r in received} == {ids[0]}  # only the watched submission's room
    assert all(worker.poll() is None for worker in workers)  # still serving


def _up(base: str) -> bool:
    try:
        return requests.get(base + "/", timeout=1).status_code == 200
    except requests.RequestException:
        return False
