"""``make run``: the grading service and the web, one foreground command.

    python -m app.serve [--host 127.0.0.1] [--port 5000]

This supervisor starts two children and keeps them running until Ctrl-C (or SIGTERM),
which stops both:

* the **grading service**, as root (``python -m app.jobs.service``; with ``REDIS_URL``,
  ``flask worker``): the only process that keeps root, for namespaces, cgroups and the
  sandbox's uids. It serves no HTTP.
* the **web**: gunicorn (gevent workers: a live page's WebSocket is a greenlet, not one of
  a few threads) with the whole app, run as the unprivileged ``LOOPBACK_USER``
  (``loopback``, created by ``make setup``) through ``setpriv`` — no supplementary groups,
  no capabilities, ``no_new_privs``. The supervisor binds the listening socket (so any
  port works), hands it to gunicorn (``--bind fd://N``) and closes its own copy: no root
  process holds it.

A child that exits is started again (after 1 s, doubling up to 30 s while it keeps
failing); nothing is lost, because work lives in the database and a new service re-queues
what a dead one was grading. The supervisor itself imports neither Flask nor the app, and
parses nothing but its arguments. Run without root, everything runs as the calling user
and grading answers every submission with a clear ``error`` (the sandbox needs root).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RESTART_DELAY, MAX_RESTART_DELAY, HEALTHY_AFTER = 1.0, 30.0, 60.0


def say(message: str) -> None:
    print(f"[loopback] {message}", file=sys.stderr, flush=True)


class Child:
    """One supervised program: how to start it, when it may be restarted."""

    def __init__(self, name: str, start) -> None:
        self.name = name
        self._start = start
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.delay = RESTART_DELAY
        self.restart_at: float | None = None

    def start(self) -> None:
        self.process = self._start()
        self.started_at = time.monotonic()
        self.restart_at = None
        say(f"{self.name} started (pid {self.process.pid})")

    def check(self, now: float) -> None:
        """Restart it when it died (with a growing delay while it keeps dying)."""
        if self.restart_at is not None:
            if now >= self.restart_at:
                try:
                    self.start()
                except OSError as exc:
                    say(f"{self.name} could not start: {exc}")
                    self._schedule(now)
            return
        if self.process is None or self.process.poll() is None:
            return
        say(f"{self.name} (pid {self.process.pid}) exited with status {self.process.returncode}")
        if now - self.started_at > HEALTHY_AFTER:
            self.delay = RESTART_DELAY
        self._schedule(now)

    def _schedule(self, now: float) -> None:
        say(f"restarting {self.name} in {self.delay:.0f} s")
        self.restart_at = now + self.delay
        self.delay = min(self.delay * 2, MAX_RESTART_DELAY)

    def stop(self, timeout: float) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        _signal_group(self.process, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            _signal_group(self.process, signal.SIGKILL)
            self.process.wait(10)


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def gunicorn_worker_args(worker_class: str, threads: int, connections: int) -> list[str]:
    """gevent (the default): one greenlet per connection, so live pages' WebSockets do
    not use up a thread pool; gthread keeps the old ``--threads`` model."""
    if worker_class == "gevent":
        return ["--worker-class", "gevent", "--worker-connections", str(connections)]
    return ["--worker-class", "gthread", "--threads", str(threads)]


class Stack:
    def __init__(
        self,
        host: str,
        port: int,
        workers: int,
        threads: int,
        worker_class: str = "gevent",
        connections: int = 2000,
    ) -> None:
        self.host, self.port, self.workers, self.threads = host, port, workers, threads
        self.worker_class, self.connections = worker_class, connections
        self.env = dict(os.environ)
        self.env["SOCKETIO_ASYNC_MODE"] = "gevent" if worker_class == "gevent" else "threading"
        self.env.setdefault("LOOPBACK_INSTANCE", str(ROOT / "instance"))
        self.env["FLASK_APP"] = "wsgi"
        self.instance = Path(self.env["LOOPBACK_INSTANCE"])
        self.scaled = bool(self.env.get("REDIS_URL"))
        self.web_user = web_user(self.env.get("LOOPBACK_USER", "loopback"))

    # -- the children ----------------------------------------------------------------------

    def start_service(self) -> subprocess.Popen:
        if self.scaled:
            command = [str(BIN / "flask"), "worker"]
            return subprocess.Popen(command, cwd=ROOT, env=self.env, start_new_session=True)
        command = [sys.executable, "-m", "app.jobs.service"]
        return subprocess.Popen(command, cwd=ROOT, env=self.env, start_new_session=True)

    def start_service_and_wait(self, timeout: float = 60) -> subprocess.Popen:
        """The first start: wait until the service listens (or fail clearly)."""
        if self.scaled:
            return self.start_service()
        reader, writer = os.pipe()
        env = {**self.env, "LOOPBACK_READY_FD": str(writer)}
        process = subprocess.Popen(
            [sys.executable, "-m", "app.jobs.service"],
            cwd=ROOT,
            env=env,
            pass_fds=(writer,),
            start_new_session=True,
        )
        os.close(writer)
        try:
            ready, _, _ = select.select([reader], [], [], timeout)
            line = os.read(reader, 64) if ready else b""
        finally:
            os.close(reader)
        if line.startswith(b"ready"):
            return process
        _signal_group(process, signal.SIGKILL)
        process.wait(10)
        raise SystemExit("[loopback] the grading service did not start (see its errors above)")

    def start_web(self) -> subprocess.Popen:
        listener = self._bind()
        command = [
            str(BIN / "gunicorn"),
            "--workers",
            str(self.workers),
            *gunicorn_worker_args(self.worker_class, self.threads, self.connections),
            "--bind",
            f"fd://{listener.fileno()}",
            "--access-logfile",
            "-",
            "--no-control-socket",  # no runtime-management socket
            "wsgi:app",
        ]
        if self.web_user is not None:
            uid, gid = self.web_user
            command = [
                "setpriv",
                f"--reuid={uid}",
                f"--regid={gid}",
                "--clear-groups",
                "--no-new-privs",
                "--inh-caps=-all",
                "--bounding-set=-all",
                "--",
                *command,
            ]
        try:
            return subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                pass_fds=(listener.fileno(),),
                start_new_session=True,
            )
        finally:
            listener.close()  # gunicorn holds it now; root does not

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self.host, self.port))
        except OSError:
            listener.close()
            raise
        listener.set_inheritable(True)
        return listener

    # -- checks ----------------------------------------------------------------------------

    def check(self) -> None:
        if os.geteuid() != 0:
            say(
                "not root: the web and the grading service run as you, and every grading "
                "ends in a clear error (the sandbox needs root)"
            )
            return
        if self.web_user is None:
            name = self.env.get("LOOPBACK_USER", "loopback")
            raise SystemExit(
                f"[loopback] no user '{name}' for the web: run `make setup` as root (it "
                "creates it), or set LOOPBACK_USER to an unprivileged user"
            )
        uid = self.web_user[0]
        if uid == 0:
            raise SystemExit("[loopback] LOOPBACK_USER must not be root")
        wrong = [
            str(path)
            for path in (self.instance, self.instance / "loopback.sqlite3")
            if path.exists() and path.stat().st_uid != uid
        ]
        if wrong:
            raise SystemExit(
                f"[loopback] the web user (uid {uid}) must own {', '.join(wrong)}: run "
                "`make setup` as root"
            )

    # -- the loop --------------------------------------------------------------------------

    def run(self) -> int:
        self.check()
        stopping: list[int] = []

        def stop(signum, _frame) -> None:
            stopping.append(signum)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        service = Child("grading service", self.start_service)
        web = Child("web", self.start_web)
        service.process = self.start_service_and_wait()
        service.started_at = time.monotonic()
        say(f"grading service ready (pid {service.process.pid})")
        try:
            web.start()
        except OSError as exc:
            service.stop(15)
            raise SystemExit(f"[loopback] cannot serve on {self.host}:{self.port}: {exc}") from None
        user = "you" if self.web_user is None else f"uid {self.web_user[0]}"
        say(f"serving http://{self.host}:{self.port} (web as {user}); Ctrl-C stops both")
        while not stopping:
            now = time.monotonic()
            service.check(now)
            web.check(now)
            time.sleep(0.2)
        say("stopping")
        web.stop(15)
        service.stop(15)
        return 0


def web_user(name: str) -> tuple[int, int] | None:
    """(uid, gid) of the web's user when we are root and it exists."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.serve", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=1, help="gunicorn worker processes")
    parser.add_argument(
        "--worker-class", choices=("gevent", "gthread"), default="gevent", help="gunicorn's"
    )
    parser.add_argument(
        "--connections", type=int, default=2000, help="open connections per gevent worker"
    )
    parser.add_argument("--threads", type=int, default=64, help="threads per gthread worker")
    args = parser.parse_args(argv)
    stack = Stack(
        args.host, args.port, args.workers, args.threads, args.worker_class, args.connections
    )
    return stack.run()


if __name__ == "__main__":
    sys.exit(main())
