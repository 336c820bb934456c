"""Grading threads that take their work from the database: the grading service's
(:mod:`app.jobs.service`) and, for tests only, the in-process dispatcher's.

Each idle thread asks the database for the oldest queued submission (then the oldest
queued validation) and claims it atomically (``queued -> running``), so any number of
threads and processes can share the database. A wake-up (a new submission was stored)
makes idle threads look at once; otherwise they look every ``POLL_SECONDS``. A sweeper
re-queues work whose grader stopped beating, and on start what a dead process on this
host was grading."""

from __future__ import annotations

import threading

from flask import Flask

from app.grading.warm import SPARE_POOL
from app.jobs import Dispatcher
from app.models import db

POLL_SECONDS = 1.0


class GradingWorkers:
    def __init__(self, app: Flask, size: int):
        self.app = app
        self.size = max(1, size)
        self.threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._changed = threading.Condition()
        self._generation = 0

    def wake(self) -> None:
        """Something was queued: idle threads look at the database now."""
        with self._changed:
            self._generation += 1
            self._changed.notify_all()

    def start(self) -> None:
        if self.threads:
            return
        self._stopping.clear()
        SPARE_POOL.warm_up()
        for number in range(self.size):
            self._spawn(self._work, f"grader-{number}")
        self._spawn(self._sweep, "grading-sweeper")

    def stop(self, timeout: float = 30) -> None:
        self._stopping.set()
        self.wake()
        for thread in self.threads:
            thread.join(timeout)
        self.threads = []

    def _spawn(self, target, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _work(self) -> None:
        while not self._stopping.is_set():
            with self._changed:
                seen = self._generation
            try:
                found = self._one_job()
            except Exception:
                self.app.logger.exception("grading thread failed; it goes on")
                found = False
            if not found:
                with self._changed:
                    if self._generation == seen and not self._stopping.is_set():
                        self._changed.wait(POLL_SECONDS)

    def _one_job(self) -> bool:
        from app.jobs import validation
        from app.jobs.grading import next_queued, run_submission

        with self.app.app_context():
            try:
                submission_id = next_queued()
                if submission_id is not None:
                    run_submission(submission_id)
                    return True
                question_id = validation.next_queued()
                if question_id is not None:
                    validation.run_validation(question_id)
                    return True
                return False
            finally:
                db.session.remove()

    def _sweep(self) -> None:
        from app.jobs import validation
        from app.jobs.grading import orphaned_by_dead_local_workers, stale_submissions

        with self.app.app_context():
            try:
                orphaned_by_dead_local_workers()
                validation.orphaned_by_dead_local_workers()
            except Exception:
                self.app.logger.exception("recovering orphaned gradings failed")
            finally:
                db.session.remove()
        self.wake()
        stale_after = self.app.config["STALE_SECONDS"]
        while not self._stopping.wait(self.app.config["SWEEP_SECONDS"]):
            with self.app.app_context():
                try:
                    requeued, _ = stale_submissions(stale_after)
                    revived, _ = validation.stale_validations(stale_after)
                    if requeued or revived:
                        self.wake()
                except Exception:
                    self.app.logger.exception("grading sweeper failed")
                finally:
                    db.session.remove()


class InProcessDispatcher(Dispatcher):
    """Tests only (``GRADING_IN_PROCESS=1``): the grading threads run inside this process,
    which therefore needs root. ``make run`` never uses it: there the web hands work to
    the separate grading service (:class:`~app.jobs.embedded.EmbeddedDispatcher`)."""

    def __init__(self, app: Flask, workers: int):
        self.workers = GradingWorkers(app, workers)

    def enqueue(self, submission_id: int) -> None:
        self.workers.wake()

    def enqueue_validation(self, question_id: int) -> None:
        self.workers.wake()

    def start(self) -> None:
        self.workers.start()

    def stop(self) -> None:
        self.workers.stop()

    def live_workers(self) -> int:
        return sum(t.is_alive() and t.name.startswith("grader-") for t in self.workers.threads)
