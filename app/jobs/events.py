"""Progress events of a submission, for its Socket.IO room.

Whoever grades publishes through the sink its process registered as
``app.extensions["grading_events"]``: a web app (and ``flask worker``) emits on Socket.IO
(through Redis when several processes share it); the grading service broadcasts over its
Unix socket to the web processes, which emit them (:mod:`app.jobs.channel`). A process
without a sink raises: events are never dropped silently."""

from __future__ import annotations

from typing import Any

from flask import current_app

EVENT = "submission"
# An event says how far the grading is, never what it found: a finished check's detail
# (traces, transcripts: tens of KB) would go to every page in the room, and the pages read
# the checks over HTTP anyway.
RESULTS = ("check",)


def room(submission_id: int) -> str:
    return f"submission-{submission_id}"


def publish(submission_id: int, event: str, **data: Any) -> None:
    sink = current_app.extensions.get("grading_events")
    if sink is None:
        raise RuntimeError("this process has no channel for grading events")
    progress = {key: value for key, value in data.items() if key not in RESULTS}
    sink({**progress, "id": submission_id, "event": event})


def emit_to_room(payload: dict[str, Any]) -> None:
    """The web's sink: send an event to the Socket.IO room of its submission."""
    from app.extensions import socketio

    socketio.emit(EVENT, payload, to=room(int(payload["id"])))
