"""Security headers on every response: pages, JSON, static files, errors and Socket.IO.

The headers are added by a small WSGI middleware around the whole application rather than
by ``after_request``: Socket.IO's polling and WebSocket answers are produced by the
Engine.IO middleware and never reach Flask's request hooks, and neither does a response
that fails inside another hook. A header a view set itself is left as it is.

The Content-Security-Policy allows scripts and styles from this site only: no inline
``<script>``, no event-handler attributes, no ``eval``. Pages carry their data as
``<script type="application/json">`` blocks, which are data, not scripts, and the bundles
in ``static/js`` read them. ``<style>`` elements are refused but those carrying the
response's nonce (a fresh random value per request, ``csp_nonce()`` in templates): the code
editor's script tag carries it, and CodeMirror puts it on the ``<style>`` it injects.
``style-src-attr 'unsafe-inline'`` keeps ``style="..."`` *attributes* working (CodeMirror
sets the editor's tab size that way and Markdown tables align their cells with them).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, request

HSTS = "max-age=31536000; includeSubDomains"
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)
NONCE_KEY = "loopback.csp_nonce"
# A Host header we are willing to echo into connect-src (host, port, IPv6 literal).
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def content_security_policy(host: str | None, nonce: str) -> str:
    """The policy; ``host`` (the request's Host) names this site's own WebSocket origin,
    since older browsers do not let ``'self'`` match ``ws:``/``wss:``."""
    sockets = f" ws://{host} wss://{host}" if host and _HOST.match(host) else ""
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        f"style-src 'self' 'nonce-{nonce}'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        f"connect-src 'self'{sockets}",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def security_headers(host: str | None, https: bool, nonce: str) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": content_security_policy(host, nonce),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if https:
        headers["Strict-Transport-Security"] = HSTS
    return headers


class SecurityHeadersMiddleware:
    """Adds :func:`security_headers` to every response of the wrapped WSGI application."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], app: Flask):
        self.wsgi_app = wsgi_app
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME")
        nonce = environ[NONCE_KEY] = secrets.token_urlsafe(16)
        https = bool(self.app.config.get("SESSION_COOKIE_SECURE"))
        extra = security_headers(host, https, nonce)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            present = {name.lower() for name, _ in headers}
            headers = headers + [(k, v) for k, v in extra.items() if k.lower() not in present]
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


def csp_nonce() -> str:
    """This response's nonce, for a tag that must be allowed (templates: ``csp_nonce()``)."""
    return request.environ.get(NONCE_KEY, "")


def init_app(app: Flask) -> None:
    """Wrap the application (after Socket.IO's middleware, so its answers are covered)."""
    app.wsgi_app = SecurityHeadersMiddleware(app.wsgi_app, app)  # type: ignore[method-assign]
    app.add_template_global(csp_nonce)
