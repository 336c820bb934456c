"""Who may use the studio: anonymous visitors are sent to sign in, learners get 403,
instructors and admins are let in; some pages are for admins only.

Every view of the blueprint carries one of the decorators below. As a second line of
defence the blueprint refuses (403) any view that carries none, so a route added without
a decorator fails closed instead of open."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import Forbidden
from werkzeug.wrappers import Response

INSTRUCTOR = "instructor"
ADMIN = "admin"


def _allowed(level: str) -> bool:
    return bool(current_user.is_admin if level == ADMIN else current_user.is_instructor)


def _sign_in() -> Response:
    """Redirect to the sign-in page, coming back here afterwards (GET pages only: a POST
    endpoint cannot be reached by a redirect, so those come back to the dashboard)."""
    flash(_("Please sign in to see this page."), "info")
    back = (
        request.full_path.rstrip("?")
        if request.method == "GET"
        else url_for("instructor.dashboard")
    )
    return redirect(url_for("auth.login", next=back))


def _require(level: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            if not current_user.is_authenticated:
                return _sign_in()
            if not _allowed(level):
                raise Forbidden()
            return view(*args, **kwargs)

        wrapped.access_level = level  # type: ignore[attr-defined]
        return wrapped

    return decorator


instructor_required = _require(INSTRUCTOR)
"""Instructors and admins."""

admin_required = _require(ADMIN)
"""Admins only."""


def access_level(endpoint: str | None) -> str | None:
    view = current_app.view_functions.get(endpoint or "")
    return getattr(view, "access_level", None)


def guard_blueprint() -> Response | None:
    """``before_request`` of the blueprint: sign in first; a view without a decorator is
    refused for everybody."""
    if not current_user.is_authenticated:
        return _sign_in()
    if access_level(request.endpoint) is None:
        current_app.logger.error("instructor view %s has no access decorator", request.endpoint)
        raise Forbidden()
    return None


def forbidden(error: Forbidden):
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        return jsonify(error="forbidden"), 403
    return render_template("instructor/403.html"), 403


def visible_questions(user: Any) -> sa.ColumnElement[bool]:
    """The questions ``user`` may manage, as a filter on ``Question``: instructors and
    admins see every question, drafts included; anybody else none. The one place to narrow
    it (per-course ownership, say)."""
    return sa.true() if user.is_authenticated and user.is_instructor else sa.false()
