"""Pre-warmed sandboxes: everything of a check's sandbox that does not depend on the
submission, made ahead of the check, used once and thrown away.

A spare is a fresh private loopback namespace (netns.new_loopback) and, inside it, a
sandbox started exactly as a cold one (its own leased uid, the slot's cgroup, the
resource limits, no capabilities, bwrap's namespaces and mounts, the system call filter),
whose interpreter has started and imported what socket programs import, and now waits for
its program (warm_stub.py). A check takes a spare whose limits match its own, enters its
namespace, starts the reference peer and hands the program over; the spare is then an
ordinary run: finished, killed and released with the check. Nothing a spare held before its
check came from a submission, and nothing of a check reaches another spare.

Taking a spare starts preparing the next one in the background, so a grading's checks
find theirs ready; a grading worker prepares its first as it starts (SparePool.warm_up).
A check that finds none, or whose spare has died, starts cold: never with less
isolation. ``LOOPBACK_WARM_SPARES`` (default 2: one per grading thread) caps the spares
a process keeps; 0 turns pre-warming off.
"""

from __future__ import annotations

import logging
import marshal
import os
import re
import socket
import sys
import threading
import time
from dataclasses import replace

from app.grading import bwrap
from app.grading.errors import SandboxUnavailable
from app.grading.limits import Limits
from app.grading.netns import new_loopback
from app.grading.sandbox import RunResult, Sandbox

log = logging.getLogger(__name__)
SPARES = int(os.environ.get("LOOPBACK_WARM_SPARES", "2"))
READY_TIMEOUT_S = 10.0
# The handover takes ~0.5 ms; a spare that does not answer in time is thrown away and the
# check starts cold (within the check's grace: its deadline is set after the start).
HANDOVER_TIMEOUT_S = 0.5


# A coding declaration (PEP 263) in one of a file's first two lines.
CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)
UTF8_NAMES = {b"utf-8", b"utf8", b"utf_8"}


def runs_alike(files: dict[str, str]) -> bool:
    """Whether the stub runs these files exactly as ``python3 file.py`` would. It compiles
    bytes, where the interpreter reads a file: the two differ on null bytes and on
    declared encodings other than UTF-8. And a file named like a module the stub has
    loaded (``socket.py``, ``enum.py``) would shadow it in a cold start only."""
    for name, code in files.items():
        try:
            data = code.encode()
        except UnicodeEncodeError:  # lone surrogates
            return False
        head = b"\n".join(data.removeprefix(b"\xef\xbb\xbf").split(b"\n", 2)[:2])
        declared = CODING.search(head)
        if b"\0" in data or (declared and declared.group(1).lower() not in UTF8_NAMES):
            return False
        if name.removesuffix(".py") in sys.stdlib_module_names:
            return False
    return True


def spawn_key(limits: Limits) -> Limits:
    """What a spare's start depends on: every limit but the wall clock and the output,
    which only the grader enforces."""
    return replace(limits, wall_ms=0, output_bytes=0)


class WarmSandbox(Sandbox):
    """A sandbox started before its program is known; :meth:`go` hands the program over."""

    def __init__(self, limits: Limits):
        super().__init__({}, [], limits, keep_stdin_open=True)
        self.key = spawn_key(limits)
        self.namespace: int | None = None
        self._control: socket.socket | None = None

    def prepare(self) -> None:
        """Make the namespace and start the waiting interpreter in it (in the background:
        this takes as long as a cold start)."""
        self.namespace = new_loopback()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._control = ours
        self._spawn(bwrap.warm_command(self.limits), [theirs.detach()], self.namespace)
        ours.settimeout(READY_TIMEOUT_S)
        try:
            ready = ours.recv(1) == b"R"
        except OSError:
            ready = False
        if not ready:
            raise SandboxUnavailable("the pre-warmed sandbox did not start: " + self._stderr())

    def _stderr(self) -> str:
        self.finish()
        return self.result.text("stderr").strip()[-300:]

    def go(self, files: dict[str, str], argv: list[str], limits: Limits, stdin: bool) -> None:
        """Run ``argv`` with ``files`` now, under ``limits`` (same spawn_key as this
        spare's). Raises SandboxUnavailable if the spare cannot take it (it died)."""
        assert self._control is not None and spawn_key(limits) == self.key
        if not runs_alike(files):
            raise SandboxUnavailable("these files run only in a sandbox started cold")
        self.files, self.argv, self.limits = files, argv, limits
        if not self.running():
            raise SandboxUnavailable("the pre-warmed sandbox ended before its run")
        self._cgroup.begin_run()
        self.result = RunResult()
        contents = [(name, code.encode()) for name, code in files.items()]
        payload = marshal.dumps((contents, argv, stdin))
        self._started = time.monotonic()
        try:
            self._control.settimeout(HANDOVER_TIMEOUT_S)
            self._control.sendall(payload)
            self._control.shutdown(socket.SHUT_WR)
            taken = self._control.recv(1) == b"!"
        except OSError:
            taken = False
        self._control.close()
        self._control = None
        if not taken:
            raise SandboxUnavailable("the pre-warmed sandbox did not take its run")
        if not stdin:
            self.close_stdin()

    def finish(self, wait: bool = False) -> RunResult:
        try:
            return super().finish(wait)
        finally:
            self._close_handles()

    def _close_handles(self) -> None:
        if self._control is not None:
            self._control.close()  # a spare never used reads end-of-file and exits
            self._control = None
        if self.namespace is not None:
            os.close(self.namespace)
            self.namespace = None


class SparePool:
    """Up to ``size`` spares of this process, for whatever limits checks asked for last."""

    def __init__(self, size: int = SPARES):
        self.size = size
        self._ready: list[WarmSandbox] = []
        self._preparing = 0
        self._lock = threading.Lock()

    def take(self, limits: Limits) -> WarmSandbox | None:
        """A ready spare for ``limits`` (now the caller's to go and finish), or None; in
        both cases the next one is on its way."""
        if self.size <= 0:
            return None
        key, spare, dead = spawn_key(limits), None, []
        with self._lock:
            for candidate in list(self._ready):
                if not candidate.running():
                    self._ready.remove(candidate)
                    dead.append(candidate)
                elif spare is None and candidate.key == key:
                    self._ready.remove(candidate)
                    spare = candidate
        for candidate in dead:
            _discard(candidate)
        self._refill(limits)
        return spare

    def _refill(self, limits: Limits) -> None:
        evicted = None
        with self._lock:
            if len(self._ready) + self._preparing >= self.size:
                others = [s for s in self._ready if s.key != spawn_key(limits)]
                if not others:
                    return
                evicted = others[0]  # the oldest spare made for other limits
                self._ready.remove(evicted)
            self._preparing += 1
        if evicted is not None:
            _discard(evicted)
        preparing = threading.Thread(target=self._prepare, args=(limits,), daemon=True)
        preparing.start()

    def _prepare(self, limits: Limits) -> None:
        spare: WarmSandbox | None = WarmSandbox(limits)
        try:
            spare.prepare()
        except (OSError, SandboxUnavailable) as exc:
            log.warning("no pre-warmed sandbox: %s", exc)
            _discard(spare)
            spare = None
        finally:  # whatever happened, this one is no longer being prepared
            with self._lock:
                self._preparing -= 1
                if spare is not None:
                    self._ready.append(spare)

    def warm_up(self, limits: Limits | None = None) -> None:
        """Start preparing a spare for ``limits`` (default: the limits most checks run
        under), without waiting: a grading worker calls this as it starts, so its first
        check finds a spare too. Only root can make one."""
        if self.size > 0 and os.geteuid() == 0:
            self._refill(limits or Limits())

    def prime(self, limits: Limits, timeout: float = 10.0) -> bool:
        """Have a spare for ``limits`` ready now (the first check of a process, tests and
        benchmarks); True if one is."""
        if self.size > 0 and not self._has(spawn_key(limits)):
            self._refill(limits)
        self.wait_ready(timeout)
        return self._has(spawn_key(limits))

    def _has(self, key: Limits) -> bool:
        with self._lock:
            return any(spare.key == key and spare.running() for spare in self._ready)

    def wait_ready(self, timeout: float = 5.0) -> bool:
        """Until no spare is being prepared (for benchmarks and tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._preparing == 0:
                    return True
            time.sleep(0.002)
        return False

    def close(self) -> None:
        with self._lock:
            spares, self._ready = self._ready, []
        for spare in spares:
            _discard(spare)


def _discard(spare: WarmSandbox) -> None:
    """Throw a spare away; a failure to is the next run's sweep's business, never the
    caller's (a check that only wanted a spare)."""
    try:
        spare.finish()
    except SandboxUnavailable as exc:
        log.warning("a discarded pre-warmed sandbox: %s", exc)


SPARE_POOL = SparePool()
