"""The JSON API at /api/v1, for programs: bearer-token authentication, no cookies, no CSRF.

* ``auth.py``     — ``Authorization: Bearer <token>`` on every endpoint but the OpenAPI
  document; 401 with ``WWW-Authenticate: Bearer`` otherwise;
* ``errors.py``   — every error is ``{"error": message}`` with its status;
* ``routes.py``   — submissions (through :func:`app.submissions.service.create_submission`,
  the same validation and rate limits as the web pages) and questions;
* ``practice.py`` — the practice queue, reviews, quiz answers, progress, mock interviews;
* ``present.py``  — what questions and submissions look like as JSON;
* ``openapi.py``  — the hand-written OpenAPI 3.1 document served at ``/api/v1/openapi.json``.
"""

from flask import Blueprint, Flask

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def init_app(app: Flask) -> None:
    from app.api import errors
    from app.extensions import csrf

    csrf.exempt(bp)  # token authentication: a browser's cookies never authenticate here
    app.register_blueprint(bp)
    errors.register_app_handlers(app)


from app.api import auth, practice, routes  # noqa: E402,F401
