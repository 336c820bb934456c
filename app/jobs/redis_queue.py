"""The scaled dispatcher: an RQ queue on Redis, drained by ``flask worker`` processes.

The queue carries ids only. Each worker also sweeps: running submissions whose worker
stopped beating, and queued ones the queue may have lost (Redis keeps nothing on disk
here), are queued again; the database claim makes duplicates harmless.
"""

from __future__ import annotations

import os
import socket
import threading
import time

import sqlalchemy as sa
from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker, Worker, worker_registration

from app.grading.warm import SPARE_POOL
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


class ListedWorker(SimpleWorker):
    """RQ's worker, listed again in RQ's registry whenever it was dropped from it while it
    lives: RQ lists a worker only at its birth, but another worker's sweep drops one paused
    (SIGSTOP) past STALE_SECONDS, and a flushed Redis drops them all."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._listing = threading.Lock()  # the beat thread against birth and death
        self._born = False

    def register_birth(self) -> None:
        with self._listing:
            super().register_birth()
            self._born = True

    def register_death(self) -> None:
        with self._listing:
            self._born = False
            super().register_death()

    def stay_listed(self) -> bool:
        """List this worker again if it was dropped; True when it had to."""
        with self._listing:
            if not self._born:
                return False
            key = self.key
            with self.connection.pipeline() as pipe:
                pipe.sismember(self.redis_workers_keys, key)
                pipe.exists(key)  # a long grading may outlive RQ's own key
                pipe.hexists(key, "death")
                listed, exists, dead = pipe.execute()
            if listed and exists and not dead:
                return False
            with self.connection.pipeline() as pipe:
                pipe.hdel(key, "death")
                pipe.hset(key, mapping={**self.serialize(), "state": self.get_state()})
                worker_registration.register(self, pipe)
                pipe.expire(key, self.worker_ttl + 60)
                pipe.execute()
            return True


class RedisDispatcher(Dispatcher):
    def __init__(self, app: Flask):
        self.app = app
        self.redis = Redis.from_url(app.config["REDIS_URL"])
        self.queue = Queue(app.config["GRADING_QUEUE"], connection=self.redis)
        self._stopping = threading.Event()
        self.worker_name: str | None = None  # set in the `flask worker` process

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

    # -- who is alive: each worker beats in a sorted set, scored by the time of its beat;
    # a killed or paused (SIGSTOP) worker stops beating, whatever RQ's registry says.

    @property
    def _beats(self) -> str:
        return f"{self.queue.name}:alive"

    def beat(self, name: str) -> None:
        self.redis.zadd(self._beats, {name: time.time()})

    def live_worker_names(self) -> set[str]:
        cutoff = time.time() - self.app.config["STALE_SECONDS"]
        self.redis.zremrangebyscore(self._beats, "-inf", cutoff)
        return {n.decode() for n in self.redis.zrangebyscore(self._beats, cutoff, "+inf")}

    def live_workers(self) -> int:
        return len(self.live_worker_names())

    def forget_dead_workers(self) -> None:
        """RQ keeps a killed worker registered (and 'busy') until its key expires, minutes
        later: drop the registrations of ours that stopped beating."""
        # Never this process's own: resumed after a pause, it may sweep before it beats.
        alive = self.live_worker_names() | {self.worker_name}
        for worker in Worker.all(queue=self.queue):
            if worker.name not in alive and worker.name.startswith("loopback-"):
                worker.register_death()

    def forget_graded_failures(self) -> None:
        """A paused worker's run, re-queued and graded by another, ends in RQ's failed list
        though its submission was graded (once: the claim is in the database). Keep the
        list for work that really failed."""
        from app.models import Submission, SubmissionStatus

        failed = self.queue.failed_job_registry
        jobs = [j for j in failed.get_job_ids() if j.startswith("grade-")]
        ids = {int(j.removeprefix("grade-")): j for j in jobs}
        if not ids:
            return
        done = db.session.scalars(
            sa.select(Submission.id).where(
                Submission.id.in_(ids), Submission.status == SubmissionStatus.DONE.value
            )
        )
        for submission_id in done:
            failed.remove(ids[submission_id], delete_job=True)

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
        self.forget_dead_workers()
        self.forget_graded_failures()
        remove_stale_cgroups()

    def _beat(self, worker: ListedWorker) -> None:
        # Several beats per STALE_SECONDS: a busy machine may delay one.
        config = self.app.config
        interval = max(0.2, min(config["HEARTBEAT_SECONDS"], config["STALE_SECONDS"] / 4))
        while True:
            try:
                self.beat(worker.name)
                if worker.stay_listed():
                    self.app.logger.warning(
                        "worker %s was dropped from RQ's registry: listed again", worker.name
                    )
            except RedisError as exc:
                self.app.logger.warning("worker heartbeat failed: %s", exc)
            if self._stopping.wait(interval):
                return

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
        name = self.worker_name = f"loopback-{socket.gethostname()}-{os.getpid()}"
        worker = ListedWorker([self.queue], connection=self.redis, name=name)
        SPARE_POOL.warm_up()
        self.beat(name)
        threading.Thread(target=self._beat, args=(worker,), name="beat", daemon=True).start()
        sweeper = threading.Thread(target=self._sweep, name="grading-sweeper", daemon=True)
        sweeper.start()
        try:
            with self.app.app_context():
                self.sweep_once()
                db.session.remove()
                worker.work(burst=burst, with_scheduler=False)
        finally:
            self._stopping.set()
            self.redis.zrem(self._beats, name)


def remove_stale_cgroups() -> None:
    """Empty per-run cgroups of grader processes that are gone (stopped or killed
    workers); only root made them."""
    if os.geteuid() != 0:
        return
    from app.grading.cgroups import remove_stale_groups

    remove_stale_groups()
