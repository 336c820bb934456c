"""A grading worker prepares its first pre-warmed sandbox as it starts (warm.py), so the
first check it grades does not start cold: the grading service of `make run`, and a
`flask worker` of the scaled mode."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from redis import Redis

from app.grading.bwrap import WARM_STUB
from tests.helpers import REDIS_URL, reachable, require
from tests.jobs.conftest import Deployment, wait_for


def waiting_spares(ancestor: int) -> list[int]:
    """Processes below ``ancestor`` that are a spare's interpreter waiting for its run."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found = []
    for pid in parents:
        chain, current = set(), pid
        while current in parents and current not in chain and current != ancestor:
            chain.add(current)
            current = parents[current]
        if current == ancestor and pid != ancestor:
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if WARM_STUB.encode() in argv:
                found.append(pid)
    return found


def test_the_grading_service_prepares_a_spare_as_it_starts(deployment, sandbox):
    service = deployment.service()
    spares = wait_for(lambda: waiting_spares(service.pid), 15, "a spare of the service")
    assert all(os.stat(f"/proc/{pid}").st_uid != 0 for pid in spares)  # a sandbox uid's


@pytest.mark.redis
def test_a_flask_worker_prepares_a_spare_as_it_starts(migrated_database, tmp_path, sandbox):
    require(reachable(REDIS_URL), "Redis is not reachable at 127.0.0.1:6379")
    database = tmp_path / "loopback.sqlite3"
    shutil.copy(migrated_database, database)
    name = f"test-{uuid.uuid4().hex[:10]}"
    deployment = Deployment(tmp_path, database, REDIS_URL=REDIS_URL, GRADING_QUEUE=name)
    try:
        worker = deployment.spawn("worker")
        wait_for(lambda: waiting_spares(worker.pid), 15, "a spare of the flask worker")
    finally:
        deployment.close()
        redis = Redis.from_url(REDIS_URL)
        for key in redis.scan_iter(f"*{name}*"):
            redis.delete(key)
