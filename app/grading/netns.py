"""Private network namespaces holding only a loopback interface.

A network namespace belongs to a thread, not a process: :func:`private_loopback` moves
the *calling thread* into a fresh namespace, so every socket, peer thread and child
process it creates lives there, and moves it back afterwards. Many checks can therefore
run side by side in one grader process, each with its own 127.0.0.1:65432.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1

_libc = ctypes.CDLL(None, use_errno=True)


class NamespaceError(OSError):
    """The grader could not create or enter a network namespace (needs CAP_SYS_ADMIN)."""


def _call(name: str, *args: int) -> None:
    if getattr(_libc, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise NamespaceError(errno, f"{name}: {os.strerror(errno)}")


def _bring_loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b""))


# Socket buffer sizes in each check's namespace (min, default, max): a program cannot
# grow one connection's queues past these, so the memory cap on its socket buffers holds
# many connections (the host's defaults allow 32 MiB per socket), and a slow reader fills
# a sender's buffer after a few hundred KiB, as on a real network.
SOCKET_SYSCTLS = {
    "net/ipv4/tcp_rmem": "4096 131072 524288",
    "net/ipv4/tcp_wmem": "4096 16384 262144",
}


def _bound_socket_buffers() -> None:
    """Network sysctls belong to the namespace of the thread that opens them."""
    for name, value in SOCKET_SYSCTLS.items():
        with open(f"/proc/sys/{name}", "w") as handle:
            handle.write(value)


_homes = threading.local()  # per thread: the namespaces private_loopback left, innermost last


@contextmanager
def private_loopback() -> Iterator[int]:
    """Run the body in a new network namespace with only ``lo`` (up); yield its fd.

    The namespace disappears once the body's sockets and processes are gone.
    """
    with _leaving_home() as home:
        _call("unshare", CLONE_NEWNET)
        try:
            namespace = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
            try:
                _bring_loopback_up()
                _bound_socket_buffers()
                yield namespace
            finally:
                os.close(namespace)
        finally:
            _call("setns", home, CLONE_NEWNET)


def new_loopback() -> int:
    """A new namespace like :func:`private_loopback`'s, made now for later: its fd, to
    :func:`entered` (the caller closes it)."""
    with private_loopback() as namespace:
        return os.dup(namespace)


@contextmanager
def entered(namespace: int) -> Iterator[int]:
    """Run the body in the namespace ``namespace`` (from :func:`new_loopback`)."""
    with _leaving_home() as home:
        _call("setns", namespace, CLONE_NEWNET)
        try:
            yield namespace
        finally:
            _call("setns", home, CLONE_NEWNET)


@contextmanager
def _leaving_home() -> Iterator[int]:
    """The calling thread's namespace as it is, kept for coming back (and for
    :func:`outside_checks`)."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    stack = _homes.__dict__.setdefault("stack", [])
    stack.append(home)
    try:
        yield home
    finally:
        stack.pop()
        os.close(home)


@contextmanager
def outside_checks() -> Iterator[None]:
    """Run the body in the namespace the calling thread had before its checks, e.g. to
    start a long-lived process that must not keep a check's namespace alive."""
    stack = getattr(_homes, "stack", [])
    if not stack:
        yield
        return
    here = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        _call("setns", stack[0], CLONE_NEWNET)
        try:
            yield
        finally:
            _call("setns", here, CLONE_NEWNET)
    finally:
        os.close(here)


def namespace_problem() -> str | None:
    """Why private namespaces cannot be made here, or None when they can."""
    try:
        with private_loopback():
            pass
    except OSError as exc:
        return f"cannot create a private network namespace ({exc}); the grader must run as root"
    return None
