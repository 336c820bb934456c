"""Hostile submissions: each gets a clear verdict, nothing of it survives the check, and
neither the host nor the next grading notices."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading

import pytest

from app.grading import sandbox as sandbox_module
from app.grading.engine import grade
from tests.helpers import live_sandbox_processes

pytestmark = pytest.mark.sandbox


def client_spec(timeout_ms: int = 3000, peer: str = "tcp_echo_server", **expect) -> dict:
    return {
        "checks": [
            {
                "id": "hostile",
                "title": {"en": "hostile", "zh": "恶意"},
                "role": "client",
                "peer": {"kind": peer},
                "timeout_ms": timeout_ms,
                "expect": [{k: v} for k, v in (expect or {"no_traceback": True}).items()],
            }
        ]
    }


ECHO_CLIENT = """
import socket
with socket.create_connection(("127.0.0.1", 65432), timeout=2) as s:
    s.sendall(b"still fine")
    print(s.recv(100).decode())
"""


def assert_next_grading_works() -> None:
    result = grade(client_spec(stdout_echoes_peer=True), {"client": ECHO_CLIENT})
    assert result.verdict == "passed", result.checks[0].message["en"]


HOSTILE = {
    "fork_bomb": (
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
        "processes",
    ),
    "thread_bomb": (
        "import threading, time\nwhile True:\n    try:\n        threading.Thread("
        "target=time.sleep, args=(60,)).start()\n    except RuntimeError:\n"
        "        pass\n",
        "processes",
    ),
    "memory_bomb": ("blocks = []\nwhile True:\n    blocks.append(bytearray(16 << 20))\n", "memory"),
    "cpu_spin": ("while True:\n    pass\n", "time"),
    "ignores_sigterm": (
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "while True:\n    time.sleep(1)\n",
        "time",
    ),
    "floods_stdout": ("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n", "output"),
    "fills_disk": (
        "with open('/tmp/fill', 'wb') as f:\n    while True:\n        f.write(b'x' * (1 << 20))\n",
        "disk",
    ),
    "exhausts_fds": (
        "import socket\nkeep = []\nwhile True:\n    keep.append(socket.socket())\n",
        "open_files",
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_limit_breaker_fails_naming_the_limit(sandbox, name):
    code, limit = HOSTILE[name]
    result = grade(client_spec(), {"client": code})
    check = result.checks[0]
    assert result.verdict == "failed"
    assert check.resources["limit"] == limit
    assert sandbox_module.LIMIT_NAMES[limit] in check.message["en"]
    assert live_sandbox_processes() == []
    assert_next_grading_works()


def test_cpu_limit_stops_a_spinner_before_the_wall_clock(sandbox):
    spec = client_spec(timeout_ms=10_000)
    spec["limits"] = {"cpu_seconds": 1}
    result = grade(spec, {"client": "while True:\n    pass\n"})
    assert result.checks[0].resources["limit"] == "cpu"
    assert result.checks[0].duration_ms < 5000


SNOOP = """
import json, os
paths = {p: os.path.exists(p) for p in PATHS}
readable = {}
for p in PATHS:
    try:
        open(p, "rb").read(1); readable[p] = True
    except OSError:
        readable[p] = False
print(json.dumps({"env": dict(os.environ), "exists": paths, "readable": readable,
                  "pids": sorted(int(x) for x in os.listdir("/proc") if x.isdigit()),
                  "uid": os.getuid(), "ls_root": sorted(os.listdir("/")),
                  "usr_local": os.listdir("/usr/local")}))
"""


def test_secrets_and_project_files_are_invisible(sandbox, app, tmp_path):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text("top secret")
    database = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    project = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    paths = [
        str(secret_file),
        database,
        project,
        "/root",
        "/home",
        "/etc/shadow",
        f"/proc/{os.getpid()}/environ",
    ]
    os.environ["LOOPBACK_TEST_SECRET"] = "must-not-leak"
    try:
        code = f"PATHS = {paths!r}\n" + SNOOP
        result = grade(client_spec(peer="nothing_listening", exit_code=0), {"client": code})
    finally:
        del os.environ["LOOPBACK_TEST_SECRET"]
    check = result.checks[0]
    assert check.status == "passed", check.stderr
    seen = json.loads(check.stdout)
    assert "LOOPBACK_TEST_SECRET" not in seen["env"]
    assert set(seen["env"]) <= {
        "PATH",
        "HOME",
        "LANG",
        "LC_ALL",
        "PWD",
        "PYTHONUNBUFFERED",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONIOENCODING",
        "MALLOC_ARENA_MAX",
    }
    assert not any(seen["readable"].values()), seen["readable"]
    assert not any(seen["exists"][p] for p in paths if p != "/etc/shadow")
    assert seen["pids"] == [1, 2]  # bwrap's init and the program: nothing of the host
    assert seen["uid"] == 1000
    assert seen["usr_local"] == []
    assert "work" in seen["ls_root"] and "root" not in seen["ls_root"]


WRITER = """
import json, os
wrote = {}
for folder in ("/", "/etc", "/usr", "/usr/lib", "/dev", "/proc", "/work", "/tmp"):
    try:
        with open(os.path.join(folder, "planted"), "w") as f:
            f.write("x")
        wrote[folder] = True
    except OSError:
        wrote[folder] = False
print(json.dumps({"wrote": wrote, "etc": sorted(os.listdir("/etc"))}))
"""


def test_only_the_work_and_tmp_folders_are_writable(sandbox):
    result = grade(client_spec(peer="nothing_listening", exit_code=0), {"client": WRITER})
    check = result.checks[0]
    assert check.status == "passed", check.stderr
    seen = json.loads(check.stdout)
    writable = {folder for folder, wrote in seen["wrote"].items() if wrote}
    assert writable == {"/work", "/tmp"}
    assert set(seen["etc"]) <= {
        "ld.so.cache",
        "localtime",
        "nsswitch.conf",
        "protocols",
        "services",
        "hosts",
        "passwd",
        "group",
    }
    assert {"hosts", "passwd", "group"} <= set(seen["etc"])


KILLER = """
import os, signal, socket
for pid in range(1, 1 << 16):
    if pid != os.getpid():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
try:
    os.kill(os.getppid(), signal.SIGKILL)
except OSError:
    pass
with socket.create_connection(("127.0.0.1", 65432), timeout=2) as s:
    s.sendall(b"peers survive")
    print(s.recv(100).decode())
"""


def test_cannot_kill_its_parent_or_the_peers(sandbox):
    result = grade(client_spec(stdout_echoes_peer=True), {"client": KILLER})
    assert result.verdict == "passed", result.checks[0].message["en"]
    assert "peers survive" in result.checks[0].stdout


DAEMON = """
import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(600)
        sys.exit(0)
    os._exit(0)
print("parent leaves", flush=True)
"""


def test_double_forked_daemon_does_not_outlive_the_check(sandbox):
    result = grade(client_spec(exit_code=0), {"client": DAEMON})
    assert result.checks[0].status == "passed"
    assert live_sandbox_processes() == []


def test_host_loopback_listeners_are_unreachable(sandbox):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    accepted = []

    def watch() -> None:
        with contextlib.suppress(OSError):
            accepted.append(listener.accept())

    watcher = threading.Thread(target=watch)
    watcher.start()
    code = (
        f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), 1)\n"
        "    print('CONNECTED')\nexcept OSError as e:\n    print('refused', e)\n"
    )
    try:
        result = grade(client_spec(peer="nothing_listening", exit_code=0), {"client": code})
    finally:
        watcher.join()
        listener.close()
    assert "refused" in result.checks[0].stdout
    assert "CONNECTED" not in result.checks[0].stdout
    assert accepted == []
