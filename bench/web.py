"""The web app measured side by side, in two parts.

``--part grading`` (the default): submit-to-verdict through the web app, against the
engine's own grading time; then a burst of 50 submissions from 10 users. Starts the app as
`make run` does (gunicorn, embedded workers) on a throwaway SQLite database, creates users
and API tokens with the CLI, and talks to the JSON API.

``--part pages``: a question page's req/s against a hello-world Flask template served the
same way, and the history and statistics pages' latency with 10,000 submissions
(bench/pages.py).

    .venv/bin/python bench/web.py [--part grading|pages|all] [--rounds 8] [--burst 50]
    .venv/bin/python bench/web.py --part pages [--submissions 10000] [--baseline ../main]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.bank.files import read_directory  # noqa: E402
from app.bank.loader import BUILTIN_BANK  # noqa: E402
from app.grading.engine import grade  # noqa: E402
from app.grading.sandbox import sandbox_problem  # noqa: E402
from tests.helpers import LiveServer  # noqa: E402


def serve(folder: Path, workers: int) -> LiveServer:
    """The app as `make run` serves it, with limits wide enough for a burst."""
    server = LiveServer(
        folder,
        folder / "bench.sqlite3",
        GRADING_WORKERS=workers,
        MAX_PENDING_SUBMISSIONS=100,
        SUBMISSIONS_PER_MINUTE=1000,
    )
    server.flask("db", "upgrade")
    server.flask("bank", "load")
    server.start(threads=64)
    return server


def token(server: LiveServer, email: str) -> str:
    server.flask("users", "create", email, "--password", "bench-password")
    return server.flask("users", "token", email).strip().splitlines()[-1]


def submit_and_wait(
    base: str, token: str, files: dict[str, str], poll: float = 0.02
) -> tuple[float, dict]:
    headers = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    response = requests.post(
        base + "/api/v1/submissions",
        headers=headers,
        json={"question": "tcp-echo", "files": files},
        timeout=10,
    )
    response.raise_for_status()
    url = base + f"/api/v1/submissions/{response.json()['id']}"
    while True:
        data = requests.get(url, headers=headers, timeout=10).json()
        if data["status"] in ("done", "error"):
            return time.perf_counter() - started, data
        time.sleep(poll)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--part", choices=("grading", "pages", "all"), default="grading")
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--learners", type=int, default=40)
    parser.add_argument("--result-kb", type=int, default=105)
    parser.add_argument("--page-rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5, help="per wrk run")
    parser.add_argument("--runs", type=int, default=50, help="sequential requests per page")
    parser.add_argument(
        "--baseline",
        help="pages: also serve this checkout (with its .venv, e.g. ../main) on the same "
        "database, measured in the same alternating rounds",
    )
    args = parser.parse_args()
    if args.part in ("pages", "all"):
        from bench import pages

        pages.run(args)
    if args.part in ("grading", "all"):
        grading(args)


def grading(args: argparse.Namespace) -> None:
    if problem := sandbox_problem():
        sys.exit(f"no sandbox: {problem}")
    _, questions = read_directory(BUILTIN_BANK)
    echo = next(q for q in questions if q.slug == "tcp-echo")

    with tempfile.TemporaryDirectory() as folder:
        server = serve(Path(folder), workers=2)
        try:
            tokens = [token(server, f"bench{i}@example.com") for i in range(args.users)]
            engine_s, web_s = [], []
            for _ in range(args.rounds):  # alternate, so both see the same machine
                started = time.perf_counter()
                assert grade(echo.spec, echo.reference_files).verdict == "passed"
                engine_s.append(time.perf_counter() - started)
                elapsed, data = submit_and_wait(server.url, tokens[0], echo.reference_files)
                assert data["verdict"] == "passed", data
                web_s.append(elapsed)
            engine, web = statistics.median(engine_s), statistics.median(web_s)
            print(f"tcp-echo, median of {args.rounds} alternating rounds (embedded mode)")
            print(f"engine grade()          {engine * 1000:8.0f} ms")
            print(f"submit-to-verdict (web) {web * 1000:8.0f} ms   ratio {web / engine:.2f}x")

            jobs = [tokens[i % args.users] for i in range(args.burst)]
            started = time.perf_counter()
            with ThreadPoolExecutor(args.users) as pool:
                results = list(
                    pool.map(
                        lambda token: submit_and_wait(
                            server.url, token, echo.reference_files, poll=0.25
                        )[1],
                        jobs,
                    )
                )
            elapsed = time.perf_counter() - started
            passed = sum(r["verdict"] == "passed" for r in results)
            ids = {r["id"] for r in results}
            print(f"\nburst: {args.burst} submissions from {args.users} users, 2 workers")
            print(
                f"graded {len(results)}/{args.burst}, distinct ids {len(ids)}, "
                f"passed {passed}, lost {args.burst - len(results)}"
            )
            print(
                f"elapsed {elapsed:.1f} s, throughput {args.burst / elapsed:.2f} gradings/s "
                f"({args.burst * len(echo.spec['checks']) / elapsed:.1f} checks/s)"
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
