"""Locust learners (bench/locustfile.py) against both deployments, side by side in one run:

1. **embedded** — the `make run` stack (one gevent web process, the grading service with
   two grading threads, SQLite), undisturbed;
2. **scaled** — the `make run-scaled` stack (nginx, two web processes, two `flask worker`s,
   PostgreSQL, Redis) while bench/scaled.py's faults happen mid-run: a web process killed,
   a worker killed, the other paused for 8 s, Redis flushed, nginx killed.

Each run then waits for every submission its learners stored: nothing lost (every row
graded), no duplicates (one row per accepted submission), p50/p95 of the HTTP requests,
errors, submit-to-verdict times, verdicts received, gradings/s. Locust runs from its own
virtualenv, .venv-bench (bench/requirements.txt; `make bench-locust` makes it).

    .venv/bin/python bench/locust_load.py [--users 16] [--seconds 60] [--only scaled]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.scaled import Stack, faults, reference_files, settle  # noqa: E402
from tests.helpers import LiveServer  # noqa: E402

LOCUST = ROOT / ".venv-bench" / "bin" / "locust"
SETTINGS = {"SUBMISSIONS_PER_MINUTE": "1000", "MAX_PENDING_SUBMISSIONS": "100"}


class Embedded:
    """The `make run` stack on a SQLite file, with the `sql` that bench/scaled.py reads."""

    def __init__(self):
        folder = Path(tempfile.mkdtemp(prefix="bench-locust-"))
        self.server = LiveServer(folder, folder / "bench.sqlite3", **SETTINGS)
        self.server.flask("db", "upgrade")
        self.server.flask("bank", "load")
        self.server.start()
        self.url = self.server.url

    def sql(self, query: str) -> list[tuple]:
        with sqlite3.connect(self.server.database) as connection:
            return connection.execute(query).fetchall()

    def stop(self) -> None:
        self.server.stop()


def run_locust(url: str, files: dict, users: int, seconds: float, folder: Path):
    (folder / "files.json").write_text(json.dumps(files))
    env = {
        **os.environ,
        "LOOPBACK_BENCH_FILES": str(folder / "files.json"),
        "LOOPBACK_BENCH_OUT": str(folder / "out.json"),
    }
    command = [str(LOCUST), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless"]
    command += ["-u", str(users), "-r", "4", "-t", f"{seconds:.0f}s", "--stop-timeout", "200"]
    command += ["--host", url, "--only-summary", "--loglevel", "WARNING"]
    log = open(folder / "locust.log", "wb")  # noqa: SIM115
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)


def _moment(value) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def scenario(mode: str, users: int, seconds: float) -> dict:
    stack = Embedded() if mode == "embedded" else Stack()
    folder = Path(tempfile.mkdtemp(prefix=f"bench-locust-{mode}-"))
    try:
        process = run_locust(stack.url, reference_files(stack), users, seconds, folder)
        injected: list[str] = []
        if mode == "scaled":
            time.sleep(users / 4 + 5)  # every learner signed in and watching first
            injected = faults(stack)
        process.wait(seconds + 400)
        out = folder / "out.json"
        if not out.exists():
            raise SystemExit((folder / "locust.log").read_text()[-3000:])
        result = json.loads(out.read_text())
        rows = settle(stack, result["emails"])["rows"]
    finally:
        log = stack.server.log if mode == "embedded" else stack.run / "out.log"
        shutil.copy(log, folder / "stack.log")
        stack.stop()
    finished = [_moment(r[4]) for r in rows if r[4] is not None]
    started = [_moment(r[3]) for r in rows if r[3] is not None]
    span = (max(finished) - min(started)).total_seconds() if finished else 0
    ids = {r[0] for r in rows}
    return {
        "mode": mode,
        "faults": injected,
        "result": result,
        "stored": len(rows),
        "missing": len(set(result["accepted"]) - ids),
        "not_graded": sum(r[1] not in ("done", "error") for r in rows),
        "ended_in_error": sum(r[1] == "error" for r in rows),
        "graded_again": sum(r[2] > 1 for r in rows),
        "gradings_per_s": len(finished) / span if span else 0.0,
        "log": folder / "locust.log",
    }


def report(runs: list[dict], users: int, seconds: float) -> None:
    print(f"\n{users} locust learners for {seconds:.0f} s on each stack (this machine)")
    for run in runs:
        r = run["result"]
        http, verdict = r["http"], r["verdict"] or {"p50": 0, "p95": 0, "count": 0}
        connect = r["requests"].get("WS connect", {"failures": 0})
        print(f"\n== {run['mode']}" + (f": {'; '.join(run['faults'])}" if run["faults"] else ""))
        print(
            f"HTTP: {http['count']} requests, p50 {http['p50']:.0f} ms, p95 {http['p95']:.0f} ms, "
            f"{http['failures']} errors"
        )
        for error, count in sorted(r["errors"].items(), key=lambda e: -e[1]):
            print(f"  {count} x {error}")
        print(
            f"verdicts: {len(r['accepted'])} accepted (202), {verdict['count']} watched to "
            f"the end: {r['by']['socket']} over Socket.IO, {r['by']['poll']} by polling while "
            f"the socket was down, {r['missed']} missed, {r['wrong']} unexpected "
            f"({r['verdicts']}); submit to verdict p50 {verdict['p50'] / 1000:.1f} s, "
            f"p95 {verdict['p95'] / 1000:.1f} s; {r['connects']} Socket.IO connects "
            f"for {len(r['emails'])} learners ({connect['failures']} first tries failed)"
        )
        print(
            f"submissions: {run['stored']} stored, {run['missing']} accepted but missing, "
            f"{run['not_graded']} not graded after settling, {run['ended_in_error']} ended "
            f"in error, {run['graded_again']} graded again after a fault; "
            f"{run['gradings_per_s']:.2f} gradings/s"
        )
    print("\n(per request, as locust reports it, in the logs:)")
    for run in runs:
        print(f"  {run['mode']}: {run['log']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=16, help="at most 20: sign-ups per hour")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--only", choices=("embedded", "scaled"))
    args = parser.parse_args()
    if not LOCUST.exists():
        raise SystemExit(f"{LOCUST} is missing: run `make bench-locust` (it installs locust)")
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    modes = [args.only] if args.only else ["embedded", "scaled"]
    runs = [scenario(mode, args.users, args.seconds) for mode in modes]
    report(runs, args.users, args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
