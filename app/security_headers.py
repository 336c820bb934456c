"""Security headers on every response: pages, JSON, static files, errors and Socket.IO.

The headers are added by a small WSGI middleware around the whole application rather than
by ``after_request``: Socket.IO's polling and WebSocket answers are produced by the
Engine.IO middleware and never reach Flask's request hooks, and neither does a response
that fails inside another hook. A header a view set itself is left as it is.

The Content-Security-Policy allows scripts and styles from this site only: no inline
``<script>``, no event-handler attributes, no ``eval``. Pages carry their data as
``<script type="application/json">`` blocks, which are data, not scripts, and the bundles
in ``static/js`` read them. ``style-src-attr 'unsafe-inline'`` keeps ``style="..."``
*attributes* working (CodeMirror sets the editor's tab size that way and Markdown tables
align their cells with ``text-align``); ``<style>`` elements stay refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

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
# A Host header we are willing to echo into connect-src (host, port, IPv6 literal).
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def content_security_policy(host: str | None) -> str:
    """The policy; ``host`` (the request's Host) names this site's own WebSocket origin,
    since older browsers do not let ``'self'`` match ``ws:``/``wss:``."""
    sockets = f" ws://{host} wss://{host}" if host and _HOST.match(host) else ""
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
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


def security_headers(host: str | None, https: bool) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": content_security_policy(host),
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
        extra = security_headers(host, bool(self.app.config.get("SESSION_COOKIE_SECURE")))

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            present = {name.lower() for name, _ in headers}
            headers = headers + [(k, v) for k, v in extra.items() if k.lower() not in present]
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


def init_app(app: Flask) -> None:
    """Wrap the application (after Socket.IO's middleware, so its answers are covered)."""
    app.wsgi_app = SecurityHeadersMiddleware(app.wsgi_app, app)  # type: ignore[method-assign]
