"""The sandbox's system-call filter: a deny list that libseccomp compiles into the classic
BPF program bwrap loads (``--seccomp FD``) just before it executes the submission.

A denied call fails with ENOSYS, as if the kernel did not have it: libraries fall back
where they can, and a program learns nothing else. Calls of another architecture (32-bit
``int 0x80``, x32) kill the caller: libseccomp's default for a foreign architecture.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
from functools import cache, lru_cache

from app.grading.errors import SandboxUnavailable

DENIED_SYSCALLS = (
    # kernel keyrings outlive a run and are shared by every run of the same uid
    "add_key",
    "keyctl",
    "request_key",
    # large, young kernel interfaces no socket program needs
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "userfaultfd",
    "bpf",
    "perf_event_open",
    # looking into or steering other processes
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "process_madvise",
    "pidfd_getfd",
    "kcmp",
    # namespaces, mounts and the machine itself (refused without capabilities anyway)
    "setns",
    "unshare",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "name_to_handle_at",
    "open_by_handle_at",
    "swapon",
    "swapoff",
    "reboot",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "acct",
    "quotactl",
    "syslog",
    "fanotify_init",
    "lookup_dcookie",
    "uselib",
    "ustat",
    "sysfs",
    "vhangup",
    "iopl",
    "ioperm",
    "modify_ldt",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
)
DENIED_ERRNO = errno.ENOSYS
SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_ACT_ERRNO = 0x00050000
NR_SCMP_ERROR = -1


@lru_cache(maxsize=1)
def _libseccomp() -> ctypes.CDLL:
    name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError as exc:
        raise SandboxUnavailable(
            f"libseccomp is missing ({exc}); apt-get install libseccomp2"
        ) from None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    return lib


@cache
def syscall_number(name: str) -> int | None:
    """The number of system call ``name`` on this machine's architecture, if it has one."""
    number = _libseccomp().seccomp_syscall_resolve_name(name.encode())
    return None if number == NR_SCMP_ERROR else number


@lru_cache(maxsize=1)
def filter_program() -> bytes:
    """The compiled filter (made once per process)."""
    lib = _libseccomp()
    context = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not context:
        raise SandboxUnavailable("libseccomp cannot start a filter")
    try:
        for name in DENIED_SYSCALLS:
            number = syscall_number(name)
            if number is None:  # not on this architecture
                continue
            if lib.seccomp_rule_add(context, SCMP_ACT_ERRNO | DENIED_ERRNO, number, 0) < 0:
                raise SandboxUnavailable(f"libseccomp cannot deny {name}")
        fd = os.memfd_create("seccomp", os.MFD_CLOEXEC)
        try:
            if lib.seccomp_export_bpf(context, fd) < 0:
                raise SandboxUnavailable("libseccomp cannot export the filter")
            size = os.lseek(fd, 0, os.SEEK_END)
            return os.pread(fd, size, 0)
        finally:
            os.close(fd)
    finally:
        lib.seccomp_release(context)
