"""Error pages (HTML for people, JSON under /api/) and the CSRF failure page."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

_TEMPLATES = {400: "errors/400.html", 404: "errors/404.html", 500: "errors/500.html"}


def _wants_json() -> bool:
    return request.path.startswith("/api/")


JSON_MESSAGES = {
    400: "Bad request.",
    404: "No such resource: see /api/v1/openapi.json for the endpoints.",
    500: "Internal error: the request was not completed.",
}


def _page(status: int, message: str | None = None, **context) -> tuple[str | Response, int]:
    if _wants_json():
        return jsonify(error=message or JSON_MESSAGES.get(status, str(status))), status
    return render_template(_TEMPLATES[status], message=message, **context), status


def csrf_error(error: CSRFError) -> tuple[str | Response, int]:
    rule = request.url_rule
    # Offer to reload the form when the same address also serves it (e.g. /auth/login).
    reload_url = request.path if rule is not None and "GET" in (rule.methods or ()) else None
    return _page(
        400,
        _("The form expired or is missing its security token — reload the page and try again."),
        heading=_("The form has expired"),
        reload_url=reload_url,
    )


def bad_request(error: HTTPException) -> tuple[str | Response, int]:
    return _page(400)


def not_found(error: HTTPException) -> tuple[str | Response, int]:
    return _page(404)


def server_error(error: Exception) -> tuple[str | Response, int]:
    try:
        return _page(500)
    except Exception:  # the error page must not fail in turn (e.g. the database is down)
        return "Internal Server Error", 500


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(400, bad_request)
    app.register_error_handler(404, not_found)
    app.register_error_handler(500, server_error)
