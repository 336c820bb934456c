"""A cgroup per sandboxed run: a memory limit that also counts tmpfs, shared memory,
memfd pages (which RLIMIT_AS does not) and socket buffers, and an OOM count to name the
limit; it also lists every process of the run for the final kill.

cgroup v2 (unified: memory and pids limits in one group) and cgroup v1 (the ``memory``
hierarchy; the process count is left to RLIMIT_NPROC on the run's own uid) are supported:
joining a cgroup waits for an RCU grace period (10-15 ms), so runs never join one: a
launcher process per sandbox slot joins its slot's group once and forks every run inside
it (launcher.py). Without cgroups, sandboxing is refused rather than weakened.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
from collections.abc import Iterable
from pathlib import Path

from app.grading.limits import SOCKET_MEMORY_BYTES

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


def _v1_cpu_root() -> Path | None:
    cpuacct = ROOT / "cpuacct"
    return cpuacct if (cpuacct / "cpuacct.usage").exists() else None


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


def remove_stale_groups() -> None:
    """Remove the empty groups of grader processes that are gone (names end in their pid)."""
    parents = [root / GROUP for root in (_v2_root() or _v1_root(), _v1_cpu_root()) if root]
    for group in (g for parent in parents if parent.is_dir() for g in parent.iterdir()):
        if not group.is_dir():
            continue
        owner = (
            group.name.rsplit("-", 1)[-1]
            if group.name.startswith("slot-")
            else (group.name.split("-")[1] if group.name.startswith("run-") else "")
        )
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            with contextlib.suppress(OSError):
                group.rmdir()


class RunCgroup:
    def __init__(
        self,
        memory_bytes: int,
        pids: int,
        name: str | None = None,
        socket_bytes: int = SOCKET_MEMORY_BYTES,
    ):
        name = name or f"run-{os.getpid()}-{next(_counter)}"
        self.dirs: list[Path] = []
        self.memory_dir: Path
        self.cpu_dir: Path | None = None
        self.memory_limit: int | None = memory_bytes
        self._peak_fd: int | None = None
        self._peak_supported = True
        self._baseline = 0  # memory pressure, CPU time and memory use when the run began
        self._cpu_base: int | None = None
        self._memory_base: int | None = None
        v2 = _v2_root()
        if v2 is not None:
            parent = v2 / GROUP
            parent.mkdir(exist_ok=True)
            with contextlib.suppress(OSError):
                (v2 / "cgroup.subtree_control").write_text("+memory +pids")
            with contextlib.suppress(OSError):
                (parent / "cgroup.subtree_control").write_text("+memory +pids")
            group = parent / name
            group.mkdir(exist_ok=True)
            self.dirs = [group]
            self.memory_dir = self.cpu_dir = group
            (group / "memory.max").write_text(str(memory_bytes))
            with contextlib.suppress(OSError):
                (group / "memory.swap.max").write_text("0")
            (group / "pids.max").write_text(str(pids))
            self.version = 2
            return
        memory_root = _v1_root()
        assert memory_root is not None
        memory = memory_root / GROUP / name
        memory.mkdir(parents=True, exist_ok=True)
        self.dirs = [memory]
        self.memory_dir = memory
        (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
        with contextlib.suppress(OSError):  # no swap to escape into
            (memory / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
        # v1 charges socket buffers to no one until this is set (and then to this group
        # from the next socket on): without it a run pins kernel memory past its limit.
        (memory / "memory.kmem.tcp.limit_in_bytes").write_text(str(socket_bytes))
        self.version = 1
        if (cpu_root := _v1_cpu_root()) is not None:  # CPU time is only reported: optional
            with contextlib.suppress(OSError):
                cpu = cpu_root / GROUP / name
                cpu.mkdir(parents=True, exist_ok=True)
                self.dirs.append(cpu)
                self.cpu_dir = cpu

    def set_memory_limit(self, memory_bytes: int) -> None:
        if memory_bytes == self.memory_limit:
            return
        self.memory_limit = None  # unknown until a write succeeds
        if self.version == 2:
            (self.memory_dir / "memory.max").write_text(str(memory_bytes))
            self.memory_limit = memory_bytes
            return
        limit = self.memory_dir / "memory.limit_in_bytes"
        swap = self.memory_dir / "memory.memsw.limit_in_bytes"
        # memsw may never be below the limit: the order depends on the direction.
        for first, second in ((limit, swap), (swap, limit)):
            try:
                first.write_text(str(memory_bytes))
                with contextlib.suppress(FileNotFoundError):
                    second.write_text(str(memory_bytes))
                self.memory_limit = memory_bytes
                return
            except OSError:
                continue
        raise OSError(f"cannot set the memory limit of {self.memory_dir}")

    @property
    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    def pids(self, exclude: Iterable[int] = ()) -> set[int]:
        with contextlib.suppress(FileNotFoundError):
            found = {int(line) for line in (self.memory_dir / "cgroup.procs").read_text().split()}
            return found.difference(exclude)
        return set()

    def contains(self, pid: int) -> bool:
        """Whether process ``pid`` is in this group now, as its /proc/PID/cgroup says."""
        suffix = f"/{GROUP}/{self.memory_dir.name}"
        try:
            with open(f"/proc/{pid}/cgroup") as handle:
                lines = handle.read().splitlines()
        except (FileNotFoundError, ProcessLookupError):
            return False
        for line in lines:
            _, controllers, path = line.split(":", 2)
            ours = controllers == "" if self.version == 2 else "memory" in controllers.split(",")
            if ours:
                return path.endswith(suffix)
        return False

    def _pressure(self) -> int:
        """OOM kills plus times the limit was hit, so far (the counters only grow)."""
        try:
            if self.version == 2:
                events = (self.memory_dir / "memory.events").read_text().split()
                counts = dict(zip(events[::2], events[1::2], strict=False))
                return int(counts.get("oom_kill", 0)) + int(counts.get("max", 0))
            control = (self.memory_dir / "memory.oom_control").read_text().split()
            counts = dict(zip(control[::2], control[1::2], strict=False))
            failures = int((self.memory_dir / "memory.failcnt").read_text())
            return int(counts.get("oom_kill", 0)) + failures
        except (OSError, ValueError):
            return 0

    def begin_run(self) -> None:
        """A long-lived group serves run after run: count memory pressure, CPU time and
        the memory peak from now on."""
        self._baseline = self._pressure()
        if self.version == 1:  # the socket cap keeps no failure count: watch its peak
            (self.memory_dir / "memory.kmem.tcp.max_usage_in_bytes").write_text("0")
        self._cpu_base = self._cpu_ns()
        self._memory_base = self._reset_peak()

    def _cpu_ns(self) -> int | None:
        try:
            if self.version == 2:
                stat = (self.memory_dir / "cpu.stat").read_text().split()
                return int(dict(zip(stat[::2], stat[1::2], strict=False))["usage_usec"]) * 1000
            return int((self.cpu_dir / "cpuacct.usage").read_text()) if self.cpu_dir else None
        except (OSError, KeyError, ValueError):
            return None

    def _reset_peak(self) -> int | None:
        """Restart the group's memory high-water mark; the usage it starts from."""
        try:
            if self.version == 1:
                (self.memory_dir / "memory.max_usage_in_bytes").write_text("0")
                return int((self.memory_dir / "memory.usage_in_bytes").read_text())
            if not self._peak_supported:
                return None
            if self._peak_fd is None:  # v2: a reset holds for the descriptor (Linux 6.12+)
                self._peak_fd = os.open(self.memory_dir / "memory.peak", os.O_RDWR)
            os.write(self._peak_fd, b"reset")
            return int((self.memory_dir / "memory.current").read_text())
        except (OSError, ValueError):
            self.close()  # no reset before Linux 6.12: no peak to report
            self._peak_supported = self.version == 1
            return None

    def _peak(self) -> int | None:
        try:
            if self.version == 1:
                return int((self.memory_dir / "memory.max_usage_in_bytes").read_text())
            return int(os.pread(self._peak_fd, 64, 0)) if self._peak_fd is not None else None
        except (OSError, ValueError):
            return None

    def usage(self) -> tuple[int | None, int | None]:
        """CPU milliseconds and peak memory bytes of this run so far, as far as the
        kernel can tell (None where it cannot): the group's, less what the launcher
        held before the run started."""
        cpu, peak = self._cpu_ns(), self._peak()
        cpu_ms = None
        if cpu is not None and self._cpu_base is not None:
            cpu_ms = (cpu - self._cpu_base) // 1_000_000
        peak_bytes = None
        if peak is not None and self._memory_base is not None:
            peak_bytes = max(peak - self._memory_base, 0)
        return cpu_ms, peak_bytes

    def memory_limit_hit(self) -> bool:
        """Whether the run ran into its memory limit: an OOM kill, a failed charge, or (v1)
        its socket buffers nearing their cap (v2 charges them to the memory limit). The
        kernel keeps no failure count for that cap, and it throttles sockets as they near
        it, so the peak may stop just short: three quarters of the cap count (no check's
        exchange needs a tenth of it)."""
        if self._pressure() > self._baseline:
            return True
        if self.version == 2:
            return False
        try:
            peak = int((self.memory_dir / "memory.kmem.tcp.max_usage_in_bytes").read_text())
            cap = int((self.memory_dir / "memory.kmem.tcp.limit_in_bytes").read_text())
        except (OSError, ValueError):
            return False
        return peak >= cap * 3 // 4

    def close(self) -> None:
        if self._peak_fd is not None:
            os.close(self._peak_fd)
            self._peak_fd = None

    def destroy(self, timeout: float = 5.0) -> None:
        """Remove the groups once their processes are gone (the caller killed them)."""
        self.close()
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
