"""The application factory: create_app() builds the web app (blueprints, extensions,
the dispatcher of gradings and the command line)."""

from __future__ import annotations

import os
from typing import Any

from babel import Locale
from flask import Flask, request, session

from app import config, jobs, page_cache, security_headers, static_assets
from app.extensions import babel, csrf, db, login_manager, migrate, socketio


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        "app",
        instance_path=os.environ.get("LOOPBACK_INSTANCE") or None,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(config.from_environment(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)

    _init_extensions(app)
    _register_blueprints(app)
    jobs.init_app(app)
    static_assets.init_app(app)  # content-hashed static URLs, long-lived caching, gzip
    page_cache.init_app(app)  # question pages of visitors without a session, before Flask
    security_headers.init_app(app)  # CSP & co. on every response, Socket.IO's included
    if app.config["PROXY_COUNT"]:
        # Behind nginx: the client's address (rate limits), scheme and host come from the
        # X-Forwarded-* headers of that many proxies, and only theirs.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from app import cli

    cli.register(app)
    return app


# Parsed once: Flask-Babel would parse the selector's string again on every request.
LOCALES = {code: Locale.parse(code) for code in ("en", "zh")}


def select_locale() -> Locale:
    """The language the visitor chose with the switch, else their browser's preference."""
    from app.i18n import LANG_COOKIE, locale_code

    chosen = session.get("lang")
    return LOCALES[locale_code(chosen, request.cookies.get(LANG_COOKIE), request.accept_languages)]


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(
        app, db, directory=os.path.join(app.root_path, "..", "migrations"), render_as_batch=True
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=app.config["REDIS_URL"] or None,
        channel=app.config["SOCKETIO_CHANNEL"],
        # The page connects over WebSocket only: no long-polling session to pin to one
        # process, so several web processes need no sticky sessions.
        transports=["websocket"],
    )
    from app.submissions import socket_gate

    socket_gate.init_app(app)  # 401 without a user, 429 past SOCKETS_PER_USER

    from app.models import User

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return db.session.get(User, int(user_id))


def _register_blueprints(app: Flask) -> None:
    from app import api, auth, fragments, i18n, markdown, messages, ops
    from app.instructor import bp as instructor_bp
    from app.practice.web import bp as practice_bp
    from app.questions import bp as questions_bp
    from app.questions.errors import register_error_handlers
    from app.submissions import bp as submissions_bp

    app.register_blueprint(questions_bp)
    app.register_blueprint(submissions_bp)
    app.register_blueprint(instructor_bp)  # /instructor/
    app.register_blueprint(practice_bp)  # /practice/
    auth.init_app(app)
    api.init_app(app)  # JSON API at /api/v1 (token auth, CSRF-exempt)
    i18n.init_app(app)  # language switch, template context (lang, html_lang), Vary header
    markdown.init_app(app)  # Jinja filters: markdown, markdown_inline, highlight
    messages.init_app(app)  # Jinja filter `say`: the grader's messages in the reader's language
    fragments.init_app(app)  # rendered parts of pages, per process
    register_error_handlers(app)  # 400 (incl. CSRF), 404, 500
    ops.init_app(app)  # /healthz, /metrics
