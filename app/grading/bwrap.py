"""What the sandbox is made of: bwrap's arguments, the sandbox's /etc, its environment.

``bwrap`` gives new user, pid, ipc, uts, cgroup and mount namespaces, no capabilities, no
further user namespaces, a read-only root with a read-only view of the Python runtime and
system libraries only, fresh size-limited tmpfs folders for the files and ``/tmp``, a
masked view of host facts in ``/proc``, and the system-call filter (seccomp.py). bwrap
itself is executed with an empty environment: it is pid 1 inside the sandbox, and its
``/proc/1/environ`` is readable there.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
from pathlib import Path

from app.grading.errors import SandboxUnavailable
from app.grading.limits import SHM_BYTES, Limits

SANDBOX_PYTHON = os.environ.get("LOOPBACK_SANDBOX_PYTHON", "/usr/bin/python3")
ETC_PARENT = Path(os.environ.get("LOOPBACK_SANDBOX_ETC", "/run/loopback-sandbox-etc"))
WORKDIR = "/work"
# What the sandbox sees of the host, read-only. No /usr/local, /home, /root, /srv, /opt.
READ_ONLY_TREES = ("/usr",)
HIDDEN_TREES = ("/usr/local",)  # locally installed software is not part of the runtime
HOST_SYMLINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Host facts a program has no business with: read as empty files.
MASKED_FILES = ("/proc/cmdline", "/proc/sys/kernel/random/boot_id")
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
# The whole environment of a sandboxed program (and, being empty, of bwrap itself).
SANDBOX_ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": WORKDIR,
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONUNBUFFERED": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONIOENCODING": "utf-8",
    # glibc reserves 64 MiB of address space per thread arena: keep threads cheap under
    # the address-space limit.
    "MALLOC_ARENA_MAX": "2",
}

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


def bwrap_args(files: dict[str, int], limits: Limits, seccomp_fd: int) -> list[str]:
    """bwrap's command line, up to the ``--``: ``files`` maps each submitted file's name to
    the descriptor it arrives on; ``seccomp_fd`` holds the compiled filter."""
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
    args += ["--proc", "/proc"]
    for masked in MASKED_FILES:
        args += ["--ro-bind", "/dev/null", masked]
    # /dev is a tmpfs: read-only, with a tiny /dev/shm, so it is no unmetered disk.
    args += ["--dev", "/dev", "--size", str(SHM_BYTES), "--tmpfs", "/dev/shm"]
    args += ["--remount-ro", "/dev"]
    args += ["--size", str(limits.disk_bytes), "--tmpfs", "/tmp"]
    args += ["--size", str(limits.disk_bytes), "--perms", "0755", "--tmpfs", WORKDIR]
    for name, fd in files.items():
        args += ["--perms", "0644", "--file", str(fd), f"{WORKDIR}/{name}"]
    # The root itself is bwrap's own tmpfs: read-only too, or it would be unbounded disk.
    args += ["--remount-ro", "/", "--chdir", WORKDIR, "--clearenv"]
    for key, value in SANDBOX_ENV.items():
        args += ["--setenv", key, value]
    args += ["--seccomp", str(seccomp_fd)]
    return args


def sandbox_command(files: list[str], argv: list[str], limits: Limits) -> list[str]:
    """The whole command of a run whose files arrive on descriptors 3, 4, ... in order and
    whose filter arrives on the next one."""
    descriptors = {name: 3 + index for index, name in enumerate(files)}
    seccomp_fd = 3 + len(files)
    return [
        *bwrap_args(descriptors, limits, seccomp_fd),
        "--",
        SANDBOX_PYTHON,
        "-u",
        "-B",
        "-s",
        *argv,
    ]


WARM_STUB = Path(__file__).with_name("warm_stub.py").read_text()


def warm_command(limits: Limits) -> list[str]:
    """A pre-warmed sandbox's command (warm.py): no files yet, the waiting interpreter
    (warm_stub.py) reads its run from descriptor 3; the filter arrives on 4."""
    return [*bwrap_args({}, limits, 4), "--", SANDBOX_PYTHON, "-u", "-B", "-s", "-c", WARM_STUB]
