"""Unprivileged uids leased one per run, and killing what runs under them.

A uid of its own makes a run's process count real (root is exempt from RLIMIT_NPROC) and
tells its processes apart from everything else on the host.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.grading.cgroups import RunCgroup
from app.grading.errors import SandboxUnavailable

UID_BASE = int(os.environ.get("LOOPBACK_SANDBOX_UID_BASE", "61000"))
UID_COUNT = int(os.environ.get("LOOPBACK_SANDBOX_UID_COUNT", "64"))
LOCK_DIR = Path(os.environ.get("LOOPBACK_SANDBOX_LOCKS", "/run/loopback-sandbox"))


@dataclass
class UidLease:
    uid: int
    handle: int


class UidPool:
    """Unprivileged uids leased one per run, exclusive across processes (flock)."""

    def __init__(self, base: int = UID_BASE, count: int = UID_COUNT, lock_dir: Path = LOCK_DIR):
        self.base, self.count, self.lock_dir = base, count, lock_dir
        self._mutex = threading.Lock()
        self._checked: set[int] = set()

    def acquire(self, timeout: float = 30.0) -> UidLease:
        self.lock_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        while True:
            with self._mutex:
                # Lowest free first: each uid in use has a launcher process (launcher.py),
                # so a process keeps as few as it runs gradings at once.
                for uid in range(self.base, self.base + self.count):
                    path = self.lock_dir / f"uid-{uid}.lock"
                    handle = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                    try:
                        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        os.close(handle)
                        continue
                    # The first lease of a uid in this process: clean up after a grader
                    # that crashed (our own runs are swept by their cgroup at release).
                    if uid not in self._checked and processes_of(uid):
                        kill_uid(uid)
                    self._checked.add(uid)
                    return UidLease(uid, handle)
            if time.monotonic() > deadline:
                raise SandboxUnavailable("no free sandbox uid: too many gradings at once")
            time.sleep(0.05)

    @staticmethod
    def release(lease: UidLease) -> None:
        os.close(lease.handle)

    def uids(self) -> range:
        return range(self.base, self.base + self.count)


UIDS = UidPool()


def runs_as(pid: int, uid: int) -> bool:
    """Whether ``pid`` is a live process whose real uid is ``uid``. Reads /proc/PID/status:
    a non-dumpable process's /proc entry is owned by root, so its owner says nothing.
    Zombies are dead already (the host's init reaps them)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            status = handle.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return (
        f"\nUid:\t{uid}\t".encode() in status
        and b"\nState:\tZ" not in status
        and b"\nState:\tX" not in status
    )


def processes_of(uid: int) -> list[int]:
    """Live processes whose real uid is ``uid`` (slow: reads every process on the host)."""
    return [
        int(entry.name)
        for entry in os.scandir("/proc")
        if entry.name.isdigit() and runs_as(int(entry.name), uid)
    ]


def kill_if(pid: int, still_ours: Callable[[int], bool]) -> None:
    """SIGKILL ``pid`` if it is still the process we mean. A pid read from a list may have
    been reused by the time we act (a fork bomb cycles through pids fast): a pidfd pins
    one process, and it is checked after the pidfd is taken."""
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:  # gone already
        return
    try:
        if still_ours(pid):
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    except ProcessLookupError:
        pass
    finally:
        os.close(pidfd)


def task_count(uid: int) -> int:
    """Processes and threads of ``uid`` (what RLIMIT_NPROC counts)."""
    count = 0
    for pid in processes_of(uid):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            count += len(os.listdir(f"/proc/{pid}/task"))
    return count


def kill_uid(uid: int, timeout: float = 5.0) -> bool:
    """SIGKILL every process running under ``uid`` until none is left (slow: it reads the
    status of every process on the host, so only for what a crashed grader left)."""
    deadline = time.monotonic() + timeout
    while pids := processes_of(uid):
        for pid in pids:
            kill_if(pid, lambda pid: runs_as(pid, uid))
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


def kill_group(cgroup: RunCgroup, launcher: set[int], timeout: float = 5.0) -> bool:
    """SIGKILL every process of the run's cgroup but the launcher's until the group reads
    empty twice in a row: a task forked while the list was being read shows up on the next
    read. The group is the authority: a run's processes are born in it and cannot leave
    it (the cgroup files are root's and not even mounted in the sandbox)."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2:
        pids = cgroup.pids(exclude=launcher)
        quiet = 0 if pids else quiet + 1
        for pid in pids:
            kill_if(pid, cgroup.contains)
        if time.monotonic() > deadline:
            return False
        if pids:
            time.sleep(0.001)
    return True
