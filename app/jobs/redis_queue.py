"""The scaled dispatcher: an RQ queue on Redis, drained by ``flask worker`` processes.

The queue carries ids only. Each worker also sweeps: running submissions whose worker
stopped beating, and queued ones the queue may have lost (Redis keeps nothing on disk
here), are queued again; the database claim makes duplicates harmless.
"""

from __future__ import annotations

import threading

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker

from app.jobs import Dispatcher
from app.models import db


def job_id(submission_id: int) -> str:
    return f"grade-{submission_id}"


def grade_job(submission_id: int) -> None:
    """The RQ job: runs inside `flask worker`, which holds the app context."""
    from app.jobs.grading import run_submission

    try:
        run_submission(submission_id)
    finally:
        db.session.remove()


def validation_job_id(question_id: int) -> str:
    return f"validate-{question_id}"


def validate_job(question_id: int) -> None:
    """The RQ job of a question's validation (claimed from the database, like a grading)."""
    from app.jobs.validation import run_validation

    try:
        run_validation(question_id)
    finally:
        db.session.remove()


class RedisDispatcher(Dispatcher):
    def __init__(self, app: Flask):
        self.app = app
        self.redis = Redis.from_url(app.config["REDIS_URL"])
        self.queue = Queue(app.config["GRADING_QUEUE"], connection=self.redis)
        self._stopping = threading.Event()

    def enqueue(self, submission_id: int) -> None:
        self._put(grade_job, submission_id, job_id(submission_id), 900)

    def enqueue_validation(self, question_id: int) -> None:
        self._put(validate_job, question_id, validation_job_id(question_id), 1800)

    def _put(self, job, argument: int, name: str, timeout: int) -> None:
        """The work is stored already: without Redis, a worker's sweeper queues it once
        Redis is back (it is older than STALE_SECONDS then), so the caller's answer
        stays "accepted" and a client has no reason to submit it twice."""
        try:
            self.queue.enqueue(
                job, argument, job_id=name, job_timeout=timeout, result_ttl=0, failure_ttl=3600
            )
        except RedisError as exc:
            self.app.logger.warning("%s stored, not queued (%s): the sweeper will", name, exc)

    def start(self) -> None:
        """The web process only enqueues; workers run in `flask worker`."""

    def stop(self) -> None:
        self._stopping.set()

    def sweep_once(self) -> None:
        from app.jobs import validation
        from app.jobs.grading import queued_ids, stale_submissions

        requeued, _ = stale_submissions(self.app.config["STALE_SECONDS"])
        validation.stale_validations(self.app.config["STALE_SECONDS"])
        waiting = set(self.queue.get_job_ids())
        lost = [
            i
            for i in queued_ids(older_than=self.app.config["STALE_SECONDS"])
            if job_id(i) not in waiting
        ]
        for submission_id in requeued + lost:
            self.enqueue(submission_id)
        for question_id in validation.queued_ids():
            if validation_job_id(question_id) not in waiting:
                self.enqueue_validation(question_id)

    def _sweep(self) -> None:
        interval = self.app.config["SWEEP_SECONDS"]
        while not self._stopping.wait(interval):
            with self.app.app_context():
                try:
                    self.sweep_once()
                except Exception:
                    self.app.logger.exception("grading sweeper failed")
                finally:
                    db.session.remove()

    def work(self, burst: bool = False) -> None:
        """Run a worker in this process (the `flask worker` command)."""
        sweeper = threading.Thread(target=self._sweep, name="grading-sweeper", daemon=True)
        sweeper.start()
        with self.app.app_context():
            self.sweep_once()
            db.session.remove()
            worker = SimpleWorker([self.queue], connection=self.redis)
            worker.work(burst=burst, with_scheduler=False)
        self._stopping.set()
