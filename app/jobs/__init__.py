"""Dispatching gradings: one interface, two implementations chosen by configuration.

* :class:`~app.jobs.embedded.EmbeddedDispatcher` (default): a pool of worker threads in
  the web process, so ``make run`` needs nothing else;
* :class:`~app.jobs.redis_queue.RedisDispatcher` (``REDIS_URL`` set): an RQ queue on Redis,
  drained by ``flask worker`` processes.

The database is the source of truth: queues carry submission ids only, a worker claims a
submission atomically, and a sweeper re-queues work whose worker vanished.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from flask import Flask, current_app


class Dispatcher(ABC):
    @abstractmethod
    def enqueue(self, submission_id: int) -> None:
        """Hand a stored submission to a worker (safe to call twice for one id)."""

    @abstractmethod
    def start(self) -> None:
        """Start whatever runs in this process (workers, sweeper)."""

    @abstractmethod
    def stop(self) -> None:
        """Stop it (tests, shutdown)."""


def init_app(app: Flask) -> None:
    if app.config["REDIS_URL"]:
        from app.jobs.redis_queue import RedisDispatcher

        chosen: Dispatcher = RedisDispatcher(app)
    else:
        from app.jobs.embedded import EmbeddedDispatcher

        chosen = EmbeddedDispatcher(app, app.config["GRADING_WORKERS"])
    app.extensions["dispatcher"] = chosen
    mode = str(app.config["START_GRADING_WORKERS"]).lower()
    if mode in ("1", "true", "yes"):
        chosen.start()
    elif mode == "auto":
        app.before_request(chosen.start)


def dispatcher() -> Dispatcher:
    return current_app.extensions["dispatcher"]
