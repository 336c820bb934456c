"""Grading overhead, measured side by side in one run (these machines are noisy).

* bare: the reference peer and the submitted program on the host loopback, the program a
  plain subprocess: no namespace, no sandbox, no capture;
* cold: the same check through the engine (private namespace, capture, bwrap, limits), its
  sandbox started when the check starts;
* warm: the same again, the check taking a pre-warmed sandbox (app/grading/warm.py: its
  namespace, sandbox and interpreter made ahead, used once).

Rounds alternate bare/cold/warm so all three see the same machine; before each, nothing is
being prepared in the background. Then whole gradings of tcp-echo per second with one and
two workers, cold and warm.

    .venv/bin/python bench/grading.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.bank.files import read_directory  # noqa: E402
from app.bank.loader import BUILTIN_BANK  # noqa: E402
from app.grading.bwrap import SANDBOX_PYTHON  # noqa: E402
from app.grading.engine import grade, run_check  # noqa: E402
from app.grading.limits import Limits  # noqa: E402
from app.grading.peers import make_peer  # noqa: E402
from app.grading.sandbox import sandbox_problem  # noqa: E402
from app.grading.warm import SPARE_POOL, SPARES  # noqa: E402

PORT = 65432


def bare_check(check: dict, code: str) -> float:
    """The same exchange with no isolation at all; returns seconds."""
    with tempfile.NamedTemporaryFile("w", suffix=".py") as source:
        source.write(code)
        source.flush()
        started = time.perf_counter()
        peer = make_peer(check["peer"], PORT)
        peer.start()
        program = subprocess.Popen(
            [SANDBOX_PYTHON, "-u", "-B", "-s", source.name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        if not peer.is_server:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:  # same readiness poll as the engine
                if _listening(program.pid):
                    break
                time.sleep(0.002)
            peer.drive(time.monotonic() + 5)
            time.sleep(0.1)  # the engine's default settle
            program.kill()
        program.communicate(timeout=10)
        peer.stop()
        return time.perf_counter() - started


def _listening(pid: int) -> bool:
    with open(f"/proc/{pid}/net/tcp") as table:
        return any(
            f":{PORT:04X}" in line.split()[1] and line.split()[3] == "0A"
            for line in list(table)[1:]
        )


def graded_check(check: dict, code: str, warm: bool) -> float:
    SPARE_POOL.size = SPARES if warm else 0
    if warm:
        assert SPARE_POOL.prime(Limits()), "no pre-warmed sandbox could be made"
    started = time.perf_counter()
    result = run_check(check, code, Limits(), PORT)
    elapsed = time.perf_counter() - started
    assert result.status == "passed", result.message
    SPARE_POOL.wait_ready()  # the next spare is made before anything else is timed
    return elapsed


def compare(question, check_id: str, rounds: int) -> tuple[float, float, float]:
    check = next(c for c in question.spec["checks"] if c["id"] == check_id)
    code = question.reference_files[check["role"]]
    bare, cold, warm = [], [], []
    for _ in range(rounds):
        bare.append(bare_check(check, code))
        cold.append(graded_check(check, code, warm=False))
        warm.append(graded_check(check, code, warm=True))
    return statistics.median(bare), statistics.median(cold), statistics.median(warm)


def throughput(question, workers: int, count: int, warm: bool) -> float:
    SPARE_POOL.size = SPARES if warm else 0
    SPARE_POOL.close()
    if warm:
        SPARE_POOL.prime(Limits())
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        results = list(
            pool.map(lambda _: grade(question.spec, question.reference_files), range(count))
        )
    assert all(r.verdict == "passed" for r in results)
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--gradings", type=int, default=12)
    args = parser.parse_args()
    problem = sandbox_problem()
    if problem:
        sys.exit(f"no sandbox: {problem}")
    _, questions = read_directory(BUILTIN_BANK)
    echo = next(q for q in questions if q.slug == "tcp-echo")

    print(f"per-check cost, median of {args.rounds} alternating rounds")
    print(f"{'check':<20}{'bare ms':>9}{'cold ms':>9}{'ratio':>7}{'warm ms':>9}{'ratio':>7}")
    for check_id in ("client-echo", "server-echo-short", "server-echo-large"):
        bare, cold, warm = compare(echo, check_id, args.rounds)
        print(
            f"{check_id:<20}{bare * 1000:>9.1f}{cold * 1000:>9.1f}{cold / bare:>6.2f}x"
            f"{warm * 1000:>9.1f}{warm / bare:>6.2f}x"
        )

    checks = len(echo.spec["checks"])
    print(f"\nwhole tcp-echo gradings ({checks} checks each), {args.gradings} per run")
    for workers in (1, 2):
        cold = throughput(echo, workers, args.gradings, warm=False)
        warm = throughput(echo, workers, args.gradings, warm=True)
        print(
            f"{workers} worker{'s' if workers > 1 else ' '}: cold {cold:.2f} gradings/s,"
            f" warm {warm:.2f} gradings/s ({warm / cold:.2f}x)"
        )
    SPARE_POOL.close()


if __name__ == "__main__":
    main()
