"""The per-slot launcher: runs start in a spare forked ahead of time, the final sweep of a
run leaves the launcher's own processes alone, and nothing outlives the grader."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.grading import uids
from app.grading.launcher_client import launcher_for
from app.grading.limits import Limits
from app.grading.netns import private_loopback
from app.grading.sandbox import Sandbox
from app.grading.uids import UIDS
from tests.helpers import live_sandbox_processes

pytestmark = pytest.mark.sandbox
ROOT = Path(__file__).resolve().parents[2]


def run_once(code: str = "print('ran')\n") -> tuple[int, bytes]:
    sandbox = Sandbox({"main.py": code}, ["main.py"], Limits(wall_ms=5000))
    sandbox.start()
    pid = sandbox.pid
    result = sandbox.finish(wait=True)
    return pid, result.stdout


def current_launcher():
    lease = UIDS.acquire()
    try:
        return launcher_for(lease.uid)
    finally:
        UIDS.release(lease)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_a_run_starts_in_the_spare_and_the_next_spare_survives_the_sweep(sandbox):
    run_once()
    launcher = current_launcher()
    spare = launcher.spare
    pid, stdout = run_once()
    assert stdout == b"ran\n"
    assert pid == spare  # the run became the spare that was waiting for it
    deadline = time.monotonic() + 2
    while launcher.spare == spare and time.monotonic() < deadline:
        time.sleep(0.01)
    assert launcher.spare != spare and alive(launcher.spare)


def test_runs_go_on_when_the_spare_is_killed_from_outside(sandbox):
    run_once()
    launcher = current_launcher()
    os.kill(launcher.spare, signal.SIGKILL)
    time.sleep(0.05)
    _, stdout = run_once()
    assert stdout == b"ran\n"
    assert launcher.alive()


GRADER = """
import sys
sys.path.insert(0, sys.argv[1])
from app.grading.limits import Limits
from app.grading.sandbox import Sandbox
from tests.helpers import live_sandbox_processes
sandbox = Sandbox({"main.py": "print('ok')"}, ["main.py"], Limits(wall_ms=5000))
sandbox.start()
launcher = sandbox._launcher
sandbox.finish(wait=True)
print(launcher.process.pid, launcher.spare, flush=True)
print(*launcher.cgroup.dirs, flush=True)
"""


def test_the_launcher_its_spare_and_its_cgroup_end_with_their_grader(sandbox):
    grader = subprocess.run(
        [sys.executable, "-c", GRADER, str(ROOT)], capture_output=True, text=True, timeout=60
    )
    assert grader.returncode == 0, grader.stderr
    first, groups = grader.stdout.splitlines()
    pids = [int(word) for word in first.split()]
    assert len(pids) == 2
    assert groups and not any(os.path.exists(group) for group in groups.split())  # removed
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in pids)


def test_a_run_dies_with_its_launcher_and_the_slot_gets_a_new_one(sandbox):
    sandbox_run = Sandbox(
        {"main.py": "import time\nprint('up', flush=True)\ntime.sleep(60)\n"},
        ["main.py"],
        Limits(wall_ms=30_000),
    )
    sandbox_run.start()
    launcher = sandbox_run._launcher
    deadline = time.monotonic() + 5
    while b"up" not in sandbox_run.result.stdout and time.monotonic() < deadline:
        time.sleep(0.01)
    launcher.process.kill()
    started = time.monotonic()
    result = sandbox_run.finish(wait=True)
    assert time.monotonic() - started < 5  # not the 30 s wall limit: the run died too
    assert result.signal == signal.SIGKILL
    assert live_sandbox_processes() == []
    _, stdout = run_once()
    assert stdout == b"ran\n"
    assert current_launcher() is not launcher


def test_the_sweep_kills_only_what_is_still_in_the_group(sandbox):
    bystander = subprocess.Popen(["sleep", "30"])
    try:
        cgroup = current_launcher().cgroup
        assert not cgroup.contains(bystander.pid)
        uids.kill_if(bystander.pid, cgroup.contains)  # a pid reused by the host
        assert bystander.poll() is None
        uids.kill_if(bystander.pid, lambda pid: True)
        assert bystander.wait(5) == -signal.SIGKILL
    finally:
        bystander.kill()
        bystander.wait()


def test_a_launcher_started_during_a_check_does_not_keep_its_namespace(sandbox):
    lease = UIDS.acquire()
    try:
        launcher_for(lease.uid).close()
        with private_loopback():
            launcher = launcher_for(lease.uid)
            check = os.stat("/proc/thread-self/ns/net").st_ino
        home = os.stat("/proc/thread-self/ns/net").st_ino
        assert os.stat(f"/proc/{launcher.process.pid}/ns/net").st_ino == home != check
    finally:
        UIDS.release(lease)
    _, stdout = run_once()
    assert stdout == b"ran\n"
