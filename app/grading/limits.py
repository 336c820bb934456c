"""What a sandboxed run may use, and how the limit it ran into is named."""

from __future__ import annotations

import signal
from dataclasses import dataclass

from app.grading.messages import Message, msg, seconds

MiB = 1024 * 1024
SHM_BYTES = 1 * MiB
CGROUP_HEADROOM = 32 * MiB  # bwrap, the launcher and the kernel's own bookkeeping
# Kernel memory of the run's TCP sockets (their send and receive queues). cgroup v1 does
# not charge it unless capped (memory.kmem.tcp); v2 charges it to the memory limit.
SOCKET_MEMORY_BYTES = 32 * MiB


@dataclass(frozen=True)
class Limits:
    wall_ms: int = 10_000
    cpu_seconds: int = 5
    memory_bytes: int = 512 * MiB
    processes: int = 32
    file_size_bytes: int = 8 * MiB
    disk_bytes: int = 16 * MiB
    open_files: int = 128
    output_bytes: int = 1 * MiB

    def with_overrides(self, overrides: dict | None) -> Limits:
        if not overrides:
            return self
        known = {k: int(v) for k, v in overrides.items() if k in self.__dataclass_fields__}
        return Limits(**{**self.__dict__, **known})


LIMIT_NAMES = {
    "time": "wall-clock time",
    "cpu": "CPU time",
    "memory": "memory",
    "processes": "processes/threads",
    "output": "output size",
    "disk": "disk space",
    "open_files": "open files",
}


def run_memory_limit(limits: Limits) -> int:
    """The cgroup's limit: the program's memory, its tmpfs folders and some headroom."""
    return limits.memory_bytes + 2 * limits.disk_bytes + SHM_BYTES + CGROUP_HEADROOM


STDERR_MARKERS = (
    (b"MemoryError", "memory"),
    (b"Cannot allocate memory", "memory"),
    (b"can't start new thread", "processes"),
    (b"Resource temporarily unavailable", "processes"),
    (b"No space left on device", "disk"),
    (b"File too large", "disk"),
    (b"Too many open files", "open_files"),
)


def limit_from(signal_number: int | None, exit_code: int | None, stderr: bytes) -> str | None:
    """Name the limit a program ran into, from how it ended and its last words: only for a
    program that failed (a handled error logged on the way is no limit)."""
    if signal_number == signal.SIGXCPU:
        return "cpu"
    if exit_code == 0:
        return None
    last_words = b"\n".join(stderr.strip().splitlines()[-3:])
    for marker, name in STDERR_MARKERS:
        if marker in last_words:
            return name
    return None


def describe_limit(name: str, limits: Limits, wall_ms: int | None = None) -> Message:
    """``wall-clock time limit (9 s)``, as a message."""
    params = {
        "time": {"seconds": seconds(wall_ms or limits.wall_ms)},
        "cpu": {"seconds": limits.cpu_seconds},
        "memory": {"mib": limits.memory_bytes // MiB},
        "processes": {"count": limits.processes},
        "output": {"kib": limits.output_bytes // 1024},
        "disk": {"mib": limits.disk_bytes // MiB},
        "open_files": {"count": limits.open_files},
    }[name]
    return msg(f"limit.{name}", **params)
