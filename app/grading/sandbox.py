"""Run one submitted program inside a bubblewrap sandbox.

Isolation, in the order a process meets it:

* it starts as the slot launcher's spare child (launcher.py), inside the slot's memory
  cgroup, which meters tmpfs, shared memory and memfds too, and which it cannot leave:
  at the end of the check everything in the group but the launcher's own is killed;
* it sets the resource limits, drops every capability and becomes a *dedicated
  unprivileged uid* leased for this run only (RLIMIT_NPROC is not enforced for root, and
  a uid of its own makes the process count per run);
* ``bwrap`` gives it new user, pid, ipc, uts, cgroup and mount namespaces, no
  capabilities, no further user namespaces, a read-only root with a read-only view of the
  Python runtime and system libraries only, and fresh size-limited tmpfs folders for its
  files and ``/tmp``;
* the network namespace is the caller's: the check's private loopback.

There is no fallback: when bubblewrap is missing or unusable, :class:`SandboxUnavailable`
is raised and the grade is ``error``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import queue
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from app.grading.cgroups import RunCgroup, cgroup_problem, remove_stale_groups
from app.grading.netns import outside_checks

MiB = 1024 * 1024
CGROUP_HEADROOM = 32 * MiB  # bwrap, the launcher and the kernel's own bookkeeping

SANDBOX_PYTHON = os.environ.get("LOOPBACK_SANDBOX_PYTHON", "/usr/bin/python3")
UID_BASE = int(os.environ.get("LOOPBACK_SANDBOX_UID_BASE", "61000"))
UID_COUNT = int(os.environ.get("LOOPBACK_SANDBOX_UID_COUNT", "64"))
LOCK_DIR = Path(os.environ.get("LOOPBACK_SANDBOX_LOCKS", "/run/loopback-sandbox"))
ETC_PARENT = Path(os.environ.get("LOOPBACK_SANDBOX_ETC", "/run/loopback-sandbox-etc"))
WORKDIR = "/work"
SHM_BYTES = 1 * MiB
# What the sandbox sees of the host, read-only. No /usr/local, /home, /root, /srv, /opt.
READ_ONLY_TREES = ("/usr",)
HIDDEN_TREES = ("/usr/local",)  # locally installed software is not part of the runtime
HOST_SYMLINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# The sandbox's /etc: copies of these host files and our own hosts, passwd and group.
ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/protocols",
    "/etc/services",
)
HOSTS = b"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
PASSWD = b"sandbox:x:1000:1000:sandbox:/work:/usr/sbin/nologin\n"
GROUP = b"sandbox:x:1000:\n"


class SandboxUnavailable(RuntimeError):
    """Submitted code cannot be run safely here; the grader reports an error."""


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


@dataclass
class _UidLease:
    uid: int
    handle: int


class UidPool:
    """Unprivileged uids leased one per run, exclusive across processes (flock)."""

    def __init__(self, base: int = UID_BASE, count: int = UID_COUNT, lock_dir: Path = LOCK_DIR):
        self.base, self.count, self.lock_dir = base, count, lock_dir
        self._mutex = threading.Lock()
        self._checked: set[int] = set()

    def acquire(self, timeout: float = 30.0) -> _UidLease:
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
                    if uid not in self._checked and _processes_of(uid):
                        _kill_uid(uid)
                    self._checked.add(uid)
                    return _UidLease(uid, handle)
            if time.monotonic() > deadline:
                raise SandboxUnavailable("no free sandbox uid: too many gradings at once")
            time.sleep(0.05)

    @staticmethod
    def release(lease: _UidLease) -> None:
        os.close(lease.handle)


UIDS = UidPool()


def _runs_as(pid: int, uid: int) -> bool:
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


def _processes_of(uid: int) -> list[int]:
    """Live processes whose real uid is ``uid`` (slow: reads every process on the host)."""
    return [
        int(entry.name)
        for entry in os.scandir("/proc")
        if entry.name.isdigit() and _runs_as(int(entry.name), uid)
    ]


def _kill_if(pid: int, still_ours: Callable[[int], bool]) -> None:
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


def _task_count(uid: int) -> int:
    """Processes and threads of ``uid`` (what RLIMIT_NPROC counts)."""
    count = 0
    for pid in _processes_of(uid):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            count += len(os.listdir(f"/proc/{pid}/task"))
    return count


def _kill_uid(uid: int, timeout: float = 5.0) -> bool:
    """SIGKILL every process running under ``uid`` until none is left (slow: it reads the
    status of every process on the host, so only for what a crashed grader left)."""
    deadline = time.monotonic() + timeout
    while pids := _processes_of(uid):
        for pid in pids:
            _kill_if(pid, lambda pid: _runs_as(pid, uid))
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


def _kill_group(cgroup: RunCgroup, launcher: set[int], timeout: float = 5.0) -> bool:
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
            _kill_if(pid, cgroup.contains)
        if time.monotonic() > deadline:
            return False
        if pids:
            time.sleep(0.001)
    return True


@lru_cache(maxsize=1)
def sandbox_problem() -> str | None:
    """Why submitted code cannot be sandboxed here, or None when it can (checked once)."""
    if os.geteuid() != 0:
        return "the grader must run as root to create network namespaces and drop to sandbox uids"
    if problem := cgroup_problem():
        return problem
    for tool in ("bwrap",):
        if not shutil.which(tool):
            return f"'{tool}' is not installed (apt-get install bubblewrap util-linux)"
    if not os.access(SANDBOX_PYTHON, os.X_OK):
        return f"the sandbox interpreter {SANDBOX_PYTHON} is missing (apt-get install python3)"
    try:
        probe = Sandbox({"probe.py": "print('ok')\n"}, ["probe.py"], Limits(wall_ms=5000))
        probe.start()
        result = probe.finish(wait=True)
    except (OSError, SandboxUnavailable) as exc:
        return f"bubblewrap cannot start a sandbox: {exc}"
    if result.stdout.strip() != b"ok":
        return "bubblewrap cannot start a sandbox: " + result.text("stderr").strip()[-300:]
    return None


_etc_folders: dict[tuple, str] = {}


def sandbox_etc() -> str:
    """A root-owned, read-only folder to bind as the sandbox's /etc, one per content: one
    mount instead of one per file. Made atomically (a folder renamed into place), so
    graders running side by side share it; made again when a host file changes."""
    sources = [Path(path) for path in ETC_FILES if os.path.exists(path)]
    key = tuple((str(path), path.stat().st_mtime_ns) for path in sources)
    cached = _etc_folders.get(key)
    if cached and os.path.isdir(cached):
        return cached
    contents = {path.name: path.read_bytes() for path in sources}
    contents |= {"hosts": HOSTS, "passwd": PASSWD, "group": GROUP}
    digest = hashlib.sha256()
    for name, data in sorted(contents.items()):
        digest.update(f"{name}\0{len(data)}\0".encode() + data)
    target = ETC_PARENT / digest.hexdigest()[:16]
    if not target.is_dir():
        ETC_PARENT.mkdir(parents=True, exist_ok=True)
        ETC_PARENT.chmod(0o755)  # mkdir's mode is cut by the umask
        staging = Path(tempfile.mkdtemp(dir=ETC_PARENT, prefix=".staging-"))
        for name, data in contents.items():
            (staging / name).write_bytes(data)
            (staging / name).chmod(0o644)
        staging.chmod(0o755)
        try:
            staging.rename(target)
        except OSError:  # another grader made it first
            shutil.rmtree(staging, ignore_errors=True)
    for folder in (ETC_PARENT, target):
        info = folder.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o022:
            raise SandboxUnavailable(
                f"{folder} must be a folder owned by root, writable by root only"
            )
    _etc_folders[key] = str(target)
    return str(target)


def _bwrap_args(files: dict[str, int], limits: Limits) -> list[str]:
    args = [
        shutil.which("bwrap") or "/usr/bin/bwrap",
        "--unshare-user",
        "--uid",
        "1000",
        "--gid",
        "1000",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "sandbox",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--disable-userns",
    ]
    for tree in READ_ONLY_TREES:
        args += ["--ro-bind", tree, tree]
    for hidden in HIDDEN_TREES:
        if os.path.isdir(hidden):
            args += ["--size", "4096", "--tmpfs", hidden]
    for link in HOST_SYMLINKS:
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
    args += ["--ro-bind", sandbox_etc(), "/etc"]
    # /dev is a tmpfs: read-only, with a tiny /dev/shm, so it is no unmetered disk.
    args += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(SHM_BYTES),
        "--tmpfs",
        "/dev/shm",
        "--remount-ro",
        "/dev",
    ]
    args += ["--size", str(limits.disk_bytes), "--tmpfs", "/tmp"]
    args += ["--size", str(limits.disk_bytes), "--perms", "0755", "--tmpfs", WORKDIR]
    for name, fd in files.items():
        args += ["--perms", "0644", "--file", str(fd), f"{WORKDIR}/{name}"]
    # The root itself is bwrap's own tmpfs: read-only too, or it would be unbounded disk.
    args += ["--remount-ro", "/", "--chdir", WORKDIR, "--clearenv"]
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": WORKDIR,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        # glibc reserves 64 MiB of address space per thread arena: keep threads cheap
        # under the address-space limit.
        "MALLOC_ARENA_MAX": "2",
    }
    for key, value in env.items():
        args += ["--setenv", key, value]
    return args


def run_memory_limit(limits: Limits) -> int:
    """The cgroup's limit: the program's memory, its tmpfs folders and some headroom."""
    return limits.memory_bytes + 2 * limits.disk_bytes + SHM_BYTES + CGROUP_HEADROOM


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
        """Stop the launcher (its runs and spare die with it) and let go of its cgroup."""
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait()
        self.sock.close()
        self.cgroup.close()

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
        self._lease: _UidLease | None = None
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
        self._lease = UIDS.acquire()
        theirs: list[int] = []  # the run's descriptors: ours to close once it has them
        ours: list[int] = []  # our ends of its pipes, kept if it starts
        try:
            self._launcher = launcher_for(self._lease.uid)
            # The cgroup meters what RLIMIT_AS cannot: tmpfs, shared memory, memfds.
            self._cgroup = self._launcher.cgroup
            self._cgroup.set_memory_limit(run_memory_limit(self.limits))
            self._cgroup.begin_run()
            command = self._command()
            # The run gets, in this order: the check's network namespace, stdin, stdout,
            # stderr, then the submitted files (3, 4, ... in the sandbox; see _command).
            theirs.append(os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC))
            if self.keep_stdin_open:
                stdin_read, stdin_write = os.pipe()
                ours.append(stdin_write)
            else:
                stdin_read, stdin_write = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC), None
            theirs.append(stdin_read)
            for _ in ("stdout", "stderr"):
                read_end, write_end = os.pipe()
                ours.append(read_end)
                theirs.append(write_end)
            for name, code in self.files.items():
                theirs.append(_memfd(name, code.encode()))
            pid = self._launcher.spawn(command, theirs, uid=self._lease.uid, limits=self._rlimits())
        except (OSError, SandboxUnavailable) as exc:
            for fd in ours:
                os.close(fd)
            self._release()
            raise SandboxUnavailable(f"cannot start the sandbox: {exc}") from exc
        finally:
            for fd in theirs:
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

    def _command(self) -> list[str]:
        files = {name: 3 + index for index, name in enumerate(self.files)}
        return [
            *_bwrap_args(files, self.limits),
            "--",
            SANDBOX_PYTHON,
            "-u",
            "-B",
            "-s",
            *self.argv,
        ]

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
        return _task_count(uid) >= self.limits.processes - 1

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
        self.result.limit = self.result.limit or _limit_from(self.result, self.limits)
        return self.result

    # -- internals ---------------------------------------------------------------------
    def _release(self) -> None:
        if self._lease is None:
            return
        try:
            if self._cgroup is not None:
                launcher = self._launcher.own_pids() if self._launcher else set()
                if not _kill_group(self._cgroup, launcher):
                    raise SandboxUnavailable(f"processes of sandbox uid {self._lease.uid} survive")
                if self._cgroup.oom_killed() and self.result.limit in (None, "time"):
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


STDERR_MARKERS = (
    (b"MemoryError", "memory"),
    (b"Cannot allocate memory", "memory"),
    (b"can't start new thread", "processes"),
    (b"Resource temporarily unavailable", "processes"),
    (b"No space left on device", "disk"),
    (b"File too large", "disk"),
    (b"Too many open files", "open_files"),
)


def _limit_from(result: RunResult, limits: Limits) -> str | None:
    """Name the limit a program ran into, from how it ended and its last words: only for a
    program that failed (a handled error logged on the way is no limit)."""
    if result.signal == signal.SIGXCPU:
        return "cpu"
    if result.exit_code == 0:
        return None
    last_words = b"\n".join(result.stderr.strip().splitlines()[-3:])
    for marker, name in STDERR_MARKERS:
        if marker in last_words:
            return name
    return None


def describe_limit(name: str, limits: Limits, wall_ms: int | None = None) -> str:
    values = {
        "time": f"{(wall_ms or limits.wall_ms) / 1000:g} s",
        "cpu": f"{limits.cpu_seconds} s",
        "memory": f"{limits.memory_bytes // MiB} MiB",
        "processes": f"{limits.processes}",
        "output": f"{limits.output_bytes // 1024} KiB",
        "disk": f"{limits.disk_bytes // MiB} MiB",
        "open_files": f"{limits.open_files}",
    }
    return f"{LIMIT_NAMES[name]} limit ({values[name]})"
