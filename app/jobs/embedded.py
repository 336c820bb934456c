"""The default dispatcher, on the web's side: the web never grades. It stores the work in
the database (the queue), nudges the grading service over the local channel, and relays
the service's progress events to the Socket.IO rooms of this process's watchers."""

from __future__ import annotations

from flask import Flask

from app.jobs import Dispatcher
from app.jobs.channel import EventClient
from app.jobs.events import emit_to_room


class EmbeddedDispatcher(Dispatcher):
    def __init__(self, app: Flask):
        self.app = app
        self.client = EventClient(app.config["GRADING_SOCKET"], self._relay)

    def enqueue(self, submission_id: int) -> None:
        self.client.wake()

    def enqueue_validation(self, question_id: int) -> None:
        self.client.wake()

    def start(self) -> None:
        self.client.start()

    def stop(self) -> None:
        self.client.stop()

    def live_workers(self) -> int:
        """The grading service, when this process is connected to it (just started: give
        the connection a moment)."""
        self.client.start()
        return 1 if self.client.connected.wait(1.0) else 0

    def _relay(self, payload: dict) -> None:
        with self.app.app_context():
            emit_to_room(payload)
