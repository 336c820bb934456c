"""The launcher: a small root process per sandbox slot that lives in the slot's memory
cgroup and forks each sandboxed run there.

Joining a cgroup waits for an RCU grace period (10-15 ms), so a run that had to join its
cgroup paid that every time. Children inherit their parent's cgroup for free: the launcher
joins once, then every run starts inside. It is also the runs' subreaper, so nothing a run
leaves behind lingers as a zombie of init.

Runs as its own script (no imports from the app, started by ``LauncherClient``):

    python3 launcher.py SOCKET_FD CGROUP_PROCS_FILE

Requests arrive on a SOCK_SEQPACKET socket as JSON ``{"argv": [...], "fds": [targets]}``
with the descriptors attached (network namespace, stdin, stdout, stderr, then one per
target); the answer is ``{"pid": N}``, and later ``{"exit": N, "status": S}``. It exits
when the socket closes (its grader is gone).
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import socket
import sys

CLONE_NEWNET = 0x40000000
PR_SET_CHILD_SUBREAPER = 36
FIRST_FREE_FD = 64
MAX_FDS = 32


def _child(argv: list[str], fds: list[int], targets: list[int]) -> None:
    """In the forked child: enter the namespace, lay out the descriptors, exec."""
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        netns, *rest = fds
        if libc.setns(netns, CLONE_NEWNET) != 0:
            os._exit(126)
        # Move everything out of the way first, then into place (0, 1, 2, targets...).
        high = [
            os.dup2(fd, FIRST_FREE_FD + index, inheritable=False) for index, fd in enumerate(rest)
        ]
        for target, fd in zip([0, 1, 2, *targets], high, strict=True):
            os.dup2(fd, target, inheritable=True)
        # Targets are 3, 4, ...: everything above them goes (the socket, the pipes).
        os.closerange(3 + len(targets), os.sysconf("SC_OPEN_MAX"))
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)


def serve(sock: socket.socket) -> None:
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    ours: set[int] = set()
    sock.send(b'{"ready": true}')
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
        request = json.loads(message)
        pid = os.fork()
        if pid == 0:
            _child(request["argv"], fds, request["fds"])
        ours.add(pid)
        for fd in fds:
            os.close(fd)
        sock.send(json.dumps({"pid": pid}).encode())


def _reap(sock: socket.socket, ours: set[int]) -> None:
    """Collect every child that ended: ours are reported, adopted orphans just buried."""
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


def main() -> None:
    sock_fd, procs_file = int(sys.argv[1]), sys.argv[2]
    with open(procs_file, "w") as handle:  # join the slot's cgroup, once
        handle.write(str(os.getpid()))
    ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    serve(socket.socket(fileno=sock_fd))


if __name__ == "__main__":
    main()
