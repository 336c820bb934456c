"""The per-process fragment cache (app/fragments.py): one thread computes a key at a time,
the others take its value; a failed computation lets the next one try."""

from __future__ import annotations

import threading
import time

import pytest

from app.fragments import FragmentCache


def test_threads_asking_together_compute_a_key_once():
    cache, calls = FragmentCache(), []

    def slow() -> str:
        calls.append(1)
        time.sleep(0.2)
        return "rendered"

    values: list[str] = []

    def ask() -> None:
        values.append(cache.get("k", slow))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert values == ["rendered"] * 8
    assert len(calls) == 1 and (cache.hits, cache.misses) == (7, 1)


def test_other_keys_do_not_wait_for_a_slow_one():
    cache, started = FragmentCache(), threading.Event()

    def slow() -> str:
        started.set()
        time.sleep(1)
        return "slow"

    threading.Thread(target=cache.get, args=("slow", slow), daemon=True).start()
    started.wait(5)
    began = time.monotonic()
    assert cache.get("fast", lambda: "fast") == "fast"
    assert time.monotonic() - began < 0.5


def test_a_failed_computation_lets_the_next_caller_compute():
    cache = FragmentCache()

    def failing() -> str:
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        cache.get("k", failing)
    assert cache.get("k", lambda: "second try") == "second try"
