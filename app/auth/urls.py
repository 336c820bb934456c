"""Redirect targets taken from the request (``?next=``) must stay on this site."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next_url(target: str | None, fallback: str = "/") -> str:
    """``target`` if it is a same-site relative path (``/questions/x?y``), else ``fallback``.

    Rejected: absolute URLs, scheme-relative ``//host``, backslash tricks (``/\\host``,
    which browsers treat like ``//host``), and anything with control characters.
    """
    if not target:
        return fallback
    if any(ord(char) < 0x20 or char in "\\\x7f" for char in target):
        return fallback
    if not target.startswith("/") or target.startswith("//"):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target
