"""Operators' faults on the scaled mode, with real `flask worker` processes and Redis:
a killed worker leaves /healthz and RQ's registry within STALE_SECONDS, a worker-less
queue turns /healthz red, a paused one comes back to both when resumed; failures RQ
records for work that was graded are cleared."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import time
import uuid

import pytest
from redis import Redis
from rq import Worker

from app.jobs.redis_queue import grade_job
from tests.helpers import REDIS_URL, reachable, require
from tests.jobs.conftest import SLOW_CLIENT, Deployment, wait_for

pytestmark = pytest.mark.redis


@pytest.fixture
def scaled(migrated_database, tmp_path):
    require(reachable(REDIS_URL), "Redis is not reachable at 127.0.0.1:6379")
    database = tmp_path / "loopback.sqlite3"
    shutil.copy(migrated_database, database)
    name = f"test-{uuid.uuid4().hex[:10]}"
    # The test's app takes settings, the workers the environment: both name the queue.
    created = Deployment(
        tmp_path, database, REDIS_URL=REDIS_URL, GRADING_QUEUE=f"{name}-grading", STALE_SECONDS=3
    )
    yield created
    created.close()
    redis = Redis.from_url(REDIS_URL)
    for key in redis.scan_iter(f"*{name}*"):
        redis.delete(key)


def health(deployment: Deployment) -> tuple[int, dict]:
    response = deployment.app.test_client().get("/healthz")
    return response.status_code, response.get_json()["checks"]


def registered(deployment: Deployment) -> set[str]:
    queue = deployment.app.extensions["dispatcher"].queue
    return {worker.name for worker in Worker.all(queue=queue)}


def test_killed_worker_leaves_health_and_rq_within_stale_seconds(scaled):
    status, checks = health(scaled)
    assert status == 503 and checks["workers"]["live"] == 0 and checks["redis"]["ok"]
    # A submission queued, then this deployment's Redis keys flushed: the sweeper of the
    # workers to come finds it in the database and queues it again.
    lost = scaled.store("tcp-echo", {"client": "print('hello')"})
    dispatcher = scaled.app.extensions["dispatcher"]
    with scaled.app.app_context():
        dispatcher.enqueue(lost)
    redis = Redis.from_url(REDIS_URL)
    flushed = [
        k for k in redis.scan_iter("rq:*") if scaled.app.config["GRADING_QUEUE"].encode() in k
    ]
    redis.delete(*flushed, f"rq:job:grade-{lost}")
    assert dispatcher.queue.count == 0
    first, second = scaled.spawn("worker"), scaled.spawn("worker")
    wait_for(lambda: health(scaled)[1]["workers"]["live"] == 2, 30, "two live workers")
    assert health(scaled)[0] == 200
    both = {str(first.pid), str(second.pid)}
    wait_for(lambda: {n.rsplit("-", 1)[1] for n in registered(scaled)} == both, 10, "RQ")
    wait_for(
        lambda: scaled.submission(lost).status in ("done", "error"), 60, "the flushed one graded"
    )
    assert scaled.submission(lost).attempts == 1
    scaled.kill(first)
    # STALE_SECONDS=3, sweeps every second: the survivor forgets it in RQ's registry too.
    wait_for(lambda: health(scaled)[1]["workers"]["live"] == 1, 6, "the dead worker to go")
    wait_for(
        lambda: not any(n.endswith(f"-{first.pid}") for n in registered(scaled)),
        6,
        "RQ's registry to forget the dead worker",
    )
    scaled.kill(second)
    wait_for(lambda: health(scaled)[0] == 503, 6, "/healthz to turn red without workers")


def pause_outside_a_write(process, database: str) -> None:
    """SIGSTOP the worker (past STALE_SECONDS=3 the other takes over), at a moment it holds
    no SQLite write lock: stopped inside a write (it saves progress as each check starts),
    it would keep every other writer out — SQLite's nature, not what this test is about."""
    for _ in range(100):
        os.kill(process.pid, signal.SIGSTOP)
        try:
            with contextlib.closing(sqlite3.connect(database, timeout=0.2)) as connection:
                connection.execute("BEGIN IMMEDIATE")
                connection.rollback()
            return
        except sqlite3.OperationalError:  # database is locked: let it finish that write
            os.kill(process.pid, signal.SIGCONT)
            time.sleep(0.05)
    raise AssertionError("the worker never let go of the database")


def test_paused_worker_comes_back_to_health_and_rq_and_its_grading_is_stored_once(scaled, sandbox):
    submission_id = scaled.store("tcp-echo", {"client": SLOW_CLIENT})
    with scaled.app.app_context():
        scaled.app.extensions["dispatcher"].enqueue(submission_id)
    paused = scaled.spawn("worker")
    wait_for(lambda: scaled.submission(submission_id).status == "running", 30, "the grading")
    pause_outside_a_write(paused, scaled.uri.removeprefix("sqlite:///"))
    try:
        other = scaled.spawn("worker")
        wait_for(
            lambda: scaled.submission(submission_id).attempts == 2, 30, "the other to take over"
        )
        wait_for(
            lambda: not any(n.endswith(f"-{paused.pid}") for n in registered(scaled)),
            10,
            "the other worker's sweep to drop the paused one from RQ's registry",
        )
        assert health(scaled)[1]["workers"]["live"] == 1
    finally:
        os.kill(paused.pid, signal.SIGCONT)
    wait_for(lambda: health(scaled)[1]["workers"]["live"] == 2, 6, "the resumed one's beat")
    wait_for(
        lambda: (
            {n.rsplit("-", 1)[1] for n in registered(scaled)} == {str(paused.pid), str(other.pid)}
        ),
        6,
        "the resumed worker to be listed in RQ's registry again",
    )
    # Both finish their runs of the job; the resumed one stores nothing (it lost the claim).
    queue = scaled.app.extensions["dispatcher"].queue
    wait_for(lambda: scaled.submission(submission_id).status == "done", 90, "the verdict")
    graded = scaled.submission(submission_id)
    wait_for(
        lambda: {w.get_state() for w in Worker.all(queue=queue)} == {"idle"},
        60,
        "both workers to finish their runs",
    )
    again = scaled.submission(submission_id)
    assert (again.attempts, again.verdict) == (2, "passed")
    assert (again.finished_at, again.result) == (graded.finished_at, graded.result)
    assert len(registered(scaled)) == 2
    with scaled.app.app_context():
        from app.models import Submission, db

        assert db.session.query(Submission).count() == 1


def test_failures_of_graded_submissions_are_cleared(scaled):
    graded = scaled.store("tcp-echo", {"client": "print(1)"})
    failed = scaled.store("tcp-echo", {"client": "print(2)"})
    with scaled.app.app_context():
        from app.models import Submission, db

        db.session.get(Submission, graded).status = "done"
        db.session.get(Submission, failed).status = "error"
        db.session.commit()
        dispatcher = scaled.app.extensions["dispatcher"]
        registry = dispatcher.queue.failed_job_registry
        for submission_id in (graded, failed):
            job = dispatcher.queue.enqueue(
                grade_job, submission_id, job_id=f"grade-{submission_id}"
            )
            dispatcher.queue.remove(job)
            registry.add(job, ttl=60)
        assert set(registry.get_job_ids()) == {f"grade-{graded}", f"grade-{failed}"}
        dispatcher.forget_graded_failures()
        assert registry.get_job_ids() == [f"grade-{failed}"]  # a real failure stays
