"""Static files with content-hashed names, long-lived caching and gzip.

``url_for('static', filename='js/editor.js')`` gives ``/static/js/editor.<hash>.js``, where
``<hash>`` is the first 12 hex digits of the file's SHA-256. A request for that name is
answered with the file and ``Cache-Control: public, max-age=31536000, immutable``: a
browser never asks again, and a changed file gets a new name. The plain name (and a name
whose hash is stale, e.g. from a page rendered before a deploy) still works, with
``no-cache`` so the browser revalidates (ETag).

Text assets (JS, CSS, SVG, JSON) are sent gzip-compressed when the client accepts gzip; the
compressed bytes are made once per file version and kept in memory (the editor bundle goes
from 413 KB to about 130 KB). Everything is local: no CDN, no build step.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import re
import threading
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from flask import Flask, abort, current_app, request, send_file
from flask.sessions import SecureCookieSessionInterface
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
HASH_LENGTH = 12
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")
_HASHED = re.compile(
    rf"^(?P<stem>.*?)\.(?P<hash>[0-9a-f]{{{HASH_LENGTH}}})(?P<ext>(?:\.[A-Za-z0-9]+)?)$"
)


@dataclass
class Asset:
    path: str
    mtime_ns: int
    size: int
    digest: str
    gzipped: bytes | None = None


_assets: dict[str, Asset] = {}
_lock = threading.Lock()


def asset(path: str) -> Asset | None:
    """The file at ``path`` with its content hash (recomputed when the file changes)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    found = _assets.get(path)
    if found and found.mtime_ns == stat.st_mtime_ns and found.size == stat.st_size:
        return found
    with open(path, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()[:HASH_LENGTH]
    found = Asset(path, stat.st_mtime_ns, stat.st_size, digest)
    with _lock:
        _assets[path] = found
    return found


def _gzipped(found: Asset) -> bytes:
    if found.gzipped is None:
        with open(found.path, "rb") as handle:
            found.gzipped = gzip.compress(handle.read(), compresslevel=9, mtime=0)
    return found.gzipped


def hashed_name(filename: str, folder: str) -> str:
    """``js/editor.js`` -> ``js/editor.<hash>.js`` (unchanged when there is no such file)."""
    path = safe_join(folder, filename)
    found = asset(path) if path and os.path.isfile(path) else None
    if found is None:
        return filename
    stem, ext = os.path.splitext(filename)
    return f"{stem}.{found.digest}{ext}"


def split_hashed(filename: str, folder: str) -> tuple[str, str | None]:
    """The real name and the hash a requested name carries (None for a plain name)."""
    path = safe_join(folder, filename)
    if path and os.path.isfile(path):
        return filename, None
    match = _HASHED.match(filename)
    if match is None:
        return filename, None
    return match.group("stem") + match.group("ext"), match.group("hash")


def accepts_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0


def serve(filename: str) -> Response:
    """The ``static`` endpoint: hashed names cached for a year, text gzipped on request."""
    folder = current_app.static_folder
    if folder is None:
        abort(404)
    name, requested_hash = split_hashed(filename, folder)
    path = safe_join(folder, name)
    found = asset(path) if path and os.path.isfile(path) else None
    if found is None:
        abort(404)
    mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if mimetype.startswith(COMPRESSIBLE) and accepts_gzip():
        response = send_file(
            BytesIO(_gzipped(found)),
            mimetype=mimetype,
            conditional=True,
            etag=f"{found.digest}-gz",
            last_modified=found.mtime_ns / 1e9,
        )
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = send_file(path, mimetype=mimetype, conditional=True, etag=found.digest)
    response.vary.add("Accept-Encoding")
    fresh = requested_hash is not None and requested_hash == found.digest
    response.headers["Cache-Control"] = IMMUTABLE if fresh else REVALIDATE
    return response


def _hash_static_urls(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint == "static" and "filename" in values and current_app.static_folder:
        values["filename"] = hashed_name(values["filename"], current_app.static_folder)


class _SessionsSkippingStatic(SecureCookieSessionInterface):
    """Static files never touch the session, but Flask-Login's after_request looks into it
    on every response, and saving an accessed session adds ``Vary: Cookie``: browsers
    would then fetch a cached file again whenever the session cookie changed."""

    def open_session(self, app, request):  # type: ignore[no-untyped-def]
        # Without a cookie there is nothing to verify: skip building the signer.
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response) -> None:  # type: ignore[no-untyped-def]
        if request.endpoint != "static":
            super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.view_functions["static"] = serve
    app.url_defaults(_hash_static_urls)
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = _SessionsSkippingStatic()
