"""Pre-warmed sandboxes (app/grading/warm.py): a program cannot tell a spare from a cold
start, a spare serves one check and dies with it, and a spare that cannot take its run
gives way to a cold start."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from app.grading import engine
from app.grading.engine import grade
from app.grading.errors import SandboxUnavailable
from app.grading.limits import Limits, MiB
from app.grading.warm import SPARE_POOL, SparePool, WarmSandbox, runs_alike
from tests.helpers import en, live_sandbox_processes

pytestmark = pytest.mark.sandbox

# What a program can learn about how it was started.
PROBE = r"""
import json, os, resource, stat, sys
facts = {
    "argv": sys.argv, "orig_argv": sys.orig_argv[1:], "path0": sys.path[0],
    "file": __file__, "name": __name__, "spec": repr(__spec__),
    "loader": type(__loader__).__name__, "package": __package__,
    "main_is_us": sys.modules["__main__"].__dict__ is globals(),
    "cwd": os.getcwd(), "uid": os.getuid(), "gid": os.getgid(), "env": dict(os.environ),
    "fds": sorted(os.listdir("/proc/self/fd")), "work": sorted(os.listdir("/work")),
    "tmp": os.listdir("/tmp"), "mode": oct(stat.S_IMODE(os.stat(__file__).st_mode)),
    "stdin": [sys.stdin.read(), stat.S_ISCHR(os.fstat(0).st_mode)],
    "flags": str(sys.flags), "umask": os.umask(0),
    "limits": [resource.getrlimit(getattr(resource, n)) for n in dir(resource)
               if n.startswith("RLIMIT_")],
    "processes": len([p for p in os.listdir("/proc") if p.isdigit()]),
}
print(json.dumps(facts, sort_keys=True))
"""


def one_check(timeout_ms: int = 3000, **expect) -> dict:
    return {
        "checks": [
            {
                "id": "run",
                "title": {"en": "run", "zh": "运行"},
                "role": "client",
                "peer": {"kind": "tcp_echo_server"},
                "finish": "exit",
                "timeout_ms": timeout_ms,
                "expect": [{k: v} for k, v in (expect or {"exits_within_ms": 3000}).items()],
            }
        ]
    }


def run(code: str, spec: dict | None = None):
    return grade(spec or one_check(), {"client": code}).checks[0]


@pytest.mark.parametrize(
    "code",
    [
        PROBE,
        "import sys\nsys.exit(3)\n",
        "import sys\nsys.exit('bye')\n",
        "def f():\n    raise ValueError('boom')\nf()\n",
        "print('half'\n",
        "import threading, time\n"
        "threading.Thread(target=lambda: (time.sleep(0.2), print('late'))).start()\n"
        "raise KeyError('k')\n",
        "import atexit\natexit.register(print, 'at exit')\ninput()\n",
        "import os, signal\nos.kill(os.getpid(), signal.SIGINT)\n",
        "import sys\nsys.excepthook = lambda *a: 1 / 0\nraise ValueError('v')\n",
        "import sys\ndel sys.excepthook\nraise ValueError('v')\n",
        "print('a\\x00b')\nprint('after')\x00\n",
        "\ufeff# coding: latin-1\nprint(1)\n",
        "# coding: ascii\nprint('\u00e9')\n",
    ],
    ids=[
        "probe",
        "exit_code",
        "exit_message",
        "traceback",
        "syntax",
        "threads",
        "atexit",
        "keyboard_interrupt",
        "failing_excepthook",
        "no_excepthook",
        "null_byte",
        "bom_and_latin1",
        "ascii_declared",
    ],
)
def test_a_program_cannot_tell_a_spare_from_a_cold_start(sandbox, monkeypatch, code):
    seen = {}
    for mode in ("warm", "cold"):
        monkeypatch.setattr(SPARE_POOL, "size", 2 if mode == "warm" else 0)
        if mode == "warm":
            assert SPARE_POOL.prime(Limits())
        check = run(code)
        seen[mode] = (check.stdout, check.stderr, check.resources["exit_code"])
    assert seen["warm"] == seen["cold"]
    if code is PROBE:
        facts = json.loads(seen["warm"][0])
        assert facts["argv"] == facts["orig_argv"][-1:] == ["client.py"]
        assert facts["work"] == ["client.py"] and facts["fds"] == ["0", "1", "2", "3"]
        assert facts["processes"] == 2  # bwrap and the program: no stub left beside it


@pytest.mark.parametrize(
    ("files", "alike"),
    [
        ({"client.py": "print('é')\n"}, True),
        ({"client.py": "# -*- coding: utf-8 -*-\nprint(1)\n"}, True),
        ({"client.py": "print(1)\x00\n"}, False),
        ({"client.py": "#!/usr/bin/python3\n# vim: set fileencoding=latin-1 :\n"}, False),
        ({"client.py": "\ufeff# coding: latin-1\n"}, False),
        ({"client.py": "x = '\udc80'\n"}, False),
        ({"socket.py": "print(1)\n"}, False),
        ({"enum.py": "print(1)\n"}, False),
    ],
)
def test_files_the_stub_would_run_differently_start_cold(files, alike):
    assert runs_alike(files) is alike


def test_each_check_runs_in_its_own_spare_used_once(sandbox, sandbox_start, monkeypatch):
    spares = []
    go = engine.WarmSandbox.go

    def recording(self, *args):
        spares.append(self)
        return go(self, *args)

    monkeypatch.setattr(engine.WarmSandbox, "go", recording)
    checks = [one_check()["checks"][0] | {"id": f"run-{n}"} for n in range(3)]
    result = grade({"checks": checks}, {"client": "import time\ntime.sleep(0.05)\n"})
    assert result.verdict == "passed", en(result.message)
    if sandbox_start == "warm":
        assert len({id(spare) for spare in spares}) == len(spares) == 3
        assert all(not spare.running() and spare.namespace is None for spare in spares)
    else:
        assert spares == []
    assert live_sandbox_processes() == []


LEAVES_TRACES = r"""
import os, socket, subprocess, sys
listener = socket.socket()
listener.bind(("127.0.0.1", 7000))
listener.listen()
open("/tmp/mark", "w").write("x")
open("/work/mark", "w").write("x")
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
print("left")
"""
FINDS_TRACES = r"""
import os, socket
try:
    socket.create_connection(("127.0.0.1", 7000), timeout=1)
    found = ["listener"]
except OSError:
    found = []
found += [p for p in ("/tmp/mark", "/work/mark") if os.path.exists(p)]
found += ["process"] * (len([p for p in os.listdir("/proc") if p.isdigit()]) - 2)
print("found", found)
"""


def test_nothing_of_one_check_reaches_the_next(sandbox, sandbox_start):
    """The second spare is made while the first check runs: it must not see its sockets,
    files or processes."""
    assert run(LEAVES_TRACES).stdout == "left\n"
    assert run(FINDS_TRACES).stdout == "found []\n"
    assert live_sandbox_processes() == []


def test_the_clock_starts_when_the_program_does(sandbox, sandbox_start):
    time.sleep(1.0)  # a spare that waited long before its check
    check = run("pass\n")
    assert check.status == "passed"
    assert check.resources["wall_ms"] < 500


def test_a_spare_is_only_used_under_its_own_limits(sandbox, sandbox_start):
    """A spare made for the default limits never serves a check with a lower memory
    limit: the 64 MiB check still stops a program that needs 128 MiB."""
    SPARE_POOL.prime(Limits())
    spec = one_check(exit_code=0) | {"limits": {"memory_bytes": 64 * MiB}}
    check = run("block = bytearray(128 << 20)\nprint(len(block))\n", spec)
    assert check.status == "failed"
    assert check.resources["limit"] == "memory", en(check.message)


def test_a_dead_spare_gives_way_to_a_cold_start(sandbox, monkeypatch):
    monkeypatch.setattr(SPARE_POOL, "size", 1)
    SPARE_POOL.close()
    assert SPARE_POOL.prime(Limits())
    spare = SPARE_POOL._ready[0]
    os.kill(spare.pid, signal.SIGKILL)
    spare.wait(2)
    check = run("print('ran')\n", one_check(stdout_matches="ran"))
    assert check.status == "passed", en(check.message)
    assert spare not in SPARE_POOL._ready
    assert live_sandbox_processes() == []


def test_a_spare_that_cannot_take_its_run_gives_way_to_a_cold_start(sandbox, monkeypatch):
    """The spare is alive when taken but never answers the handover (here: its control
    socket is gone): the check starts cold, in the same namespace, and passes."""
    monkeypatch.setattr(SPARE_POOL, "size", 1)
    SPARE_POOL.close()
    assert SPARE_POOL.prime(Limits())
    SPARE_POOL._ready[0]._control.close()
    check = run("print('ran')\n", one_check(stdout_matches="ran"))
    assert check.status == "passed", en(check.message)
    assert live_sandbox_processes() == []


def test_a_spare_that_fails_to_start_and_to_clean_up_leaves_the_pool_working(sandbox, monkeypatch):
    pool = SparePool(size=1)
    prepare, finish = WarmSandbox.prepare, WarmSandbox.finish

    def broken(self):
        raise SandboxUnavailable("cannot start")

    def stuck(self, wait=False):
        raise SandboxUnavailable("processes of sandbox uid 1 survive")

    monkeypatch.setattr(WarmSandbox, "prepare", broken)
    monkeypatch.setattr(WarmSandbox, "finish", stuck)
    assert pool.prime(Limits(), timeout=5) is False
    monkeypatch.setattr(WarmSandbox, "prepare", prepare)
    monkeypatch.setattr(WarmSandbox, "finish", finish)
    assert pool.prime(Limits(), timeout=10) is True
    pool.close()
