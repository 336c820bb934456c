"""The scaled deployment under load and faults (`python -m app.scaled`: nginx, two gevent
web processes, two `flask worker`s, PostgreSQL, Redis, supervisord), in one run:

1. **watchers**: U learners each submit the reference solution of tcp-echo, and W pages
   per learner watch it over WebSocket through nginx (U x W sockets over both web
   processes): how many watchers get the verdict, and how long after the submission. Each
   page behaves as the result page's script does (asks again every 5 s while pending,
   reconnects when its socket closes, GETs the checks once at the verdict);
   ``--listen-only`` pages only listen to the events;
2. **faults**: L learners browse (home and question page) and submit through nginx while
   the bench kills a web process, kills a worker, pauses the other for 8 s, flushes Redis
   and kills nginx; then it waits for every stored submission: nothing lost (every row
   graded), no duplicates (one row per accepted submission), p50/p95 latency and errors.

    .venv/bin/python bench/scaled.py [--users 20] [--watchers 50] [--learners 10] [--listen-only]

``--learners 0`` runs the watchers part only.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import websocket

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import csrf_token, descendants, free_port  # noqa: E402

PASSWORD = "bench-password"


class Stack:
    def __init__(self):
        self.run = Path(tempfile.mkdtemp(prefix="bench-scaled-"))
        os.chmod(self.run, 0o755)
        self.ports = {n: free_port() for n in ("port", "web1", "pg", "redis")}
        self.url = f"http://127.0.0.1:{self.ports['port']}"
        env = {
            **os.environ,
            "SOCKETS_PER_USER": "200",
            "MAX_PENDING_SUBMISSIONS": "100",
            "SUBMISSIONS_PER_MINUTE": "1000",
            "STALE_SECONDS": "10",
            "SWEEP_SECONDS": "2",
        }
        self.log = open(self.run / "out.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.scaled", "--run-dir", str(self.run)]
            + ["--port", str(self.ports["port"]), "--first-web-port", str(self.ports["web1"])]
            + ["--pg-port", str(self.ports["pg"]), "--redis-port", str(self.ports["redis"])]
            + ["--deployment", f"bench-{self.ports['port']}"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while not self.healthy():
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise SystemExit((self.run / "out.log").read_text()[-3000:])
            time.sleep(0.5)

    def healthy(self) -> bool:
        try:
            return requests.get(self.url + "/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def pid(self, *words: str) -> int | None:
        for pid in descendants(self.process.pid):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if all(w.encode() in command for w in words) and b"app.scaled wait" not in command:
                return pid
        return None

    def sql(self, query: str) -> list[tuple]:
        import psycopg

        url = f"postgresql://loopback@127.0.0.1:{self.ports['pg']}/loopback"
        with psycopg.connect(url) as connection:
            return connection.execute(query).fetchall()

    def create_users(self, count: int) -> list[str]:
        """Accounts straight into the database (the CLI costs a second each)."""
        from werkzeug.security import generate_password_hash

        emails = [f"learner{n}@example.com" for n in range(count)]
        digest = generate_password_hash(PASSWORD)
        import psycopg

        url = f"postgresql://loopback@127.0.0.1:{self.ports['pg']}/loopback"
        with psycopg.connect(url) as connection:
            columns = {
                r[0]
                for r in connection.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name='user'"
                )
            }
            for email in emails:
                fields = {"email": email, "password_hash": digest, "role": "learner"}
                if "created_at" in columns:
                    fields["created_at"] = "now()"
                names = ", ".join(fields)
                marks = ", ".join("now()" if v == "now()" else "%s" for v in fields.values())
                values = [v for v in fields.values() if v != "now()"]
                connection.execute(f'INSERT INTO "user" ({names}) VALUES ({marks})', values)
        return emails

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(40)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()
        shutil.rmtree(self.run, ignore_errors=True)


class Learner:
    def __init__(self, base: str, email: str):
        self.base = base
        self.session = requests.Session()
        page = self.session.get(base + "/auth/login", timeout=10).text
        response = self.session.post(
            base + "/auth/login",
            data={"csrf_token": csrf_token(page), "email": email, "password": PASSWORD},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code in (302, 303), response.text[:300]
        self.session.headers["X-CSRFToken"] = csrf_token(self.session.get(base + "/").text)
        self.cookie = "; ".join(f"{c.name}={c.value}" for c in self.session.cookies)

    def submit(self, files: dict[str, str]) -> tuple[int, int | None, float]:
        started = time.perf_counter()
        try:
            response = self.session.post(
                self.base + "/questions/tcp-echo/submissions", json={"files": files}, timeout=10
            )
            status = response.status_code
            ident = response.json()["id"] if status == 202 else None
        except (requests.RequestException, ValueError):
            status, ident = -1, None
        return status, ident, time.perf_counter() - started


def reference_files(stack: Stack) -> dict[str, str]:
    (row,) = stack.sql("SELECT reference_files FROM question WHERE slug='tcp-echo'")
    return row[0] if isinstance(row[0], dict) else json.loads(row[0])


# -- 1. watchers -------------------------------------------------------------------------


REASK_SECONDS = 5  # the result page asks again this often while pending (submission.js)


def watch_all(stack: Stack, learners: list[Learner], per_user: int, files, recover=True) -> dict:
    """Each page as the result page's script runs it: connect, watch, answer pings; while
    pending, ask again every 5 s, and reconnect (1 s later) when the socket closes.
    ``recover=False``: pages that only listen (the events alone must bring the verdict)."""
    url = stack.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    submitted: dict[int, float] = {}
    targets = []
    for learner in learners:
        status, ident, _ = learner.submit(files)
        assert status == 202, status
        submitted[ident] = time.monotonic()
        targets += [(learner.cookie, ident)] * per_user

    deadline = time.monotonic() + 240
    began = time.monotonic()
    handshakes = threading.Semaphore(50)  # pages open over time, not all in one instant
    lock = threading.Lock()
    tally: dict[str, int] = {}  # client-side problems, reconnections, repeated asks
    missed: dict[str, int] = {}  # what a page that never got its verdict last saw

    def count(into: dict[str, int], what: str) -> None:
        with lock:
            into[what] = into.get(what, 0) + 1

    def connect(cookie: str, ident: int):
        with handshakes:
            ws = websocket.create_connection(url, cookie=cookie, timeout=30)
            ws.recv()
            ws.send("40")
            ws.recv()
            ws.send(json.dumps(["watch", {"id": ident}]).join(("42", "")))
        return ws

    def watch(target) -> dict:
        """One page, until the verdict (or the deadline)."""
        cookie, ident = target
        page = {"opened": None, "snapshot": None, "bytes": 0, "delay": None, "checks": None}
        seen = "nothing"
        while time.monotonic() < deadline and page["delay"] is None:
            try:
                ws = connect(cookie, ident)
            except Exception as exc:
                count(tally, type(exc).__name__)
                seen = f"refused ({type(exc).__name__})"
                if not recover:
                    break
                time.sleep(1)
                continue
            if page["opened"] is None:
                page["opened"] = time.monotonic() - began
            asked = time.monotonic()
            try:
                while time.monotonic() < deadline:
                    if recover and time.monotonic() - asked >= REASK_SECONDS:
                        ws.send(json.dumps(["watch", {"id": ident}]).join(("42", "")))
                        asked = time.monotonic()
                        count(tally, "asked again")
                    ws.settimeout(REASK_SECONDS if recover else 90)
                    try:
                        message = ws.recv()
                    except websocket.WebSocketTimeoutException:
                        if recover:
                            continue
                        raise
                    page["bytes"] += len(message.encode())
                    if message == "2":
                        ws.send("3")
                        continue
                    if not message.startswith("42"):
                        continue
                    name, data = json.loads(message[2:])
                    if name == "snapshot":
                        seen = f"snapshot ({data.get('status')})"
                        if page["snapshot"] is None:
                            page["snapshot"] = len(message)
                    elif name == "submission":
                        seen = f"event {data.get('event')}"
                    if (name == "snapshot" and data.get("status") in ("done", "error")) or (
                        name == "submission" and data.get("event") == "finished"
                    ):
                        page["delay"] = time.monotonic() - submitted[ident]
                        break
            except Exception as exc:
                count(tally, type(exc).__name__)
                seen += f", then {type(exc).__name__}"
            finally:
                ws.close()
            if page["delay"] is None:
                if not recover:
                    break
                count(tally, "reconnected")
                time.sleep(1)
        if page["delay"] is None:
            count(missed, seen)
        elif recover:
            page["checks"] = fetch_checks(cookie, ident)
        return page

    def fetch_checks(cookie: str, ident: int) -> tuple[int, float] | None:
        """What the page does at the verdict: GET the checks, once (bytes, seconds)."""
        started = time.perf_counter()
        try:
            response = requests.get(
                f"{stack.url}/submissions/{ident}/checks", headers={"Cookie": cookie}, timeout=60
            )
            response.raise_for_status()
        except requests.RequestException as exc:
            count(tally, f"checks: {type(exc).__name__}")
            return None
        return len(response.content), time.perf_counter() - started

    with ThreadPoolExecutor(len(targets)) as pool:
        pages = list(pool.map(watch, targets))
    delays = sorted(p["delay"] for p in pages if p["delay"] is not None)
    opened = [p["opened"] for p in pages if p["opened"] is not None]
    snapshots = [p["snapshot"] for p in pages if p["snapshot"] is not None]
    fetched = sorted((p["checks"] for p in pages if p["checks"]), key=lambda f: f[1])
    return {
        "watchers": len(targets),
        "connected": len(opened),
        "verdicts": len(delays),
        "problems": tally,
        "missed": missed,
        "all_open": max(opened) if opened else float("nan"),
        "snapshot_bytes": statistics.mean(snapshots) if snapshots else 0,
        "socket_bytes": statistics.mean(p["bytes"] for p in pages),
        "checks_fetched": len(fetched),
        "checks_bytes": statistics.mean(f[0] for f in fetched) if fetched else 0,
        "checks_p50": fetched[len(fetched) // 2][1] if fetched else float("nan"),
        "checks_p95": fetched[int(0.95 * (len(fetched) - 1))][1] if fetched else float("nan"),
        "p50": statistics.median(delays) if delays else float("nan"),
        "p95": delays[int(0.95 * (len(delays) - 1))] if delays else float("nan"),
    }


# -- 2. browsing and submitting under faults -------------------------------------------------


def faults(stack: Stack) -> list[str]:
    done = []

    def step(what: str, action) -> None:
        action()
        done.append(what)
        time.sleep(3)

    time.sleep(2)
    step(
        "killed web-1 (gunicorn master)",
        lambda: os.kill(stack.pid("gunicorn", str(stack.ports["web1"])), signal.SIGKILL),
    )
    workers = [p for p in descendants(stack.process.pid) if _is_worker(p)]
    step("killed worker-1", lambda: os.kill(workers[0], signal.SIGKILL))
    os.kill(workers[1], signal.SIGSTOP)
    time.sleep(8)
    os.kill(workers[1], signal.SIGCONT)
    done.append("paused worker-2 for 8 s")
    from redis import Redis

    step("flushed Redis", lambda: Redis(port=stack.ports["redis"]).flushall())
    nginx = os.getpgid(stack.pid("nginx: master"))  # master and workers: a proxy crash
    step("killed nginx", lambda: os.killpg(nginx, signal.SIGKILL))
    return done


def _is_worker(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return command[-2:] == [b"worker", b""] and any(c.endswith(b"flask") for c in command)


def burst(stack: Stack, learners: list[Learner], files, seconds: float) -> dict:
    latencies, errors, accepted, statuses = [], 0, [], {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def browse(learner: Learner) -> None:
        nonlocal errors
        n = 0
        while time.monotonic() < stop_at:
            n += 1
            if n % 5 == 0:
                status, ident, took = learner.submit(files)
            else:
                path = "/" if n % 2 else "/questions/tcp-echo"
                started = time.perf_counter()
                try:
                    status = learner.session.get(stack.url + path, timeout=10).status_code
                except requests.RequestException:
                    status = -1
                ident, took = None, time.perf_counter() - started
            with lock:
                latencies.append(took)
                statuses[status] = statuses.get(status, 0) + 1
                errors += status not in (200, 202)
                if ident is not None:
                    accepted.append(ident)
            time.sleep(0.2)

    threads = [threading.Thread(target=browse, args=(learner,)) for learner in learners]
    for thread in threads:
        thread.start()
    injected = faults(stack)
    for thread in threads:
        thread.join()
    return {
        "requests": len(latencies),
        "errors": errors,
        "statuses": statuses,
        "p50": statistics.median(latencies),
        "p95": sorted(latencies)[int(0.95 * (len(latencies) - 1))],
        "accepted": accepted,
        "faults": injected,
    }


def settle(stack: Stack, emails: list[str], timeout: float = 600) -> dict:
    names = ", ".join(f"'{e}'" for e in emails)
    query = (
        "SELECT s.id, s.status, s.attempts, s.started_at, s.finished_at FROM submission s "
        f'JOIN "user" u ON u.id = s.user_id WHERE u.email IN ({names})'
    )
    deadline = time.monotonic() + timeout
    while True:
        rows = stack.sql(query)
        if all(r[1] in ("done", "error") for r in rows) or time.monotonic() > deadline:
            return {"rows": rows}
        time.sleep(1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--watchers", type=int, default=50, help="pages per user")
    parser.add_argument("--learners", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument(
        "--listen-only",
        action="store_true",
        help="watchers neither ask again nor reconnect: the events alone must bring the verdict",
    )
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    stack = Stack()
    try:
        files = reference_files(stack)
        emails = stack.create_users(args.users + args.learners)
        learners = [Learner(stack.url, e) for e in emails[: args.users]]
        watched = watch_all(stack, learners, args.watchers, files, not args.listen_only)
        print(
            f"\nwatchers: {watched['watchers']} pages over 2 web processes, "
            f"{watched['connected']} connected (all open after {watched['all_open']:.0f} s), "
            f"{watched['verdicts']} got their verdict (first snapshot "
            f"{watched['snapshot_bytes']:.0f} B, {watched['socket_bytes']:.0f} B "
            "received per page on average); "
            f"submission to verdict p50 {watched['p50']:.1f} s, p95 {watched['p95']:.1f} s; "
            f"client side: {watched['problems'] or 'nothing to note'}; "
            f"what the pages without a verdict last saw: {watched['missed'] or '-'}"
        )
        if watched["checks_fetched"]:
            print(
                f"checks fetched at the verdict: {watched['checks_fetched']} pages, "
                f"{watched['checks_bytes'] / 1024:.0f} KiB each, "
                f"p50 {watched['checks_p50'] * 1000:.0f} ms, "
                f"p95 {watched['checks_p95'] * 1000:.0f} ms"
            )
        if not args.learners:
            return 0
        busy = [Learner(stack.url, e) for e in emails[args.users :]]
        started = time.monotonic()
        result = burst(stack, busy, files, args.seconds)
        settled = settle(stack, emails[args.users :])
        rows = settled["rows"]
        ids = [r[0] for r in rows]
        finished = [r[4] for r in rows if r[4] is not None]
        span = (max(finished) - min(r[3] for r in rows if r[3])).total_seconds() if finished else 0
        print(f"faults injected: {'; '.join(result['faults'])}")
        print(
            f"burst: {result['requests']} requests from {args.learners} learners in "
            f"{args.seconds:.0f} s, p50 {result['p50'] * 1000:.0f} ms, p95 "
            f"{result['p95'] * 1000:.0f} ms, errors {result['errors']} {result['statuses']}"
        )
        lost = [r for r in rows if r[1] not in ("done", "error")]
        print(
            f"submissions: {len(result['accepted'])} accepted (202), {len(ids)} stored, "
            f"{len(set(result['accepted']) - set(ids))} accepted but missing, "
            f"{len(lost)} not graded after settling, "
            f"{sum(r[1] == 'error' for r in rows)} ended in error, "
            f"{sum(r[2] > 1 for r in rows)} graded again after a fault; "
            f"{len(finished) / span if span else 0:.2f} gradings/s; "
            f"settled {time.monotonic() - started:.0f} s after the burst began"
        )
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
