"""The grading engine: (spec, files) -> result. No Flask; web, workers, CLI and API share it.

Each check runs in a fresh private loopback namespace: capture starts, the reference peer
starts, the submitted program starts in its sandbox, the harness drives the exchange, then
everything is torn down and the observation is judged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from app.grading import trace
from app.grading.checks import Observation, excerpt
from app.grading.judge import judge
from app.grading.limits import Limits
from app.grading.listening import wait_listening
from app.grading.messages import Message, msg, role_name
from app.grading.netns import NamespaceError, entered, private_loopback
from app.grading.peers import Peer, make_peer
from app.grading.sandbox import RunResult, Sandbox, SandboxUnavailable, sandbox_problem
from app.grading.spec import DEFAULT_PORT, SpecError, check_spec
from app.grading.warm import SPARE_POOL, WarmSandbox

ENGINE_VERSION = "2.1"  # 2: messages are ids + parameters (messages.py); 2.1: bare diff bytes
EXCERPT_BYTES = 4096
DEFAULT_SETTLE_MS = 100
# A check ends within its wall-clock limit plus this: the limit stops the program and
# wakes the peer; tearing down the sandbox, the peer and the capture takes the rest.
WALL_GRACE_MS = 1000

Callback = Callable[[dict[str, Any]], None]


@dataclass
class CheckResult:
    id: str
    title: dict[str, str]
    role: str
    required: bool
    status: str  # passed | failed | error | skipped
    message: Message
    expectations: list[dict[str, Any]] = field(default_factory=list)
    hint: dict[str, str] | None = None
    # The targeted hints (spec ``hints``) whose condition was diagnosed.
    hints: list[dict[str, Any]] = field(default_factory=list)
    # What went wrong, for the reader and for hints: {conditions: [...], crash: {...}|None}.
    diagnosis: dict[str, Any] = field(default_factory=dict)
    stdout: str = ""
    stderr: str = ""
    duration_ms: int = 0
    resources: dict[str, Any] = field(default_factory=dict)
    peer: dict[str, Any] = field(default_factory=dict)
    trace: list[dict[str, Any]] = field(default_factory=list)
    # What the reference peer and the program said, in order (transcript.Transcript).
    transcript: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class GradeResult:
    verdict: str  # passed | failed | error
    score: float
    checks: list[CheckResult]
    message: Message
    skipped_roles: list[str] = field(default_factory=list)
    duration_ms: int = 0
    engine_version: str = ENGINE_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def grade(
    spec: dict[str, Any],
    files: dict[str, str],
    on_event: Callback | None = None,
    limits: Limits | None = None,
) -> GradeResult:
    """Grade ``files`` (role -> source) against ``spec``. Never raises for bad submissions;
    an invalid spec or an unusable sandbox gives verdict ``error``."""
    started = time.monotonic()
    emit = on_event or (lambda event: None)
    try:
        check_spec(spec)
    except SpecError as exc:
        return _error_result(msg("grade.invalid_spec", error=str(exc)), started)
    problem = sandbox_problem()
    if problem:
        return _error_result(msg("grade.unsafe", problem=problem), started)

    limits = (limits or Limits()).with_overrides(spec.get("limits"))
    port = spec.get("port", DEFAULT_PORT)
    checks = spec["checks"]
    skipped_roles = sorted({c["role"] for c in checks if c["role"] not in files})
    results: list[CheckResult] = []
    for index, check in enumerate(checks):
        base = {"index": index, "total": len(checks), "id": check["id"], "title": check["title"]}
        emit({"type": "check_started", **base})
        if check["role"] in files:
            result = run_check(check, files[check["role"]], limits, port)
        else:
            result = _skipped(check)
        results.append(result)
        emit({"type": "check_finished", **base, "check": asdict(result)})
    return _verdict(results, skipped_roles, started)


def _verdict(results: list[CheckResult], skipped_roles: list[str], started: float) -> GradeResult:
    graded = [r for r in results if r.required and r.status != "skipped"]
    passed = sum(r.status == "passed" for r in graded)
    score = round(passed / len(graded), 4) if graded else 0.0
    duration = int((time.monotonic() - started) * 1000)
    if not graded:
        return GradeResult(
            "error",
            0.0,
            results,
            msg("grade.nothing_to_grade"),
            skipped_roles,
            duration,
        )
    if any(r.status == "error" for r in graded):
        verdict = "error"
        message = msg("grade.grader_failed")
    elif passed == len(graded):
        verdict = "passed"
        message = msg("grade.all_passed", passed=passed)
    else:
        verdict = "failed"
        message = msg("grade.some_passed", passed=passed, graded=len(graded))
    if skipped_roles:
        roles = [role_name(role) for role in skipped_roles]
        message = msg("grade.with_skipped", summary=message, roles=roles)
    return GradeResult(verdict, score, results, message, skipped_roles, duration)


def _error_result(message: Message, started: float) -> GradeResult:
    return GradeResult(
        "error", 0.0, [], message, duration_ms=int((time.monotonic() - started) * 1000)
    )


def _skipped(check: dict[str, Any]) -> CheckResult:
    return CheckResult(
        check["id"],
        check["title"],
        check["role"],
        check.get("required", True),
        "skipped",
        msg("check.skipped", role=check["role"]),
    )


# -- one check -------------------------------------------------------------------------
def run_check(check: dict[str, Any], code: str, limits: Limits, port: int) -> CheckResult:
    started = time.monotonic()
    result = CheckResult(
        check["id"],
        check["title"],
        check["role"],
        check.get("required", True),
        "error",
        msg("grade.grader_failed"),
        hint=check.get("hint"),
    )
    try:
        observation, harness_problem = _observe(check, code, limits, port)
    except (SandboxUnavailable, NamespaceError) as exc:
        result.message = msg("check.cannot_run", error=str(exc))
        result.duration_ms = int((time.monotonic() - started) * 1000)
        return result
    judge(result, check, observation, harness_problem, limits)
    run = observation.run
    result.stdout = excerpt(run.stdout[:EXCERPT_BYTES], EXCERPT_BYTES)
    result.stderr = excerpt(run.stderr[:EXCERPT_BYTES], EXCERPT_BYTES)
    result.resources = {
        "wall_ms": run.wall_ms,
        "cpu_ms": run.cpu_ms,
        "peak_memory_bytes": run.peak_memory_bytes,
        "exit_code": run.exit_code,
        "signal": run.signal,
        "stopped_by_grader": run.killed,
        "limit": run.limit,
        "stdout_bytes": run.stdout_bytes,
        "stderr_bytes": run.stderr_bytes,
    }
    result.peer = _peer_summary(observation.peer)
    peer_ports = observation.peer_ports if observation.program_is_server else None
    result.trace = trace.to_json(observation.packets, port, peer_ports)
    result.transcript = observation.peer["transcript"]
    result.duration_ms = int((time.monotonic() - started) * 1000)
    return result


def _observe(
    check: dict[str, Any], code: str, limits: Limits, port: int
) -> tuple[Observation, dict[str, Any] | None]:
    """Run the program against its peer in a private namespace and record everything."""
    role = check["role"]
    peer = make_peer(check["peer"], port)
    program_is_server = not peer.is_server
    finish = check.get("finish") or ("peer" if program_is_server else "exit")
    timeout_s = check.get("timeout_ms", limits.wall_ms) / 1000
    settle_s = check.get("settle_ms", DEFAULT_SETTLE_MS) / 1000
    script = check.get("stdin") or []
    stdin_sent: list[str] = []
    problem: dict[str, Any] | None = None

    with _check_namespace(limits) as spare:
        capture = trace.Capture(port)
        sandbox: Sandbox | None = None
        ended = threading.Event()
        watchdog: threading.Timer | None = None
        try:
            peer.start()
            sandbox = _start_program(spare, role, code, limits, bool(script))
            deadline = time.monotonic() + timeout_s
            watchdog = threading.Timer(timeout_s, _expire, (sandbox, peer))
            watchdog.daemon = True
            watchdog.start()
            if script:
                threading.Thread(
                    target=_feed_stdin, args=(sandbox, script, stdin_sent, ended), daemon=True
                ).start()
            if program_is_server:
                problem = wait_listening(sandbox, peer.kind.startswith("udp"), port, deadline)
                if problem is None:
                    peer.drive(deadline)
            if finish == "exit":
                if not sandbox.wait(max(deadline - time.monotonic(), 0)):
                    sandbox.stop("time")
            else:
                _wait_for_peer(sandbox, peer, deadline)
                sandbox.wait(settle_s)
        finally:
            ended.set()
            if watchdog is not None:
                watchdog.cancel()
            try:
                run = sandbox.finish() if sandbox is not None else RunResult()
            finally:  # whatever happened, the peer and the capture end with the check
                peer.stop()
                packets = capture.collect()
    observation = Observation(
        run, peer.observation(), packets, port, program_is_server, stdin_sent, capture.complete
    )
    return observation, problem


@contextmanager
def _check_namespace(limits: Limits) -> Iterator[WarmSandbox | None]:
    """Run the body in the check's fresh namespace: a spare's (warm.py), yielded to take
    the program, or a new one. A spare never finishes alive: it serves this check only."""
    spare = SPARE_POOL.take(limits)
    try:
        with entered(spare.namespace) if spare else private_loopback():
            yield spare
    finally:
        if spare is not None:
            spare.finish()


def _start_program(
    spare: WarmSandbox | None, role: str, code: str, limits: Limits, stdin: bool
) -> Sandbox:
    """The program, started in its spare (warm.py) when there is one that can take it,
    else in a new sandbox in the calling thread's namespace (the spare's, if any)."""
    files, argv = {f"{role}.py": code}, [f"{role}.py"]
    if spare is not None:
        try:
            spare.go(files, argv, limits, stdin)
            return spare
        except SandboxUnavailable:
            spare.finish()
    sandbox = Sandbox(files, argv, limits, keep_stdin_open=stdin)
    sandbox.start()
    return sandbox


def _expire(sandbox: Sandbox, peer: Peer) -> None:
    """The check's wall-clock limit is up, whatever the program or the peer is waiting
    for: stop the program (naming the limit) and wake every blocking call of the peer."""
    if sandbox.running():
        sandbox.stop("time")
    peer.abort()


def _wait_for_peer(sandbox: Sandbox, peer: Peer, deadline: float) -> None:
    while not peer.finished.wait(0.01):
        if not sandbox.running():
            return
        if time.monotonic() >= deadline:
            sandbox.stop("time")
            return


def _feed_stdin(
    sandbox: Sandbox, script: list[dict[str, Any]], sent: list[str], ended: threading.Event
) -> None:
    for step in script:
        if "wait_ms" in step:
            if ended.wait(step["wait_ms"] / 1000):
                return
        elif "send" in step:
            if not sandbox.write_stdin((step["send"] + "\n").encode()):
                return
            sent.append(step["send"])
        elif step.get("close"):
            sandbox.close_stdin()
            return


def _peer_summary(peer: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": peer["kind"],
        "received_bytes": peer["received_total"],
        "sent_bytes": peer["sent_total"],
        "received": excerpt(peer["received"], 500),
        "sent": excerpt(peer["sent"], 500),
        "events": peer["events"][:50],
        "connections": peer["connections"],
        "error": peer["error"],
    }
