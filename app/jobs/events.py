"""Progress events of a submission, sent to its Socket.IO room (through Redis when
several processes share them)."""

from __future__ import annotations

from typing import Any

from app.extensions import socketio


def room(submission_id: int) -> str:
    return f"submission-{submission_id}"


def publish(submission_id: int, event: str, **data: Any) -> None:
    socketio.emit(
        "submission", {**data, "id": submission_id, "event": event}, to=room(submission_id)
    )
