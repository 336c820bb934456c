"""Locust: learners who sign up, browse, submit tcp-echo and watch their submission.

Run by ``bench/locust_load.py`` (``make bench-locust``), which starts the stack, hands
over the reference files and reads back what this file writes when locust quits. It runs
in its own virtualenv, ``.venv-bench`` (``bench/requirements.txt``).

Each learner signs up (CSRF token from the form), signs out and in again, opens one
Socket.IO connection over WebSocket (the session cookie, as a page has it), then browses
the home and question pages and now and then submits: the reference solution, or one
time in five a wrong client. It waits for the verdict on its socket; when the socket is
down (a proxy or web process restarting) it polls the submission's JSON meanwhile, as a
page would once it reconnected. The custom event ``WS verdict`` is the time from the
submit request to the verdict, failed when the verdict is not the expected one.

    LOOPBACK_BENCH_FILES=files.json LOOPBACK_BENCH_OUT=out.json \\
      .venv-bench/bin/locust -f bench/locustfile.py --headless -u 16 -r 4 -t 60s --host URL
"""

from __future__ import annotations

import json
import os
import random
import re
import time
import uuid
from pathlib import Path

import socketio
from gevent.event import Event
from locust import HttpUser, between, events, task
from locust.stats import StatsEntry

PASSWORD = "bench-password"
FILES: dict[str, str] = json.loads(Path(os.environ["LOOPBACK_BENCH_FILES"]).read_text())
WRONG = {**FILES, "client": "print('Received from server: nothing')"}
VERDICT_SECONDS = float(os.environ.get("LOOPBACK_BENCH_VERDICT_SECONDS", "180"))
SUBMIT = "/questions/tcp-echo/submissions"
_CSRF = re.compile(r'name="csrf_token"[^>]*\bvalue="([^"]+)"')

RESULTS: dict = {
    "emails": [],
    "accepted": [],
    "verdicts": {},  # verdict -> count, as received
    "by": {"socket": 0, "poll": 0},
    "wrong": 0,  # a verdict other than the expected one
    "missed": 0,  # no verdict within VERDICT_SECONDS
    "connects": 0,  # Socket.IO connections made, reconnections included
}


class NoVerdict(Exception):
    pass


def csrf(html: str) -> str:
    found = _CSRF.search(html)
    if found is None:
        raise ValueError("no CSRF token in the page")
    return found.group(1)


class Learner(HttpUser):
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        self.email = f"locust-{uuid.uuid4().hex[:12]}@example.com"
        RESULTS["emails"].append(self.email)
        self._form(
            "/auth/register",
            "sign up",
            {"email": self.email, "password": PASSWORD, "confirm": PASSWORD},
        )
        home = self.client.get("/", name="home").text
        self.client.post("/auth/logout", data={"csrf_token": csrf(home)}, name="sign out")
        self._form("/auth/login", "sign in", {"email": self.email, "password": PASSWORD})
        self.client.headers["X-CSRFToken"] = csrf(self.client.get("/", name="home").text)
        self.watching: dict[int, Event] = {}
        self.heard: dict[int, tuple[str, str]] = {}  # id -> (verdict, how)
        self.sio = self._socket()

    def on_stop(self) -> None:
        self.sio.disconnect()

    def _form(self, path: str, name: str, fields: dict[str, str]) -> None:
        token = csrf(self.client.get(path, name=name + " (form)").text)
        with self.client.post(
            path,
            data={"csrf_token": token, **fields},
            name=name,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code not in (302, 303):
                response.failure(f"{name}: {response.status_code}")
                raise RuntimeError(f"{name} failed: {response.status_code}")

    # -- the live page's socket -----------------------------------------------------------

    def _socket(self) -> socketio.Client:
        sio = socketio.Client(reconnection_delay_max=2)
        sio.on("connect", self._connected)
        sio.on("snapshot", lambda data: self._event(data, None))
        sio.on("submission", lambda data: self._event(data, data.get("event")))
        self.ever_connected = False
        self.sio = sio
        self._connect()
        return sio

    def _connect(self) -> None:
        """The first connection: python-socketio reconnects by itself only after one
        succeeded, so a page whose first try failed tries again (a real page reloads)."""
        if self.ever_connected:
            return
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.client.cookies)
        with self.environment.events.request.measure("WS", "connect"):
            self.sio.connect(
                self.host, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=10
            )
            self.ever_connected = True

    def _connected(self) -> None:
        """A new connection or a reconnection: watch again (a snapshot catches up)."""
        RESULTS["connects"] += 1
        for ident in list(self.watching):
            self.sio.emit("watch", {"id": ident})

    def _event(self, data: dict, event: str | None) -> None:
        ident = data.get("id")
        if ident not in self.watching:
            return
        if event == "finished" or (event is None and data.get("status") in ("done", "error")):
            self._verdict(ident, data.get("verdict") or data.get("status"), "socket")

    def _verdict(self, ident: int, verdict: str, how: str) -> None:
        if ident not in self.heard:
            self.heard[ident] = (verdict, how)
            self.watching[ident].set()

    # -- what a learner does ----------------------------------------------------------------

    @task(3)
    def home(self) -> None:
        self.client.get("/", name="home")

    @task(3)
    def question(self) -> None:
        self.client.get("/questions/tcp-echo", name="question page")

    @task(1)
    def submit(self) -> None:
        wrong = random.random() < 0.2
        started = time.perf_counter()
        with self.client.post(
            SUBMIT, json={"files": WRONG if wrong else FILES}, name="submit", catch_response=True
        ) as response:
            if response.status_code != 202:
                response.failure(f"submit: {response.status_code}")
                return
            ident = response.json()["id"]
        RESULTS["accepted"].append(ident)
        self.watch(ident, started, "failed" if wrong else "passed")

    def watch(self, ident: int, started: float, expected: str) -> None:
        self.watching[ident] = Event()
        try:
            if self.sio.connected:
                self.sio.emit("watch", {"id": ident})
            deadline = started + VERDICT_SECONDS
            while not self.watching[ident].wait(5) and time.perf_counter() < deadline:
                if not self.sio.connected:
                    self._poll(ident)
                    self._connect()
        finally:
            del self.watching[ident]
        verdict, how = self.heard.pop(ident, (None, None))
        exception = None
        if verdict is None:
            RESULTS["missed"] += 1
            exception = NoVerdict(f"no verdict within {VERDICT_SECONDS:.0f} s")
        else:
            RESULTS["verdicts"][verdict] = RESULTS["verdicts"].get(verdict, 0) + 1
            RESULTS["by"][how] += 1
            if verdict != expected:
                RESULTS["wrong"] += 1
                exception = NoVerdict(f"verdict {verdict}, expected {expected}")
        self.environment.events.request.fire(
            request_type="WS",
            name="verdict",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=exception,
            context={},
        )

    def _poll(self, ident: int) -> None:
        with self.client.get(
            f"/submissions/{ident}.json", name="status (socket down)", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"status: {response.status_code}")
                return
            data = response.json()
        if data.get("status") in ("done", "error"):
            self._verdict(ident, data.get("verdict") or data["status"], "poll")


def _percentiles(entry: StatsEntry) -> dict:
    return {
        "count": entry.num_requests,
        "failures": entry.num_failures,
        "p50": entry.get_response_time_percentile(0.5),
        "p95": entry.get_response_time_percentile(0.95),
    }


@events.quitting.add_listener
def _write_results(environment, **_kwargs) -> None:
    out = os.environ.get("LOOPBACK_BENCH_OUT")
    if not out:
        return
    stats = environment.stats
    http = StatsEntry(stats, "HTTP", "")
    for entry in stats.entries.values():
        if entry.method != "WS":
            http.extend(entry)
    errors: dict[str, int] = {}
    for error in stats.errors.values():
        key = f"{error.name}: {str(error.error)[:80]}"
        errors[key] = errors.get(key, 0) + error.occurrences
    requests = {f"{e.method} {e.name}": _percentiles(e) for e in stats.entries.values()}
    verdict = stats.entries.get(("verdict", "WS"))
    Path(out).write_text(
        json.dumps(
            {
                **RESULTS,
                "http": _percentiles(http),
                "verdict": _percentiles(verdict) if verdict else None,
                "requests": requests,
                "errors": errors,
            }
        )
    )
