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


def room(submission_id: int) -> str:
    return f"submission-{submission_id}"


def publish(submission_id: int, event: str, **data: Any) -> None:
    sink = current_app.extensions.get("grading_events")
    if sink is None:
        raise RuntimeError("this process has no channel for grading events")
    sink({**progress(data), "id": submission_id, "event": event})


def progress(data: dict[str, Any]) -> dict[str, Any]:
    """An event says how far the grading is: of a finished check only its status. Its
    detail (traces, transcripts: tens of KB) would go to every page in the room; a page
    reads the checks over HTTP once, when the verdict is in."""
    data = dict(data)
    check = data.pop("check", None)
    if isinstance(check, dict):
        data["check_status"] = check.get("status")
    return data


def emit_to_room(payload: dict[str, Any]) -> None:
    """The web's sink: send an event to the Socket.IO room of its submission."""
    from app.extensions import socketio

    socketio.emit(EVENT, payload, to=room(int(payload["id"])))
