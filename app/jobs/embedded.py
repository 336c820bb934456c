"""The default dispatcher: worker threads inside the web process."""

from __future__ import annotations

import queue
import threading

from flask import Flask

from app.jobs import Dispatcher
from app.models import db

STOP = -1


class EmbeddedDispatcher(Dispatcher):
    def __init__(self, app: Flask, workers: int):
        self.app = app
        self.size = max(1, workers)
        self.queue: queue.Queue[int] = queue.Queue()
        self.threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._starting = threading.Lock()

    def enqueue(self, submission_id: int) -> None:
        self.queue.put(submission_id)

    def start(self) -> None:
        with self._starting:
            if not self.threads:
                self._start_threads()

    def _start_threads(self) -> None:
        for number in range(self.size):
            thread = threading.Thread(target=self._work, name=f"grader-{number}", daemon=True)
            thread.start()
            self.threads.append(thread)
        sweeper = threading.Thread(target=self._sweep, name="grading-sweeper", daemon=True)
        sweeper.start()
        self.threads.append(sweeper)

    def stop(self) -> None:
        self._stopping.set()
        for _ in range(self.size):
            self.queue.put(STOP)
        for thread in self.threads:
            thread.join(30)
        self.threads = []

    def recover(self) -> None:
        """After a restart: what was queued is queued again; what a dead process was
        grading is graded again."""
        from app.jobs.grading import orphaned_by_dead_local_workers, queued_ids

        orphaned_by_dead_local_workers()
        for submission_id in queued_ids():
            self.enqueue(submission_id)

    def _work(self) -> None:
        from app.jobs.grading import run_submission

        while (submission_id := self.queue.get()) != STOP:
            with self.app.app_context():
                try:
                    run_submission(submission_id)
                except Exception:
                    self.app.logger.exception("worker failed on submission %s", submission_id)
                finally:
                    db.session.remove()

    def _sweep(self) -> None:
        from app.jobs.grading import stale_submissions

        with self.app.app_context():
            self.recover()
            db.session.remove()
        interval = self.app.config["SWEEP_SECONDS"]
        while not self._stopping.wait(interval):
            with self.app.app_context():
                try:
                    requeued, _ = stale_submissions(self.app.config["STALE_SECONDS"])
                    for submission_id in requeued:
                        self.enqueue(submission_id)
                except Exception:
                    self.app.logger.exception("grading sweeper failed")
                finally:
                    db.session.remove()
