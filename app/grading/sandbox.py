"""Run one submitted program inside a bubblewrap sandbox.

Isolation, in the order a process meets it:

* it starts as the slot launcher's spare child (launcher.py, launcher_client.py), inside
  the slot's memory cgroup, which meters tmpfs, shared memory, memfds and socket buffers
  too, and which it cannot leave: at the end of the check everything in the group but the
  launcher's own is killed;
* it sets the resource limits (limits.py), drops every capability, becomes a *dedicated
  unprivileged uid* leased for this run only (uids.py) with fresh keyrings, and executes
  bwrap with an empty environment;
* ``bwrap`` builds the sandbox (bwrap.py) and loads the system-call filter (seccomp.py);
* the network namespace is the caller's: the check's private loopback (netns.py).

There is no fallback: when bubblewrap is missing or unusable, :class:`SandboxUnavailable`
is raised and the grade is ``error``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

from app.grading import bwrap
from app.grading.cgroups import RunCgroup, cgroup_problem
from app.grading.errors import SandboxUnavailable
from app.grading.launcher_client import Launcher, launcher_for
from app.grading.limits import Limits, limit_from, run_memory_limit
from app.grading.seccomp import filter_program
from app.grading.uids import UIDS, UidLease, kill_group, task_count

__all__ = ["Limits", "RunResult", "Sandbox", "SandboxUnavailable", "sandbox_problem"]


@dataclass
class RunResult:
    exit_code: int | None = None
    signal: int | None = None
    wall_ms: int = 0
    stdout: bytes = b""
    stderr: bytes = b""
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    limit: str | None = None  # which limit stopped or broke the program
    killed: bool = False  # stopped by the grader (end of check or a limit), not by itself
    exited_at: float | None = None  # monotonic time of exit
    cpu_ms: int | None = None  # CPU time of the run's processes, from its cgroup
    peak_memory_bytes: int | None = None  # how far the run's cgroup rose above its start

    @property
    def exited_by_itself(self) -> bool:
        return self.exit_code is not None and not self.killed

    def text(self, stream: str) -> str:
        return getattr(self, stream).decode("utf-8", "replace")


@lru_cache(maxsize=1)
def sandbox_problem() -> str | None:
    """Why submitted code cannot be sandboxed here, or None when it can (checked once)."""
    if os.geteuid() != 0:
        return "the grader must run as root to create network namespaces and drop to sandbox uids"
    if problem := cgroup_problem():
        return problem
    if not shutil.which("bwrap"):
        return "'bwrap' is not installed (apt-get install bubblewrap)"
    if not os.access(bwrap.SANDBOX_PYTHON, os.X_OK):
        return (
            f"the sandbox interpreter {bwrap.SANDBOX_PYTHON} is missing (apt-get install python3)"
        )
    try:
        filter_program()
        probe = Sandbox({"probe.py": "print('ok')\n"}, ["probe.py"], Limits(wall_ms=5000))
        probe.start()
        result = probe.finish(wait=True)
    except (OSError, SandboxUnavailable) as exc:
        return f"bubblewrap cannot start a sandbox: {exc}"
    if result.stdout.strip() != b"ok":
        return "bubblewrap cannot start a sandbox: " + result.text("stderr").strip()[-300:]
    return None


def _memfd(name: str, data: bytes) -> int:
    fd = os.memfd_create(name)
    try:
        os.write(fd, data)
        os.lseek(fd, 0, os.SEEK_SET)
    except OSError:
        os.close(fd)
        raise
    return fd


class _Run:
    """What a started run is to its Sandbox: the pid and our ends of its pipes."""

    def __init__(self, pid: int, stdin: int | None, stdout: int, stderr: int):
        self.pid = pid
        self.stdin = os.fdopen(stdin, "wb", buffering=0) if stdin is not None else None
        self.stdout = os.fdopen(stdout, "rb")
        self.stderr = os.fdopen(stderr, "rb")
        self.returncode: int | None = None


class Sandbox:
    """One sandboxed run: start it (inside the check's namespace), feed stdin, finish it."""

    def __init__(
        self, files: dict[str, str], argv: list[str], limits: Limits, keep_stdin_open: bool = False
    ):
        self.files, self.argv, self.limits = files, argv, limits
        self.keep_stdin_open = keep_stdin_open
        self.result = RunResult()
        self.process: _Run | None = None
        self._lease: UidLease | None = None
        self._cgroup: RunCgroup | None = None
        self._launcher: Launcher | None = None
        self._readers: list[threading.Thread] = []
        self._waiter: threading.Thread | None = None
        self._started = 0.0
        self._exited = threading.Event()
        self._lock = threading.Lock()
        self._pidfd: int | None = None

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Start the program now: a new sandbox whose files arrive as memfds."""
        memfds: list[int] = []
        try:
            for name, code in self.files.items():
                # A lone surrogate (possible from the CLI, not the web) stays in the file
                # as the invalid UTF-8 it is, for the interpreter to report.
                memfds.append(_memfd(name, code.encode("utf-8", "surrogatepass")))
        except OSError as exc:
            for fd in memfds:
                os.close(fd)
            raise SandboxUnavailable(f"cannot start the sandbox: {exc}") from exc
        command = bwrap.sandbox_command(list(self.files), self.argv, self.limits)
        self._spawn(command, memfds)

    def _spawn(self, command: list[str], passed: list[int], namespace: int | None = None) -> None:
        """Run ``command`` in the sandbox slot of a newly leased uid. It gets, in this order:
        the network namespace (``namespace``, else the calling thread's), stdin, stdout,
        stderr, then ``passed`` (3, 4, ... in the sandbox) and the system call filter.
        Takes ``passed``: they are closed here whatever happens."""
        head: list[int] = []  # the run's descriptors before ``passed``, and after them:
        tail: list[int] = []  # ours to close once it has them
        ours: list[int] = []  # our ends of its pipes, kept if it starts
        try:
            self._lease = UIDS.acquire()
            self._launcher = launcher_for(self._lease.uid)
            # The cgroup meters what RLIMIT_AS cannot: tmpfs, shared memory, memfds.
            self._cgroup = self._launcher.cgroup
            self._cgroup.set_memory_limit(run_memory_limit(self.limits))
            self._cgroup.begin_run()
            if namespace is None:
                head.append(os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC))
            else:
                head.append(os.dup(namespace))
            if self.keep_stdin_open:
                stdin_read, stdin_write = os.pipe()
                ours.append(stdin_write)
            else:
                stdin_read, stdin_write = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC), None
            head.append(stdin_read)
            for _ in ("stdout", "stderr"):
                read_end, write_end = os.pipe()
                ours.append(read_end)
                head.append(write_end)
            tail.append(_memfd("seccomp", filter_program()))
            pid = self._launcher.spawn(
                command, head + passed + tail, uid=self._lease.uid, limits=self._rlimits()
            )
        except (OSError, SandboxUnavailable) as exc:
            for fd in ours:
                os.close(fd)
            self._release()
            raise SandboxUnavailable(f"cannot start the sandbox: {exc}") from exc
        finally:
            for fd in head + passed + tail:
                os.close(fd)
        stdout_read, stderr_read = ours[-2:]
        self.process = _Run(pid, stdin_write, stdout_read, stderr_read)
        with contextlib.suppress(OSError):  # it may be over already: nothing to kill then
            self._pidfd = os.pidfd_open(pid)
        self._started = time.monotonic()
        for stream in ("stdout", "stderr"):
            reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
            reader.start()
            self._readers.append(reader)
        self._waiter = threading.Thread(target=self._wait, daemon=True)
        self._waiter.start()

    def _rlimits(self) -> dict[str, list[int]]:
        """What the run's process sets (as root) before it drops to the leased uid."""
        limits = self.limits
        return {
            "RLIMIT_NPROC": [limits.processes] * 2,
            "RLIMIT_AS": [limits.memory_bytes] * 2,
            # SIGXCPU at the soft limit names the limit; SIGKILL a second later if ignored.
            "RLIMIT_CPU": [limits.cpu_seconds, limits.cpu_seconds + 1],
            "RLIMIT_FSIZE": [limits.file_size_bytes] * 2,
            "RLIMIT_NOFILE": [limits.open_files] * 2,
            "RLIMIT_CORE": [0, 0],
        }

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def running(self) -> bool:
        return not self._exited.is_set()

    def wait(self, timeout: float | None) -> bool:
        """Wait until the program exits by itself; True if it did."""
        return self._exited.wait(timeout)

    def write_stdin(self, data: bytes) -> bool:
        if self.process is None or self.process.stdin is None:
            return False
        try:
            self.process.stdin.write(data)
            self.process.stdin.flush()
            return True
        except (BrokenPipeError, ValueError, OSError):
            return False

    def close_stdin(self) -> None:
        if self.process is not None and self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()

    def stop(self, reason: str | None = None) -> None:
        """Kill the whole sandbox now; ``reason`` names the limit that caused it, if any."""
        # A program stopped while it holds (nearly) all its tasks was a fork or thread
        # bomb: name the limit it really ran into.
        lease = self._lease
        if reason and lease and self.running() and self._near_task_limit(lease.uid):
            reason = "processes"
        with self._lock:
            if reason and self.result.limit is None:
                self.result.limit = reason
            if self.running():
                self.result.killed = True
        # The run's bwrap: its init, and with it the whole pid namespace, dies with it.
        with self._lock:
            if self._pidfd is not None and self.running():
                with contextlib.suppress(ProcessLookupError):
                    signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)

    def _near_task_limit(self, uid: int) -> bool:
        return task_count(uid) >= self.limits.processes - 1

    def finish(self, wait: bool = False) -> RunResult:
        """End the run: wait for exit within the wall limit (if ``wait``), then kill
        everything left in the run's cgroup until it stays empty, release the uid."""
        if self.process is None:
            return self.result
        if wait:
            remaining = self.limits.wall_ms / 1000 - (time.monotonic() - self._started)
            if not self.wait(max(remaining, 0)):
                self.stop("time")
        self.stop()
        self.close_stdin()
        self._exited.wait(10)
        for reader in self._readers:
            reader.join(5)
        self._release()
        result = self.result
        result.limit = result.limit or limit_from(result.signal, result.exit_code, result.stderr)
        return self.result

    # -- internals ---------------------------------------------------------------------
    def _release(self) -> None:
        if self._lease is None:
            return
        try:
            if self._cgroup is not None:
                launcher = self._launcher.own_pids() if self._launcher else set()
                if not kill_group(self._cgroup, launcher):
                    raise SandboxUnavailable(f"processes of sandbox uid {self._lease.uid} survive")
                if self._cgroup.memory_limit_hit() and self.result.limit in (None, "time"):
                    self.result.limit = "memory"
                self.result.cpu_ms, self.result.peak_memory_bytes = self._cgroup.usage()
                self._cgroup = None
        finally:
            with self._lock:
                if self._pidfd is not None:
                    os.close(self._pidfd)
                    self._pidfd = None
            UIDS.release(self._lease)
            self._lease = None

    def _read(self, stream: str) -> None:
        assert self.process is not None
        pipe = getattr(self.process, stream)
        kept = bytearray()
        total = 0
        while chunk := pipe.read1(65536):
            total += len(chunk)
            room = self.limits.output_bytes - len(kept)
            if room > 0:
                kept += chunk[:room]
            with self._lock:
                setattr(self.result, stream, bytes(kept))
                setattr(self.result, f"{stream}_bytes", total)
            if total > self.limits.output_bytes:
                self.stop("output")
                break
        pipe.close()

    def _wait(self) -> None:
        assert self.process is not None
        status = self._launcher.wait(self.process.pid)
        self.process.returncode = os.waitstatus_to_exitcode(status)
        now = time.monotonic()
        result = self.result
        result.exited_at = now
        result.wall_ms = int((now - self._started) * 1000)
        code = self.process.returncode
        # bwrap reports a killed child as exit code 128 + signal.
        if code < 0:
            result.signal = -code
        elif code > 128 and code - 128 in (
            signal.SIGKILL,
            signal.SIGXCPU,
            signal.SIGSEGV,
            signal.SIGABRT,
            signal.SIGXFSZ,
        ):
            result.signal = code - 128
        else:
            result.exit_code = code
        self._exited.set()
