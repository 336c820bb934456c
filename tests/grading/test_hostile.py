"""Hostile submissions: each gets a clear verdict, nothing of it survives the check, and
neither the host nor the next grading notices."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import resource
import socket
import subprocess
import sys
import threading

import pytest

from app.grading import bwrap, limits, uids
from app.grading import engine as engine_module
from app.grading.engine import grade
from app.grading.launcher_client import launcher_for
from tests.helpers import en, live_sandbox_processes

pytestmark = pytest.mark.sandbox
# The whole environment a sandboxed process may have (written out: not read from the code).
SANDBOX_ENV = {
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
    assert result.verdict == "passed", en(result.checks[0].message)


@pytest.fixture(autouse=True)
def nothing_survives(request, sandbox_start):
    """Every hostile program twice, in a pre-warmed sandbox and in one started cold
    (``sandbox_start``); after each, no process of a sandbox uid is left, and the next
    grading passes."""
    yield
    if "sandbox" in request.fixturenames:
        assert live_sandbox_processes() == []
        assert_next_grading_works()


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
    assert limits.LIMIT_NAMES[limit] in en(check.message)
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
    assert set(seen["env"]) <= SANDBOX_ENV
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
    assert result.verdict == "passed", en(result.checks[0].message)
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


# -- breaches closed by issue 9 ----------------------------------------------------------

PROC_SNOOP = """
import json, os
seen = {}
for pid in os.listdir("/proc"):
    if pid.isdigit() or pid in ("self", "thread-self"):
        for name in ("environ", "cmdline"):
            try:
                with open(f"/proc/{pid}/{name}", "rb") as handle:
                    items = handle.read().decode("latin-1").split("\\0")
            except OSError:
                items = None
            if items is not None and name == "environ":
                items = [item.split("=", 1)[0] for item in items if item]
            elif items is not None:
                items = [item for item in items if "must-not-leak" in item]
            seen[f"{pid}/{name}"] = items
print(json.dumps(seen))
"""

GRADE_IN_A_FRESH_GRADER = """
import json, sys
from app.grading.engine import grade
spec = json.loads(sys.argv[1])
result = grade(spec, {"client": sys.stdin.read()})
print(json.dumps(result.checks[0].stdout if result.checks else result.message))
"""


def test_no_process_in_the_sandbox_holds_the_graders_environment(sandbox):
    """bwrap's own process is pid 1 in the sandbox: its environment must be as clean as the
    program's. A fresh grader process, so its launchers start with the secret exported."""
    secret = "must-not-leak-7c1f9"
    env = {
        **os.environ,
        "LOOPBACK_TEST_SECRET": secret,
        "DATABASE_URL": f"postgresql://u:{secret}@h/d",
    }
    project = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            GRADE_IN_A_FRESH_GRADER,
            json.dumps(client_spec(peer="nothing_listening", exit_code=0)),
        ],
        input=PROC_SNOOP,
        capture_output=True,
        text=True,
        env=env,
        cwd=project,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(json.loads(done.stdout))
    assert secret not in done.stdout
    environs = {key: names for key, names in seen.items() if key.endswith("/environ")}
    assert environs and all(names is not None for names in environs.values()), environs
    for key, names in environs.items():
        assert set(names) <= SANDBOX_ENV, (key, set(names) - SANDBOX_ENV)
    for key, leaks in seen.items():
        if key.endswith("/cmdline"):
            assert leaks == [], key


SLOW_DRIP_SERVER = """
import socket, time
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 65432))
server.listen()
conn, _ = server.accept()
while conn.recv(65536):  # each of the client's send() calls waits, but less than its timeout
    time.sleep(0.5)
"""


def test_a_check_ends_within_its_wall_limit_whatever_the_peer_waits_for(sandbox):
    """A server that drips its reads keeps the reference client's every send() waiting:
    the check's deadline covers the peer's blocking calls too."""
    timeout_ms = 2000
    spec = {
        "checks": [
            {
                "id": "drip",
                "title": {"en": "drip", "zh": "drip"},
                "role": "server",
                "peer": {"kind": "tcp_client", "size": 4 << 20, "chunk": 65536},
                "timeout_ms": timeout_ms,
                "expect": [{"echo_exact": True}],
            }
        ]
    }
    result = grade(spec, {"server": SLOW_DRIP_SERVER})
    check = result.checks[0]
    assert check.status == "failed"
    assert check.resources["limit"] == "time"
    assert "wall-clock time limit" in en(check.message)
    assert check.duration_ms <= timeout_ms + engine_module.WALL_GRACE_MS, check.duration_ms
    assert live_sandbox_processes() == []
    assert_next_grading_works()


SOCKET_HOARDER = """
import os, socket
def hoard(pairs):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    queued = 0
    keep = []
    for _ in range(pairs):
        writer = socket.create_connection(listener.getsockname())
        reader, _ = listener.accept()
        writer.setblocking(False)
        keep.append((writer, reader))
        chunk = b"x" * 65536
        while True:
            try:
                queued += writer.send(chunk)
            except OSError:
                break
    return queued, keep
with open("/proc/sys/net/ipv4/tcp_rmem") as rmem, open("/proc/sys/net/ipv4/tcp_wmem") as wmem:
    print("buffers", rmem.read().split()[2], wmem.read().split()[2], flush=True)
hoarded_r, hoarded_w = os.pipe()  # each child says it has hoarded...
release_r, release_w = os.pipe()  # ...and keeps its sockets until every process has
children = []
for _ in range(3):  # four processes in all
    pid = os.fork()
    if pid == 0:
        children = None
        break
    children.append(pid)
if children is None:
    os.close(hoarded_r), os.close(release_w)
    queued, keep = hoard(60)
    os.write(1, f"child {queued}\\n".encode())
    os.write(hoarded_w, b"!")
    os.read(release_r, 1)
    os._exit(0)
os.close(hoarded_w), os.close(release_r)
queued, keep = hoard(60)
for _ in children:
    os.read(hoarded_r, 1)
os.write(1, f"parent {queued}\\n".encode())
os.write(release_w, b"!" * len(children))
for pid in children:
    os.waitpid(pid, 0)
"""


def test_socket_buffers_count_against_the_memory_limit(sandbox, monkeypatch):
    """Data queued on loopback sockets lives in the kernel: it is charged to the run and
    capped, and a run that reaches the cap is told it hit the memory limit.

    Every process keeps its sockets until all have filled theirs: the cap bounds what a run
    holds at once, so processes that hoard one after another (each exiting before the next
    starts) may each fill the per-socket maxima without reaching it, and rightly so."""
    seen = _socket_cap_readings(monkeypatch)
    result = grade(
        client_spec(timeout_ms=8000, peer="nothing_listening", exit_code=0),
        {"client": SOCKET_HOARDER},
    )
    check = result.checks[0]
    lines = [line.split() for line in check.stdout.splitlines()]
    queued = [int(line[1]) for line in lines if line[:1] in (["parent"], ["child"])]
    buffers = next(line[1:] for line in lines if line[:1] == ["buffers"])
    assert buffers == [str(512 << 10), str(256 << 10)]  # maxima in the check's namespace
    assert len(queued) == 4, check.stdout
    # Uncapped, four processes would queue 4 x 60 x 291,456 B (~70 MB): the per-socket
    # maxima. The kernel lets each socket keep a minimum beyond the cap (~4 MB a process).
    assert sum(queued) <= limits.SOCKET_MEMORY_BYTES * 3 // 2, (queued, seen)
    assert check.resources["limit"] == "memory", (check.resources, check.stdout, seen)
    assert "memory limit" in en(check.message)
    assert live_sandbox_processes() == []
    assert_next_grading_works()


def _socket_cap_readings(monkeypatch) -> list[dict]:
    """What the run's cgroup said of its socket memory when the grader asked, for the
    failure message: the cap's limit, usage and high-water mark."""
    from app.grading.cgroups import RunCgroup

    seen: list[dict] = []
    asked = RunCgroup.memory_limit_hit

    def reading(self) -> bool:
        files = ("limit_in_bytes", "usage_in_bytes", "max_usage_in_bytes")
        tcp = {}
        for name in files:
            with contextlib.suppress(OSError):
                tcp[name] = (self.memory_dir / f"memory.kmem.tcp.{name}").read_text().strip()
        seen.append({"group": str(self.memory_dir), "version": self.version, "tcp": tcp})
        return asked(self)

    monkeypatch.setattr(RunCgroup, "memory_limit_hit", reading)
    return seen


SELF_FIN_SERVER = """
import socket, time
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 65432))
server.listen()
decoy = socket.create_connection(("127.0.0.1", 65432))
held = []
while True:
    conn, address = server.accept()
    if address == decoy.getsockname():
        decoy.close()  # the FIN a packet check looks for, on a connection of its own
        conn.close()
        break
    held.append(conn)
if not held:
    held.append(server.accept()[0])
time.sleep(4)  # the reference client's connection is held, not closed
"""


def test_packet_facts_are_judged_on_the_reference_peers_connections_only(sandbox, bank):
    result = grade(bank["tcp-teardown"].spec, {"server": SELF_FIN_SERVER})
    check = next(c for c in result.checks if c.id == "server-graceful-close")
    assert check.status == "failed"
    failed = {e["name"] for e in check.expectations if not e["ok"]}
    assert "fin_within_ms" in failed, check.expectations
    assert any(row.get("foreign") for row in check.trace)


DENIED_CALLS = {  # x86_64 numbers: the program asks the kernel directly, as an attacker would
    "keyctl": 250,
    "add_key": 248,
    "request_key": 249,
    "io_uring_setup": 425,
    "userfaultfd": 323,
    "ptrace": 101,
    "perf_event_open": 298,
    "bpf": 321,
}

SYSCALL_PROBE = """
import ctypes, json
libc = ctypes.CDLL(None, use_errno=True)
errors = {}
for name, number in CALLS.items():
    ctypes.set_errno(0)
    libc.syscall(number, 0, 0, 0, 0, 0)
    errors[name] = ctypes.get_errno()
print(json.dumps(errors))
"""


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="syscall numbers of x86_64")
def test_dangerous_system_calls_are_denied(sandbox):
    code = f"CALLS = {DENIED_CALLS!r}\n" + SYSCALL_PROBE
    result = grade(client_spec(peer="nothing_listening", exit_code=0), {"client": code})
    check = result.checks[0]
    assert check.status == "passed", check.stderr
    errors = json.loads(check.stdout)
    assert errors == {name: errno.ENOSYS for name in DENIED_CALLS}


KEY_PLANTER = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
KEY_SPEC_USER_KEYRING = -4
serial = libc.syscall(248, b"user", b"planted", b"secret", 6, KEY_SPEC_USER_KEYRING)
print("planted" if serial > 0 else f"refused {ctypes.get_errno()}")
"""

KEY_READER = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
KEY_SPEC_USER_KEYRING, KEYCTL_SEARCH, KEYCTL_READ = -4, 10, 11
found = libc.syscall(250, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, b"user", b"planted", 0) > 0
with open("/proc/keys") as handle:  # every key this uid may view, linked or not
    listed = [int(line.split()[0], 16) for line in handle if "planted" in line]
buffer = ctypes.create_string_buffer(64)
readable = [serial for serial in listed if libc.syscall(250, KEYCTL_READ, serial, buffer, 64) > 0]
print("found" if found or readable else "gone")
"""


def test_a_key_planted_under_a_uid_is_gone_for_its_next_run(sandbox):
    """Below the syscall filter too: the launcher clears the leased uid's keyrings before
    each run, so even a key planted without the sandbox cannot reach the next run."""
    outputs = []
    # the third run: clearing must not revoke the uid's own keyrings (ENOKEY from then on
    # made every later run of the uid fail before it started)
    for code in (KEY_PLANTER, KEY_READER, "print('runs')"):
        lease = uids.UIDS.acquire()
        try:
            launcher = launcher_for(lease.uid)
            read_end, write_end = os.pipe()
            netns = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
            stdin = os.open(os.devnull, os.O_RDONLY)
            try:
                pid = launcher.spawn(
                    [bwrap.SANDBOX_PYTHON, "-c", code],
                    [netns, stdin, write_end, write_end],
                    uid=lease.uid,
                )
            finally:
                for fd in (netns, stdin, write_end):
                    os.close(fd)
            launcher.wait(pid)
            with os.fdopen(read_end, "rb") as pipe:
                outputs.append(pipe.read().decode().strip())
        finally:
            uids.UIDS.release(lease)
    assert outputs[0] == "planted"  # outside bwrap, so no filter: the key really exists
    assert outputs[1].startswith("gone"), outputs
    assert outputs[2] == "runs", outputs


HOST_FACTS = """
import json
facts = {}
for path in ("/proc/cmdline", "/proc/sys/kernel/random/boot_id"):
    try:
        with open(path) as handle:
            facts[path] = handle.read()
    except OSError:
        facts[path] = None
print(json.dumps(facts))
"""


def test_host_facts_are_masked(sandbox):
    result = grade(client_spec(peer="nothing_listening", exit_code=0), {"client": HOST_FACTS})
    check = result.checks[0]
    assert check.status == "passed", check.stderr
    facts = json.loads(check.stdout)
    with open("/proc/cmdline") as handle:
        host_cmdline = handle.read().strip()
    with open("/proc/sys/kernel/random/boot_id") as handle:
        host_boot_id = handle.read().strip()
    assert host_cmdline not in (facts["/proc/cmdline"] or "")
    assert host_boot_id not in (facts["/proc/sys/kernel/random/boot_id"] or "")


UDP_FLOODER = """
import os, socket, time
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setblocking(False)
big = b"x" * 60000
end = time.monotonic() + 2
sent = 0
while time.monotonic() < end:
    try:
        sock.sendto(big, ("127.0.0.1", 65432))
        sent += 1
    except OSError:
        pass
    try:
        while sock.recv(65536):
            pass
    except OSError:
        pass
print("sent", sent)
"""

TCP_FLOODER = """
import socket, time
conn = socket.create_connection(("127.0.0.1", 65432))
conn.setblocking(False)
chunk = b"x" * 65536
end = time.monotonic() + 2
while time.monotonic() < end:
    try:
        conn.send(chunk)
    except BlockingIOError:
        pass
    try:
        while conn.recv(1 << 20):
            pass
    except BlockingIOError:
        pass
print("done")
"""


@pytest.mark.parametrize(
    ("peer", "code"),
    [
        ({"kind": "udp_ack_server", "nonce": True}, UDP_FLOODER),
        ({"kind": "tcp_echo_server", "nonce": True}, TCP_FLOODER),
    ],
    ids=["udp", "tcp"],
)
def test_a_flood_costs_the_grader_little_more_than_the_program(sandbox, peer, code):
    """The grader's own work per check is bounded: a flooding program's CPU time buys
    less than half as much in the grader (it was about as much, with one
    secrets.choice per byte of a nonce reply and no budget)."""
    spec = client_spec(timeout_ms=4000, **{"exit_code": 0})
    spec["checks"][0]["peer"] = peer
    before = resource.getrusage(resource.RUSAGE_SELF)
    result = grade(spec, {"client": code})
    after = resource.getrusage(resource.RUSAGE_SELF)
    check = result.checks[0]
    grader_ms = ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000
    program_ms = check.resources["cpu_ms"]
    assert program_ms and program_ms > 500, check.resources  # it really flooded
    assert grader_ms < program_ms / 2, (grader_ms, program_ms)
    assert live_sandbox_processes() == []


ODD_DATAGRAMS = """
import socket
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(2)
sock.sendto(b"x" * 65507, ("127.0.0.1", 65432))  # the largest datagram: no room for a prefix
try:
    sock.recv(65536)
except OSError:
    pass
sock.sendto(b"after", ("127.0.0.1", 65432))
print(sock.recv(65536).decode())
"""


def test_the_udp_peer_survives_a_datagram_too_big_to_answer(sandbox):
    spec = client_spec(peer="udp_ack_server", exit_code=0)
    result = grade(spec, {"client": ODD_DATAGRAMS})
    check = result.checks[0]
    assert check.status == "passed", (check.stdout, check.stderr)
    assert "ACK: after" in check.stdout
    assert "65507" in en(check.peer["error"] or ""), check.peer


OTHER_PORT_UDP_SERVER = """
import socket
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 65432))
other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    data, address = sock.recvfrom(65536)
    other.sendto(b"ACK: " + data, address)  # right words, wrong source port
"""


def test_a_udp_reply_must_come_from_the_servers_port(sandbox, bank):
    result = grade(bank["udp-echo"].spec, {"server": OTHER_PORT_UDP_SERVER})
    check = next(c for c in result.checks if c.id == "server-acks-each-sender")
    assert check.status == "failed"
    failed = [e for e in check.expectations if not e["ok"]]
    assert failed and failed[0]["name"] == "udp_replies"
    assert "65432" in en(failed[0]["actual"])


@pytest.mark.parametrize("address", ["127.0.0.2", "::1"])
def test_a_server_listening_on_another_address_is_named(sandbox, address):
    family = "AF_INET6" if ":" in address else "AF_INET"
    code = (
        f"import socket, time\ns = socket.socket(socket.{family})\n"
        f"s.bind(({address!r}, 65432))\ns.listen()\ntime.sleep(30)\n"
    )
    spec = {
        "checks": [
            {
                "id": "listen",
                "title": {"en": "listen", "zh": "listen"},
                "role": "server",
                "peer": {"kind": "tcp_client", "messages": ["hi"]},
                "timeout_ms": 3000,
                "expect": [{"echo_exact": True}],
            }
        ]
    }
    check = grade(spec, {"server": code}).checks[0]
    assert check.status == "failed"
    assert address in en(check.message), en(check.message)
    assert check.duration_ms < 2500
