"""The launcher: a small root process per sandbox slot that lives in the slot's memory
cgroup and forks each sandboxed run there.

Joining a cgroup waits for an RCU grace period (10-15 ms), so a run that had to join its
cgroup paid that every time. Children inherit their parent's cgroup for free: the launcher
joins once, then every run starts inside. It is also the runs' subreaper, so nothing a run
leaves behind lingers as a zombie of init.

Forking costs about a millisecond, so it happens ahead of time: a *spare* child waits,
already forked and prepared (capability bounding set emptied, own session), for the next
request; the launcher hands the request to it and forks the next spare while the run
starts.

Runs as its own script (no imports from the app, started by ``Launcher`` in sandbox.py):

    python3 launcher.py SOCKET_FD CGROUP_PROCS_FILE...

Requests arrive on a SOCK_SEQPACKET socket as JSON: ``argv``, ``fds`` (target numbers),
``uid``, ``limits`` (``{"RLIMIT_...": [soft, hard]}``) and ``keyctl`` (its system call
number), with the descriptors attached (network namespace, stdin, stdout, stderr, then
one per target). The child sets the limits, drops every capability, becomes ``uid`` with
fresh keyrings and executes with an empty environment. The answer is
``{"pid": N}``, then ``{"spare": M}`` (the next spare, which is no run's process), and
later ``{"exit": N, "status": S}``. The launcher exits when the socket closes (its grader is
gone); a spare exits when the launcher does.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import resource
import select
import signal
import socket
import sys

CLONE_NEWNET = 0x40000000
PR_SET_CHILD_SUBREAPER = 36
PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
PR_SET_PDEATHSIG = 1
KEYCTL_GET_KEYRING_ID = 0
KEYCTL_JOIN_SESSION_KEYRING = 1
KEYCTL_REVOKE = 3
KEYCTL_CLEAR = 7
KEYCTL_READ = 11
KEY_SPEC_USER_KEYRING = -4
KEY_SPEC_USER_SESSION_KEYRING = -5
_GONE = (errno.ENOKEY, errno.EKEYREVOKED, errno.EKEYEXPIRED)
FIRST_FREE_FD = 64
MAX_FDS = 32
OOM_SCORE_ADJ = "-999"  # the launcher goes last when its cgroup runs out of memory
_launcher_pid = 0  # set in each spare


def _prepare(libc: ctypes.CDLL) -> None:
    """What a spare does before it knows its run: none of this needs the request."""
    for cap in range(64):  # empty the bounding set (EINVAL past the last capability)
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    os.setsid()
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def _drop_privileges(
    libc: ctypes.CDLL, uid: int, limits: dict[str, list[int]], keyctl: int | None
) -> None:
    """Limits first (as root), then no capabilities, no groups, the run's uid, keyrings of
    its own."""
    for name, (soft, hard) in limits.items():
        resource.setrlimit(getattr(resource, name), (soft, hard))
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)  # as root: real, effective and saved uid; permitted caps are dropped
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: all empty
    if libc.capset(header, data) != 0 or os.getuid() != uid or os.geteuid() != uid:
        os._exit(125)
    # Changing uid cleared the parent-death signal: a run whose launcher is gone must not
    # live on unsupervised (bwrap's own --die-with-parent starts later).
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != _launcher_pid:
        os._exit(125)
    if keyctl is not None:
        _fresh_keyrings(libc, keyctl)


def _fresh_keyrings(libc: ctypes.CDLL, keyctl: int) -> None:
    """A new, empty session keyring instead of the grader's, and every key in the uid's
    own keyrings revoked: the kernel keeps those while the uid lives, so a key one run
    planted would wait there for the next run of the same uid (the syscall filter denies
    the calls too; this holds below it)."""

    def call(*args: int | ctypes.Array | None) -> int:
        return libc.syscall(
            ctypes.c_long(keyctl), *(ctypes.c_long(a) if isinstance(a, int) else a for a in args)
        )

    if call(KEYCTL_JOIN_SESSION_KEYRING, None) < 0:
        if ctypes.get_errno() == errno.ENOSYS:  # a kernel without keyrings
            return
        os._exit(125)
    # The user-session keyring links the user keyring: revoking that link's target would
    # revoke the uid's own keyring, and the kernel answers ENOKEY for it from then on.
    own = {
        call(KEYCTL_GET_KEYRING_ID, k, 0)
        for k in (KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING)
    }
    for keyring in (KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING):
        serials = (ctypes.c_int32 * 256)()
        size = call(KEYCTL_READ, keyring, serials, ctypes.sizeof(serials))
        if size < 0:
            if ctypes.get_errno() in _GONE:  # nobody can read it, or link a key into it
                continue
            os._exit(125)
        for serial in serials[: min(size, ctypes.sizeof(serials)) // 4]:
            if serial not in own:
                call(KEYCTL_REVOKE, serial)  # a revoked key can no longer be read by anyone
        if size > ctypes.sizeof(serials) or call(KEYCTL_CLEAR, keyring) < 0:
            os._exit(125)


def _spare(control: socket.socket) -> None:
    """In a spare: get ready, wait for a request, then become its run (or exit if the
    launcher is gone)."""
    global _launcher_pid
    try:
        _launcher_pid = os.getppid()
        keep = control.fileno()
        os.closerange(3, keep)  # nothing of the launcher's: its socket, its wake pipe
        os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        _prepare(libc)
        message, fds, _, _ = socket.recv_fds(control, 65536, MAX_FDS)
        if not message:
            os._exit(0)
        request = json.loads(message)
        limits = request.get("limits", {})
        _run(libc, request, fds, limits)
    except BaseException as exc:  # on the run's stderr when it has one, for the report
        with contextlib.suppress(OSError):
            os.write(2, f"launcher: cannot start the sandbox: {exc!r}\n".encode())
    finally:
        os._exit(127)


def _run(libc: ctypes.CDLL, request: dict, fds: list[int], limits: dict[str, list[int]]) -> None:
    """Enter the namespace, lay out the descriptors, become the run's unprivileged uid
    under its limits, exec with an empty environment."""
    argv, targets, uid = request["argv"], request["fds"], request.get("uid")
    netns, *rest = fds
    if libc.setns(netns, CLONE_NEWNET) != 0:
        os._exit(126)
    # Move everything out of the way first, then into place (0, 1, 2, targets...).
    high = [os.dup2(fd, FIRST_FREE_FD + index, inheritable=False) for index, fd in enumerate(rest)]
    for target, fd in zip([0, 1, 2, *targets], high, strict=True):
        os.dup2(fd, target, inheritable=True)
    # Targets are 3, 4, ...: everything above them goes (the sockets, the pipes).
    os.closerange(3 + len(targets), os.sysconf("SC_OPEN_MAX"))
    _set_oom_score_adj("0")  # the launcher's is not for runs
    if uid is not None:
        _drop_privileges(libc, uid, limits, request.get("keyctl"))
    # execve, not execvp: after setuid nothing may be imported any more (the grader's
    # Python may live where the run's uid cannot read), and argv[0] is absolute. The
    # environment is empty: bwrap is pid 1 in the sandbox, its environ readable there.
    os.execve(argv[0], argv, {})


class Spare:
    """A child forked ahead of its run, waiting on a socket of its own for the request."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.pid = os.fork()
        if self.pid == 0:
            _spare(theirs)
        theirs.close()
        self.control = ours

    def start(self, message: bytes, fds: list[int]) -> None:
        socket.send_fds(self.control, [message], fds)
        self.control.close()


def serve(sock: socket.socket) -> None:
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    ours: set[int] = set()
    spare = Spare()
    sock.send(json.dumps({"ready": True, "spare": spare.pid}).encode())
    while True:
        ready, _, _ = select.select([sock, wake_read], [], [])
        if wake_read in ready:
            os.read(wake_read, 4096)
            _reap(sock, ours)
        if sock not in ready:
            continue
        try:
            message, fds, _, _ = socket.recv_fds(sock, 65536, MAX_FDS)
        except InterruptedError:
            continue
        if not message:
            return
        try:
            run = _start(spare, message, fds)
        except OSError as exc:  # no process to run it in (the cgroup's limits): say so
            sock.send(json.dumps({"error": f"cannot fork: {exc}"}).encode())
            spare = None
            continue
        finally:
            for fd in fds:
                os.close(fd)
        ours.add(run.pid)
        sock.send(json.dumps({"pid": run.pid}).encode())
        try:
            spare = Spare()
        except OSError:  # forked on demand next time
            spare = None
        sock.send(json.dumps({"spare": spare and spare.pid}).encode())


def _start(spare: Spare | None, message: bytes, fds: list[int]) -> Spare:
    """Hand the request to the spare, or to a new one if it is gone (killed from outside)."""
    if spare is not None:
        try:
            spare.start(message, fds)
            return spare
        except OSError:
            spare.control.close()
    run = Spare()
    run.start(message, fds)
    return run


def _reap(sock: socket.socket, ours: set[int]) -> None:
    """Collect every child that ended: runs are reported, adopted orphans just buried."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid in ours:
            ours.discard(pid)
            sock.send(json.dumps({"exit": pid, "status": status}).encode())


def _set_oom_score_adj(value: str) -> None:
    """Best effort: lowering it needs CAP_SYS_RESOURCE, which a container may withhold."""
    with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as handle:
        handle.write(value)


def main() -> None:
    sock_fd, procs_files = int(sys.argv[1]), sys.argv[2:]
    for procs_file in procs_files:  # join the slot's cgroups, once
        with open(procs_file, "w") as handle:
            handle.write(str(os.getpid()))
    _set_oom_score_adj(OOM_SCORE_ADJ)
    ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    serve(socket.socket(fileno=sock_fd))


if __name__ == "__main__":
    main()
