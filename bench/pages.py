"""Pages near the ceiling (issue 14), measured side by side in one run:

* a question page against a hello-world Flask template, at 50 connections (wrk when it is
  installed — ``apt-get install wrk`` — else a Python keep-alive client, named in the
  output), both served by one gunicorn process with the flags ``make run`` gives it
  (``app.serve``: 1 worker, 64 threads, access log on); rounds alternate the two;
* the history and statistics pages with 10,000 submissions (40 learners, results of
  ~105 KB like real ones with their transcripts), sequential requests, median and p95.

Run through bench/web.py: ``.venv/bin/python bench/web.py --part pages``; with
``--baseline ../main`` another checkout (its own .venv) is served too, on the same
database, and measured in the same alternating rounds (before and after in one run).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "/questions/tcp-echo"
HELLO = "/hello/"


def seed(database: Path, submissions: int, learners: int, result_kb: int) -> None:
    """Learners and graded submissions on the sockets topic's code questions, written as
    the grading writes them (a result, and its failed required checks)."""
    import sqlalchemy as sa

    from app import create_app
    from app.models import (
        FailedCheck,
        Question,
        Submission,
        User,
        db,
        failed_required_checks,
        utcnow,
    )

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "START_GRADING_WORKERS": "0"}
    )
    with app.app_context():
        teacher = User(email="teacher@example.com", role="instructor")
        teacher.set_password("bench-password")
        first = User(email="learner0@example.com")
        first.set_password("bench-password")
        others = [
            User(email=f"learner{i}@example.com", password_hash="x") for i in range(1, learners)
        ]
        db.session.add_all([teacher, first, *others])
        db.session.commit()
        user_ids = [first.id, *(u.id for u in others)]
        questions = db.session.execute(
            sa.select(Question.id, Question.spec).where(Question.kind == "code")
        ).all()
        start = utcnow() - timedelta(minutes=submissions)
        batch: list[dict] = []
        for i in range(submissions):
            question = questions[i % len(questions)]
            passed = i % 3 == 0
            result = _result(question.spec, passed, result_kb)
            batch.append(
                {
                    "user_id": user_ids[i % len(user_ids)],
                    "question_id": question.id,
                    "question_version": 1,
                    "files": {"client": "import socket\n" * 40},
                    "status": "done",
                    "verdict": result["verdict"],
                    "score": result["score"],
                    "result": result,
                    "created_at": start + timedelta(minutes=i),
                    "finished_at": start + timedelta(minutes=i, seconds=2),
                }
            )
            if len(batch) == 200 or i == submissions - 1:
                ids = db.session.scalars(
                    sa.insert(Submission).returning(Submission.id, sort_by_parameter_order=True),
                    batch,
                )
                failed = [
                    {"submission_id": sid, "check_id": check}
                    for sid, row in zip(ids.all(), batch, strict=True)
                    for check in failed_required_checks(row["result"])
                ]
                if failed:
                    db.session.execute(sa.insert(FailedCheck), failed)
                db.session.commit()
                batch = []
        db.engine.dispose()


def _result(spec: dict | None, passed: bool, size_kb: int) -> dict:
    checks = [c.get("id", f"check-{n}") for n, c in enumerate((spec or {}).get("checks", []))]
    checks = checks or ["runs"]
    per_check = size_kb * 1024 // len(checks)
    rows = []
    for n, check in enumerate(checks):
        ok = passed or n < len(checks) - 1
        transcript = {"sent": "0123456789abcdef" * (per_check // 16), "received": "ok"}
        rows.append({"id": check, "required": True, "status": "passed" if ok else "failed",
                     "transcript": transcript})  # fmt: skip
    return {"verdict": "passed" if passed else "failed", "score": 1.0 if passed else 0.5,
            "total": len(rows), "checks": rows}  # fmt: skip


def serve(server, port: int, root: Path = ROOT) -> subprocess.Popen:
    """gunicorn with `make run`'s flags (app.serve), serving bench/page_server.py of the
    checkout at ``root`` (another one: ``--baseline``)."""
    command = [
        *server.as_web_user(),
        str(root / ".venv" / "bin" / "gunicorn"),
        "--workers", "1", "--threads", "64", "--bind", f"127.0.0.1:{port}",
        "--access-logfile", "-", "--no-control-socket", "bench.page_server:app",
    ]  # fmt: skip
    env = {**server.env, "START_GRADING_WORKERS": "0", "SECRET_KEY": "bench-pages"}
    process = subprocess.Popen(
        command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}{HELLO}", timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")


def throughput(url: str, seconds: int, cookie: str | None = None) -> float:
    """Requests per second at 50 connections."""
    if shutil.which("wrk"):
        command = ["wrk", "-t2", "-c50", f"-d{seconds}s", url]
        if cookie:
            command[1:1] = ["-H", f"Cookie: {cookie}"]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        if "Non-2xx" in output:
            raise SystemExit(f"errors under load:\n{output}")
        return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    return _python_throughput(url, seconds, cookie)


def _python_throughput(url: str, seconds: int, cookie: str | None) -> float:
    import http.client

    parts = urlsplit(url)
    headers = {"Cookie": cookie} if cookie else {}
    done = [0] * 50
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port)
        while time.monotonic() < stop:
            connection.request("GET", parts.path, headers=headers)
            response = connection.getresponse()
            response.read()
            assert response.status == 200, response.status
            done[n] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / seconds


def signed_in(base: str, email: str) -> requests.Session:
    session = requests.Session()
    page = session.get(base + "/auth/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = session.post(
        base + "/auth/login",
        data={"csrf_token": token, "email": email, "password": "bench-password"},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.status_code
    return session


def latency(session: requests.Session, url: str, runs: int) -> tuple[float, float]:
    """Median and p95 in ms of ``runs`` sequential requests (after five to warm up)."""
    times = []
    for n in range(runs + 5):
        started = time.perf_counter()
        response = session.get(url, timeout=30)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, (url, response.status_code)
        if n >= 5:
            times.append(elapsed * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def run(args) -> None:
    from tests.helpers import LiveServer, free_port

    tool = "wrk" if shutil.which("wrk") else "a Python keep-alive client (wrk not installed)"
    folder = Path(tempfile.mkdtemp(prefix="loopback-pages-"))
    server = LiveServer(folder, folder / "bench.sqlite3")
    processes: list[subprocess.Popen] = []
    try:
        server.flask("db", "upgrade")
        server.flask("bank", "load")
        started = time.perf_counter()
        seed(server.database, args.submissions, args.learners, args.result_kb)
        size = server.database.stat().st_size / 2**20
        print(f"seeded {args.submissions} submissions of {args.learners} learners "
              f"(results ~{args.result_kb} KB, database {size:.0f} MB) "
              f"in {time.perf_counter() - started:.0f} s")  # fmt: skip
        if server.web_user is not None:
            for path in server.folder.iterdir():
                os.chown(path, *server.web_user)
        bases = {}
        for name, root in (("", ROOT), (" (baseline)", args.baseline)):
            if root is not None:
                port = free_port()
                processes.append(serve(server, port, Path(root).resolve()))
                bases[name] = f"http://127.0.0.1:{port}"
        _pages(args, bases, tool)
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _pages(args, bases: dict[str, str], tool: str) -> None:
    """Each server ("" and, with --baseline, " (baseline)") measured in the same
    alternating rounds; the ratios are against the hello-world of the same server."""
    cookies = {}
    for name, base in bases.items():
        learner = signed_in(base, "learner0@example.com")
        cookies[name] = "; ".join(f"{c.name}={c.value}" for c in learner.cookies)
    rounds: dict[str, list[float]] = {}
    for _ in range(args.page_rounds):  # alternate, so all see the same machine
        for name, base in bases.items():
            for who, url, cookie in (
                ("hello", HELLO, None),
                ("anonymous", QUESTION, None),
                ("signed in", QUESTION, cookies[name]),
            ):
                value = throughput(base + url, args.seconds, cookie)
                rounds.setdefault(who + name, []).append(value)
    print(f"\nreq/s at 50 connections, {tool}, one gunicorn (1 worker, 64 threads), "
          f"median of {args.page_rounds} alternating rounds of {args.seconds} s")  # fmt: skip
    for name in bases:
        hello = statistics.median(rounds["hello" + name])
        print(f"hello-world Flask template{name:11} {hello:8.0f} req/s")
        for who in ("anonymous", "signed in"):
            value = statistics.median(rounds[who + name])
            label = f"question page ({who}){name}"
            print(f"{label:37} {value:8.0f} req/s   ratio {value / hello:.2f}x")
    print("rounds: " + json.dumps({k: [round(v) for v in vs] for k, vs in rounds.items()}))

    base = bases[""]
    learner = signed_in(base, "learner0@example.com")
    teacher = signed_in(base, "teacher@example.com")
    print(f"\nsequential latency, {args.runs} requests each, ms (median / p95)")
    for name, session, url in (
        ("history, page 1 (learner0)", learner, "/history"),
        ("history, last page", learner, f"/history?page={_last_page(learner, base)}"),
        ("statistics, sockets topic", teacher, "/instructor/topics/sockets/stats"),
        ("question page (signed in)", learner, QUESTION),
    ):
        median, p95 = latency(session, base + url, args.runs)
        print(f"{name:30} {median:7.1f} / {p95:6.1f}")


def _last_page(session: requests.Session, base: str) -> int:
    text = session.get(base + "/history").text
    found = re.search(r"Page 1 of (\d+)", text)
    return int(found.group(1)) if found else 1


if __name__ == "__main__":
    sys.exit("run: .venv/bin/python bench/web.py --part pages")
