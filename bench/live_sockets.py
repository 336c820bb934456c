"""Live pages' sockets against page latency, side by side in one run: the `make run` stack
with gunicorn's old thread pool (gthread, 64 threads) and with gevent workers (now).

One client opens N WebSockets (signed in; SOCKETS_PER_USER raised for the run) and holds
them while it times page requests; then it tries as many anonymous sockets (refused with
401 at the handshake). A page that takes longer than the timeout counts as an error.

    .venv/bin/python bench/live_sockets.py [--sockets 500] [--pages 40]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import websocket

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import LiveServer, csrf_token  # noqa: E402

TIMEOUT = 3.0
ANONYMOUS = 100  # refused sockets tried after the held ones


def sign_in(base: str, email: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(base + "/auth/login").text
    session.post(
        base + "/auth/login",
        data={"csrf_token": csrf_token(page), "email": email, "password": password},
        allow_redirects=False,
    )
    return session


def open_socket(url: str, cookie: str | None) -> websocket.WebSocket | int:
    try:
        ws = websocket.create_connection(url, cookie=cookie, timeout=TIMEOUT)
        ws.recv()  # Engine.IO's open packet
        return ws
    except websocket.WebSocketBadStatusException as refused:
        return refused.status_code
    except Exception:
        return -1


def time_pages(base: str, count: int) -> tuple[list[float], int]:
    latencies, errors = [], 0
    for n in range(count):
        path = "/" if n % 2 else "/questions/tcp-echo"
        started = time.perf_counter()
        try:
            ok = requests.get(base + path, timeout=TIMEOUT).status_code == 200
        except requests.RequestException:
            ok = False
        latencies.append(time.perf_counter() - started)
        errors += not ok
    return latencies, errors


def scenario(worker_class: str, sockets: int, pages: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="bench-live-"))
    server = LiveServer(folder, folder / "bench.sqlite3", SOCKETS_PER_USER=sockets + 10)
    server.flask("db", "upgrade")
    server.flask("bank", "load")
    server.create_user("watcher@example.com", "bench-password")
    server.start(threads=64, worker_class=worker_class)
    try:
        session = sign_in(server.url, "watcher@example.com", "bench-password")
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        url = server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
        idle, _ = time_pages(server.url, pages)
        started = time.perf_counter()
        with ThreadPoolExecutor(32) as pool:
            opened = list(pool.map(lambda _: open_socket(url, cookie), range(sockets)))
        open_seconds = time.perf_counter() - started
        held = [ws for ws in opened if not isinstance(ws, int)]
        loaded, errors = time_pages(server.url, pages)
        with ThreadPoolExecutor(32) as pool:
            anonymous = list(pool.map(lambda _: open_socket(url, None), range(ANONYMOUS)))
        for ws in held + [a for a in anonymous if not isinstance(a, int)]:
            ws.close()
        return {
            "mode": worker_class,
            "held": len(held),
            "open_s": open_seconds,
            "idle_p50": statistics.median(idle),
            "p50": statistics.median(loaded),
            "p95": sorted(loaded)[int(0.95 * (len(loaded) - 1))],
            "max": max(loaded),
            "errors": errors,
            "anon_401": sum(a == 401 for a in anonymous),
        }
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sockets", type=int, default=500)
    parser.add_argument("--pages", type=int, default=40)
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    rows = [scenario(mode, args.sockets, args.pages) for mode in ("gthread", "gevent")]
    print(f"\n{args.sockets} WebSockets held by one client, then {args.pages} page requests")
    print(
        f"{'web workers':<24}{'held':>6}{'open s':>8}{'idle p50':>10}{'p50':>8}{'p95':>8}"
        f"{'max':>8}{'errors':>8}{'anon 401':>10}"
    )
    for r in rows:
        label = "gthread, 64 threads" if r["mode"] == "gthread" else "gevent (make run)"
        print(
            f"{label:<24}{r['held']:>6}{r['open_s']:>8.1f}{r['idle_p50'] * 1000:>8.0f}ms"
            f"{r['p50'] * 1000:>6.0f}ms{r['p95'] * 1000:>6.0f}ms{r['max'] * 1000:>6.0f}ms"
            f"{r['errors']:>8}{r['anon_401']:>10}"
        )
    print(f"(a page slower than {TIMEOUT:.0f} s counts as an error; {ANONYMOUS} anonymous tries)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
