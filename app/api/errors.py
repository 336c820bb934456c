"""JSON errors: ``{"error": message}`` with the right status and headers.

Inside the blueprint every HTTP error becomes JSON. Routing errors happen before a
blueprint is known, so 405 and 413 get app-wide handlers that answer JSON under /api/ and
leave other paths alone; 400 and 404 under /api/ are already JSON (app/questions/errors.py).
"""

from __future__ import annotations

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from app.api import bp

MESSAGES = {
    400: "Bad request.",
    401: "Authentication required.",
    403: "You may not see this.",
    404: "Not found.",
    405: "Method not allowed.",
    413: "The request body is too large.",
    415: "Unsupported content type.",
    429: "Too many requests.",
}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    response.headers.update(headers or {})
    return response


class ApiError(Exception):
    """Raised by the API views; rendered as ``{"error": message}``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@bp.errorhandler(ApiError)
def api_error(error: ApiError) -> Response:
    return error_response(error.status, error.message, error.headers)


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    return _from_http_exception(error)


def _from_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    message = MESSAGES.get(status) or error.name
    if status == 405 and getattr(error, "valid_methods", None):
        message = f"Method not allowed; use {', '.join(sorted(error.valid_methods))}."
    elif status == 413:
        limit = request.max_content_length
        if limit:
            message = f"The request body is larger than {limit // 1024} KiB."
    headers = {k: v for k, v in error.get_headers() if k.lower() == "allow"}
    return error_response(status, message, headers)


def register_app_handlers(app: Flask) -> None:
    def json_under_api(error: HTTPException) -> Response | HTTPException:
        if request.path.startswith("/api/"):
            return _from_http_exception(error)
        return error  # Werkzeug's own page, as before

    app.register_error_handler(405, json_under_api)
    app.register_error_handler(413, json_under_api)
