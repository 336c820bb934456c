"""Socket.IO: a page asks to watch a submission; it gets the live state now (and again
whenever it asks: after every reconnect, and now and then while pending), then the live
events of the grading. Neither carries the checks: the page fetches them over HTTP."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_login import current_user
from flask_socketio import emit, join_room

from app.extensions import socketio
from app.jobs.events import room
from app.models import Submission, db
from app.submissions.service import can_view
from app.submissions.views import LIVE_COLUMNS, live_state


@socketio.on("connect")
def connect(_auth=None):
    """The socket gate refuses anonymous upgrades already; this holds if it is bypassed."""
    return bool(current_user.is_authenticated)


@socketio.on("watch")
def watch(message):
    try:
        submission_id = int((message or {}).get("id"))
    except (TypeError, ValueError):
        emit("watch_error", {"error": "bad submission id"})
        return
    owner = db.session.get(Submission, submission_id, options=[so.load_only(Submission.user_id)])
    if owner is None or not can_view(current_user, owner):
        emit("watch_error", {"id": submission_id, "error": "not allowed"})
        return
    try:
        # Join first, then read: an event sent between the read and the join would be
        # lost, and a page that missed the verdict would show "Running" until reloaded.
        join_room(room(submission_id))
        emit("snapshot", live_state(_read(submission_id)))
    except ValueError:
        # The page went away between its request and this answer (closed right after
        # loading): python-socketio refuses a sid that is no longer connected. Nothing
        # to watch any more.
        current_app.logger.debug("watcher of submission %s left before joining", submission_id)
    finally:
        db.session.remove()


def _read(submission_id: int) -> Submission:
    return db.session.scalars(
        sa.select(Submission)
        .options(so.load_only(*LIVE_COLUMNS))
        .where(Submission.id == submission_id)
        .execution_options(populate_existing=True)
    ).one()
