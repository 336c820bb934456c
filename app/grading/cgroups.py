"""A cgroup per sandboxed run: a memory limit that also counts tmpfs, shared memory and
memfd pages (which RLIMIT_AS does not), and an OOM count to name the limit; it also lists
every process of the run for the final kill.

cgroup v2 (unified: memory and pids limits in one group) and cgroup v1 (the ``memory``
hierarchy; the process count is left to RLIMIT_NPROC on the run's own uid) are supported:
joining a cgroup waits for an RCU grace period (10-15 ms) per hierarchy, so v1 joins one.
Without either, sandboxing is refused rather than weakened.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
from pathlib import Path

ROOT = Path(os.environ.get("LOOPBACK_CGROUP_ROOT", "/sys/fs/cgroup"))
GROUP = "loopback"
_counter = itertools.count()


def _v2_root() -> Path | None:
    controllers = ROOT / "cgroup.controllers"
    if controllers.exists() and {"memory", "pids"} <= set(controllers.read_text().split()):
        return ROOT
    return None


def _v1_root() -> Path | None:
    memory = ROOT / "memory"
    return memory if (memory / "memory.limit_in_bytes").exists() else None


def cgroup_problem() -> str | None:
    """Why per-run cgroups cannot be made here, or None."""
    if _v2_root() is None and _v1_root() is None:
        return f"no cgroup memory controller under {ROOT}"
    try:
        probe = RunCgroup(64 * 1024 * 1024, 8)
        probe.destroy()
    except OSError as exc:
        return f"cannot create cgroups under {ROOT}: {exc}"
    return None


class RunCgroup:
    def __init__(self, memory_bytes: int, pids: int):
        name = f"run-{os.getpid()}-{next(_counter)}"
        self.dirs: list[Path] = []
        self.memory_dir: Path
        v2 = _v2_root()
        if v2 is not None:
            parent = v2 / GROUP
            parent.mkdir(exist_ok=True)
            with contextlib.suppress(OSError):
                (v2 / "cgroup.subtree_control").write_text("+memory +pids")
            with contextlib.suppress(OSError):
                (parent / "cgroup.subtree_control").write_text("+memory +pids")
            group = parent / name
            group.mkdir()
            self.dirs = [group]
            self.memory_dir = group
            (group / "memory.max").write_text(str(memory_bytes))
            with contextlib.suppress(OSError):
                (group / "memory.swap.max").write_text("0")
            (group / "pids.max").write_text(str(pids))
            self.version = 2
            return
        memory_root = _v1_root()
        assert memory_root is not None
        memory = memory_root / GROUP / name
        memory.mkdir(parents=True)
        self.dirs = [memory]
        self.memory_dir = memory
        (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
        with contextlib.suppress(OSError):  # no swap to escape into
            (memory / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
        self.version = 1

    @property
    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for path in self.procs_files:
            with contextlib.suppress(FileNotFoundError):
                found.update(int(line) for line in Path(path).read_text().split())
        return found

    def oom_killed(self) -> bool:
        try:
            if self.version == 2:
                events = (self.memory_dir / "memory.events").read_text().split()
                counts = dict(zip(events[::2], events[1::2], strict=False))
                return int(counts.get("oom_kill", 0)) > 0 or int(counts.get("max", 0)) > 0
            control = (self.memory_dir / "memory.oom_control").read_text().split()
            counts = dict(zip(control[::2], control[1::2], strict=False))
            failures = int((self.memory_dir / "memory.failcnt").read_text())
            return int(counts.get("oom_kill", 0)) > 0 or failures > 0
        except (OSError, ValueError):
            return False

    def destroy(self, timeout: float = 5.0) -> None:
        """Remove the groups once their processes are gone (the caller killed them)."""
        deadline = time.monotonic() + timeout
        for directory in self.dirs:
            while True:
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.005)
