"""Fixtures of the grading tests."""

from __future__ import annotations

import pytest

from app.grading import engine
from app.grading.warm import SPARE_POOL, SPARES


@pytest.fixture(params=["warm", "cold"])
def sandbox_start(request, monkeypatch):
    """Run the test's checks twice: each in a pre-warmed sandbox (every check waits for a
    spare of its limits, so none starts cold), and each in a sandbox started cold. Yields
    the mode; fails a warm test whose checks did not all run in a spare."""
    started: list[bool] = []  # per check: whether it ran in a spare
    start_program = engine._start_program

    def recording(spare, *args):
        sandbox = start_program(spare, *args)
        started.append(spare is not None and sandbox is spare)
        return sandbox

    monkeypatch.setattr(engine, "_start_program", recording)
    if request.param == "warm":
        take = SPARE_POOL.take

        def take_when_ready(limits):
            SPARE_POOL.prime(limits)
            return take(limits)

        monkeypatch.setattr(SPARE_POOL, "size", max(SPARES, 1))
        monkeypatch.setattr(SPARE_POOL, "take", take_when_ready)
    else:
        monkeypatch.setattr(SPARE_POOL, "size", 0)
    yield request.param
    if request.param == "warm":
        assert all(started), f"{started.count(False)} of {len(started)} checks started cold"
    else:
        assert not any(started)
