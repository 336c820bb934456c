"""Loopback: practise network-programming interview questions, graded on a private loopback.

The package itself imports nothing: ``app.grading`` (the engine) must stay importable
without Flask or SQLAlchemy, for the grading service. ``from app import create_app``
still works; the factory lives in :mod:`app.factory` and is loaded on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name in ("create_app", "select_locale"):
        from app import factory

        return getattr(factory, name)
    raise AttributeError(f"module 'app' has no attribute {name!r}")
