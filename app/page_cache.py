"""Whole answers of question pages for visitors without a session, served before Flask.

Someone with no session cookie (and no remember cookie) is an anonymous visitor with no
message waiting: the question view then builds a page that is the same for every such
visitor of that address and language, and says so (:func:`share`, with the content stamp
it read before building it). This middleware keeps that answer — status, body and
Flask's headers, never one with a ``Set-Cookie`` — and serves the next such request from
memory after one check: the content stamp (migration 0006; triggers bump it on any write
to ``question`` or ``topic``, whoever writes) has not moved. An edit, a publish or an
unpublish therefore shows at once, in every process.

It sits inside the security-headers middleware: each answer still gets its own CSP nonce
and every security header. A visitor with a session (signed in, a flashed message, a CSRF
token of a form) always goes through Flask; the view's own per-process page cache
(app/questions/routes.py) covers the anonymous ones among them.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header, parse_cookie

from app.i18n import LANG_COOKIE, locale_code
from app.models import content_stamp, db

# environ: a list the view puts (stamp, lang) in when its page fits every visitor without
# a session (a list, not a value: Flask-SocketIO hands Flask a copy of the environ).
SHARED = "loopback.shared_page"
PREFIX = "/questions/"
QUERIES = ("", "reveal=1")  # the page's own addresses (its links back carry the query)
ENDPOINT = "questions.question"
MAX_PAGES = 512


@dataclass(frozen=True)
class Answer:
    stamp: int
    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


def share(stamp: int | None, lang: str) -> None:
    """The view: this request's page is the same for every visitor without a session."""
    slot = request.environ.get(SHARED)
    if slot is not None and stamp is not None:
        slot.append((stamp, lang))


class PageCache:
    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], app: Flask):
        self.wsgi_app = wsgi_app
        self.app = app
        self.personal = {
            app.config.get("SESSION_COOKIE_NAME", "session"),
            app.config.get("REMEMBER_COOKIE_NAME", "remember_token"),
        }
        with app.app_context():
            self.engine = db.engine
        self.hits = self.misses = 0
        self._answers: OrderedDict[tuple, Answer] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        key = self._key(environ)
        if key is None:
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        try:
            stamp = self._stamp()
        except SQLAlchemyError:  # Flask answers, with its error page and its log
            return self.wsgi_app(environ, start_response)
        with self._lock:
            found = self._answers.get(key)
            if found is not None and found.stamp == stamp:
                self._answers.move_to_end(key)
                self.hits += 1
            else:
                found = None
                self.misses += 1
        if found is None:
            return self._through_flask(key, environ, start_response)
        start_response(found.status, list(found.headers))
        metrics = self.app.extensions.get("metrics")
        if metrics is not None:
            metrics.answered("GET", ENDPOINT, found.status[:3], time.perf_counter() - started)
        return [found.body]

    def _key(self, environ: dict[str, Any]) -> tuple | None:
        """Where a shared answer may be: a GET of a question page's own address, with no
        session, no remember cookie and no Authorization header; else None."""
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or not path.startswith(PREFIX)
            or query not in QUERIES
            or "HTTP_AUTHORIZATION" in environ
        ):
            return None
        cookies = parse_cookie(environ) if environ.get("HTTP_COOKIE") else {}
        if self.personal & cookies.keys():
            return None
        accept = parse_accept_header(environ.get("HTTP_ACCEPT_LANGUAGE"), LanguageAccept)
        lang = locale_code(None, cookies.get(LANG_COOKIE), accept)
        host = environ.get("HTTP_HOST", "")
        return (path, query, lang, host, environ.get("wsgi.url_scheme"))

    def _stamp(self) -> int | None:
        with self.engine.connect() as connection:
            return content_stamp(connection)

    def _through_flask(self, key: tuple, environ: dict[str, Any], start_response):
        answered: list = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            answered[:] = [status, headers]
            return start_response(status, headers, exc_info)

        slot: list[tuple[int, str]] = []
        environ[SHARED] = slot
        body = self.wsgi_app(environ, start)
        if not slot or slot[0][1] != key[2] or not answered:
            return body
        stamp = slot[0][0]
        status, headers = answered
        if not status.startswith("200") or any(n.lower() == "set-cookie" for n, _ in headers):
            return body
        try:
            content = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        with self._lock:
            self._answers[key] = Answer(stamp, status, tuple(headers), content)
            self._answers.move_to_end(key)
            while len(self._answers) > MAX_PAGES:
                self._answers.popitem(last=False)
        return [content]


def init_app(app: Flask) -> None:
    """Wrap the application; call before security_headers.init_app, which wraps this."""
    cache = PageCache(app.wsgi_app, app)
    app.wsgi_app = cache  # type: ignore[method-assign]
    app.extensions["page_cache"] = cache
