"""The engine as a library: verdicts, skipped roles, spec errors, parallel checks, and no
unsandboxed fallback."""

from __future__ import annotations

import threading

import pytest

from app.grading import bwrap, engine
from app.grading import sandbox as sandbox_module
from app.grading.spec import validate_spec
from tests.helpers import en

ECHO_CLIENT = """
import socket
with socket.create_connection(("localhost", 65432), timeout=2) as s:
    s.sendall(b"ping")
    print("got", s.recv(100).decode())
"""


def echo_spec(**check) -> dict:
    base = {
        "id": "echo",
        "title": {"en": "Echo", "zh": "回显"},
        "role": "client",
        "peer": {"kind": "tcp_echo_server"},
        "expect": [{"stdout_echoes_peer": True}, {"handshake": True}],
    }
    return {"checks": [{**base, **check}]}


def test_spec_errors_name_the_place():
    spec = echo_spec(peer={"kind": "tcp_echo_server", "bogus": 1})
    errors = validate_spec(spec)
    assert errors and errors[0].path[:3] == ["checks", 0, "peer"]
    assert validate_spec({"checks": []})[0].path == ["checks"]
    dup = {"checks": echo_spec()["checks"] * 2}
    assert "duplicate check id" in str(validate_spec(dup)[0])
    assert "not one of the question's roles" in str(validate_spec(echo_spec(), ["server"])[0])
    assert validate_spec(echo_spec(), ["client"]) == []


def test_invalid_spec_is_a_grader_error():
    result = engine.grade({"checks": [{"id": "x"}]}, {"client": "print(1)"})
    assert result.verdict == "error"
    assert "Invalid grading spec" in en(result.message)


@pytest.mark.sandbox
def test_progress_events_and_result_shape(sandbox):
    events = []
    result = engine.grade(echo_spec(), {"client": ECHO_CLIENT}, on_event=events.append)
    assert result.verdict == "passed" and result.score == 1.0
    assert [e["type"] for e in events] == ["check_started", "check_finished"]
    assert events[1]["check"]["status"] == "passed"
    check = result.checks[0]
    assert check.resources["exit_code"] == 0 and check.duration_ms > 0
    flags = [(p["from"], p["flags"]) for p in check.trace[:3]]
    assert flags == [("client", ["SYN"]), ("server", ["SYN", "ACK"]), ("client", ["ACK"])]
    assert result.to_dict()["engine_version"] == engine.ENGINE_VERSION


HUNGRY = """
import time
block = bytearray(96 << 20)
for i in range(0, len(block), 4096):
    block[i] = 1
spin_until = time.process_time() + 0.3
while time.process_time() < spin_until:
    pass
print("done")
"""


@pytest.mark.sandbox
def test_resources_report_cpu_time_and_peak_memory_per_run(sandbox):
    spec = echo_spec(peer={"kind": "nothing_listening"}, expect=[{"exit_code": 0}])
    hungry, idle = (
        engine.grade(spec, {"client": code}).checks[0].resources
        for code in (HUNGRY, "print('done')\n")
    )
    assert hungry["cpu_ms"] >= 300
    assert hungry["peak_memory_bytes"] >= 96 << 20
    # The next run of the same slot starts from zero, not from the last one's figures.
    assert idle["cpu_ms"] < 300
    assert idle["peak_memory_bytes"] < 32 << 20


@pytest.mark.sandbox
def test_missing_roles_are_skipped_and_reported(sandbox):
    spec = echo_spec()
    spec["checks"].append(
        {
            **echo_spec()["checks"][0],
            "id": "srv",
            "role": "server",
            "peer": {"kind": "tcp_client", "messages": ["x"]},
            "expect": [{"echo_exact": True}],
        }
    )
    result = engine.grade(spec, {"client": ECHO_CLIENT})
    assert [c.status for c in result.checks] == ["passed", "skipped"]
    assert result.skipped_roles == ["server"]
    assert result.verdict == "passed"
    assert "server" in en(result.message)


@pytest.mark.sandbox
def test_parallel_gradings_share_port_65432_without_colliding(sandbox):
    results = []

    def run() -> None:
        results.append(engine.grade(echo_spec(), {"client": ECHO_CLIENT}))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.verdict for r in results] == ["passed"] * 4


def test_no_sandbox_means_error_never_unsandboxed(monkeypatch, tmp_path):
    marker = tmp_path / "ran"
    monkeypatch.setattr(bwrap, "SANDBOX_PYTHON", "/nonexistent/python3")
    sandbox_module.sandbox_problem.cache_clear()
    try:
        code = f"open({str(marker)!r}, 'w').write('x')\n"
        result = engine.grade(echo_spec(), {"client": code})
    finally:
        sandbox_module.sandbox_problem.cache_clear()
    assert result.verdict == "error"
    assert "cannot run code safely" in en(result.message)
    assert not marker.exists()


def test_an_invalid_regular_expression_is_a_spec_error():
    spec = echo_spec(expect=[{"stdout_matches": "("}])
    errors = validate_spec(spec)
    assert errors and "invalid regular expression" in str(errors[0])
    assert errors[0].path == ["checks", 0, "expect", 0, "stdout_matches"]
