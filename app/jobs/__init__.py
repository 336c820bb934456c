"""Dispatching gradings: one interface, implementations chosen by configuration.

* :class:`~app.jobs.embedded.EmbeddedDispatcher` (default, no ``REDIS_URL``): the web only
  stores the work in the database and nudges the separate *grading service*
  (:mod:`app.jobs.service`, the only root process), which claims it from the database and
  sends progress back over a Unix socket in the instance folder;
* :class:`~app.jobs.redis_queue.RedisDispatcher` (``REDIS_URL`` set): an RQ queue on Redis,
  drained by ``flask worker`` processes;
* :class:`~app.jobs.worker.InProcessDispatcher` (``GRADING_IN_PROCESS=1``, tests only):
  the same grading threads as the service's, inside this process.

The database is the source of truth: queues carry ids only, a worker claims a submission
(or a question's validation) atomically, and a sweeper re-queues work whose worker vanished.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from flask import Flask, current_app


class Dispatcher(ABC):
    @abstractmethod
    def enqueue(self, submission_id: int) -> None:
        """Hand a stored submission to a worker (safe to call twice for one id)."""

    @abstractmethod
    def enqueue_validation(self, question_id: int) -> None:
        """Hand a question's queued validation to a worker (safe to call twice)."""

    @abstractmethod
    def start(self) -> None:
        """Start whatever runs in this process (event relay, in-process workers)."""

    @abstractmethod
    def stop(self) -> None:
        """Stop it (tests, shutdown)."""

    @abstractmethod
    def live_workers(self) -> int:
        """Grading workers seen alive within STALE_SECONDS (health and metrics)."""


def init_app(app: Flask) -> None:
    from app.jobs.events import emit_to_room

    # Whatever grades in a web app's process (in-process tests, `flask worker`) publishes
    # progress on Socket.IO.
    app.extensions["grading_events"] = emit_to_room
    if app.config["REDIS_URL"]:
        from app.jobs.redis_queue import RedisDispatcher

        chosen: Dispatcher = RedisDispatcher(app)
    elif app.config["GRADING_IN_PROCESS"]:
        from app.jobs.worker import InProcessDispatcher

        chosen = InProcessDispatcher(app, app.config["GRADING_WORKERS"])
    else:
        from app.jobs.embedded import EmbeddedDispatcher

        chosen = EmbeddedDispatcher(app)
    app.extensions["dispatcher"] = chosen
    mode = str(app.config["START_GRADING_WORKERS"]).lower()
    if mode in ("1", "true", "yes"):
        chosen.start()
    elif mode == "auto":
        app.before_request(chosen.start)


def dispatcher() -> Dispatcher:
    return current_app.extensions["dispatcher"]
