"""The grader's side of the sandbox launchers (launcher.py): one small root process per
sandbox slot, living in the slot's memory cgroup, that forks every run there.

The launcher is started with an empty environment and hands the same to bwrap: nothing of
the grader's environment (database URLs, secret keys) reaches a process a sandboxed uid
can read.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from app.grading.cgroups import RunCgroup, remove_stale_groups
from app.grading.errors import SandboxUnavailable
from app.grading.limits import Limits, run_memory_limit
from app.grading.netns import outside_checks
from app.grading.seccomp import syscall_number

LAUNCHER_SCRIPT = str(Path(__file__).with_name("launcher.py"))


class Launcher:
    """This process's launcher for one sandbox slot (see launcher.py): it lives in the
    slot's memory cgroup, so runs start inside it without joining."""

    def __init__(self, uid: int):
        self.cgroup = RunCgroup(
            run_memory_limit(Limits()), Limits().processes + 2, name=f"slot-{uid}-{os.getpid()}"
        )
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-s",
                "-B",
                LAUNCHER_SCRIPT,
                str(theirs.fileno()),
                *self.cgroup.procs_files,
            ],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
            cwd="/",
            env={},
        )
        theirs.close()
        self.sock = ours
        self.sock.settimeout(10)
        hello = json.loads(self.sock.recv(4096) or b"{}")
        if hello.get("ready") is not True:
            raise SandboxUnavailable("the sandbox launcher did not start")
        self.sock.settimeout(None)
        self.spare: int | None = hello["spare"]
        self._lock = threading.Lock()
        self._replies: queue.Queue[dict] = queue.Queue()
        self._closed = False
        self._waiters: dict[int, threading.Event] = {}
        self._statuses: dict[int, int] = {}
        self._guard = threading.Lock()
        threading.Thread(target=self._listen, daemon=True).start()

    def alive(self) -> bool:
        return not self._closed and self.process.poll() is None

    def own_pids(self) -> set[int]:
        """The launcher and its spare: in the slot's cgroup, but no run's processes."""
        return {pid for pid in (self.process.pid, self.spare) if pid is not None}

    def close(self) -> None:
        """Stop the launcher (its runs and spare die with it) and remove its cgroup once
        they are gone (a group still busy is left to remove_stale_groups)."""
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait()
        self.sock.close()
        with contextlib.suppress(OSError):
            self.cgroup.destroy(timeout=1.0)

    def spawn(
        self,
        argv: list[str],
        fds: list[int],
        uid: int | None = None,
        limits: dict[str, list[int]] | None = None,
    ) -> int:
        """Start ``argv`` with ``fds`` = [netns, stdin, stdout, stderr, *passed as 3, 4...],
        as ``uid`` under ``limits`` (resource names to [soft, hard])."""
        request = {
            "argv": argv,
            "fds": list(range(3, 3 + len(fds) - 4)),
            "uid": uid,
            "limits": limits or {},
            "keyctl": syscall_number("keyctl"),  # to clear the run uid's keyrings
        }
        with self._lock:
            socket.send_fds(self.sock, [json.dumps(request).encode()], fds)
            try:
                reply = self._replies.get(timeout=10)
            except queue.Empty:
                # A late answer would be taken for the next run's: this launcher is done.
                self._closed = True
                self.process.kill()
                raise SandboxUnavailable("the sandbox launcher does not answer") from None
        if "pid" not in reply:
            raise SandboxUnavailable(f"the sandbox launcher failed: {reply.get('error')}")
        return reply["pid"]

    def wait(self, pid: int) -> int:
        """Block until run ``pid`` ends; its wait status (SIGKILL if the launcher died)."""
        with self._guard:
            if pid in self._statuses:
                return self._statuses.pop(pid)
            if self._closed:
                return signal.SIGKILL
            done = self._waiters.setdefault(pid, threading.Event())
        done.wait()
        with self._guard:
            return self._statuses.pop(pid, signal.SIGKILL)

    def _listen(self) -> None:
        while True:
            try:
                message = self.sock.recv(4096)
            except OSError:
                message = b""
            if not message:  # the launcher died: its runs died with it (--die-with-parent)
                with self._guard:
                    self._closed = True
                    for done in self._waiters.values():
                        done.set()
                self._replies.put({"error": "the launcher exited"})
                return
            data = json.loads(message)
            if "pid" in data or "error" in data:
                if data.get("pid") == self.spare:
                    self.spare = None  # it is a run now; the next spare's pid follows
                self._replies.put(data)
            elif "spare" in data:
                self.spare = data["spare"]
            elif "exit" in data:
                with self._guard:
                    self._statuses[data["exit"]] = data["status"]
                    done = self._waiters.pop(data["exit"], None)
                if done:
                    done.set()


_launchers: dict[int, Launcher] = {}
_launchers_lock = threading.Lock()


def launcher_for(uid: int) -> Launcher:
    with _launchers_lock:
        if not _launchers:
            remove_stale_groups()
        current = _launchers.get(uid)
        if current is None or not current.alive():
            if current is not None:
                current.close()
            with outside_checks():  # a launcher outlives the check that needed it first
                current = _launchers[uid] = Launcher(uid)
        return current


@atexit.register
def close_launchers() -> None:
    """Stop this process's launchers (the next run starts a fresh one); also when the
    grader exits, so a stopped worker leaves no empty cgroups behind."""
    with _launchers_lock:
        for launcher in _launchers.values():
            launcher.close()
        _launchers.clear()
