"""Rendered HTML fragments kept per process, keyed by everything they depend on.

A question page's text (title, prompt, key points, answer, explanation: Markdown and
Pygments) is the same for every visitor of one question version in one language; only the
editor, the account links and the CSP nonce differ. :func:`cached` renders such a part once
and serves it from memory until its key changes (the question's version or ``updated_at``,
the language, the neighbours' titles...). Bounded: least recently used keys go first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import Flask, current_app
from markupsafe import Markup

MAX_FRAGMENTS = 1024
T = TypeVar("T")


class FragmentCache:
    def __init__(self, size: int = MAX_FRAGMENTS) -> None:
        self.size = size
        self.hits = self.misses = 0
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._computing: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The value kept for ``key``, else ``compute()``'s, kept. One thread computes a
        key at a time: the others asking for it meanwhile wait for its value (the pages
        watching a submission all ask for its result the moment the verdict is out)."""
        while True:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    self.hits += 1
                    return self._items[key]
                computing = self._computing.get(key)
                if computing is None:
                    self._computing[key] = threading.Event()
                    self.misses += 1
                    break
            computing.wait()  # then take its value (or compute it, if that failed)
        try:
            value = compute()
            with self._lock:
                self._items[key] = value
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
            return value
        finally:
            with self._lock:
                self._computing.pop(key).set()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0


def cached(key: Hashable, render: Callable[[], str]) -> Markup:
    """``render()``'s HTML for ``key``, from this application's cache."""
    return current_app.extensions["fragments"].get(key, lambda: Markup(render()))


def remembered(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``'s value for ``key`` (never changed in place), from the same cache."""
    return current_app.extensions["fragments"].get(key, compute)


def init_app(app: Flask) -> None:
    app.extensions["fragments"] = FragmentCache()
