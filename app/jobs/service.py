"""The grading service: the only process that keeps root (network namespaces, cgroups, the
sandbox's uids). ``python -m app.jobs.service`` — ``make run`` starts and supervises it
(:mod:`app.serve`).

It depends on the engine and the database models only: a bare Flask object holds the
database configuration (Flask-SQLAlchemy needs one), with no blueprint, template, session,
Markdown, YAML or zip handling, and it serves no HTTP. It claims queued submissions and
validations from the database, grades them with the engine, stores the results, and
broadcasts progress to the web processes over the Unix socket of :mod:`app.jobs.channel`.
"""

from __future__ import annotations

import grp
import logging
import os
import pwd
import signal
import sys
import threading

from flask import Flask

from app import config
from app.jobs.channel import EventServer
from app.jobs.worker import GradingWorkers
from app.models import db

log = logging.getLogger("loopback.grading-service")


def create_service_app() -> Flask:
    app = Flask("app", instance_path=os.environ.get("LOOPBACK_INSTANCE") or None)
    app.config.from_mapping(config.from_environment(app.instance_path, secret=False))
    db.init_app(app)
    return app


def web_group(user: str) -> int | None:
    """The group allowed to use the socket: the web user's, else only root's."""
    try:
        return pwd.getpwnam(user).pw_gid
    except KeyError:
        return grp.getgrnam("root").gr_gid if os.geteuid() == 0 else None


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s grading-service[%(process)d] %(message)s"
    )
    app = create_service_app()
    if os.geteuid() != 0:
        log.warning("not root: every grading will end in a clear error (the sandbox needs root)")
    workers = GradingWorkers(app, app.config["GRADING_WORKERS"])
    server = EventServer(
        app.config["GRADING_SOCKET"], web_group(app.config["LOOPBACK_USER"]), workers.wake
    )
    app.extensions["grading_events"] = server.broadcast
    stopping = threading.Event()

    def stop(signum, _frame) -> None:
        log.info("signal %d: stopping", signum)
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    workers.start()
    log.info("grading with %d threads; events on %s", workers.size, app.config["GRADING_SOCKET"])
    _ready()
    stopping.wait()
    # Gradings in flight stay `running`: the next service re-queues them (their pid is
    # dead), so nothing is lost by not waiting for them.
    workers.stop(timeout=2)
    server.close()
    return 0


def _ready() -> None:
    """Tell the supervisor (which passed a pipe) that the socket is listening."""
    fd = os.environ.pop("LOOPBACK_READY_FD", "")
    if fd.isdigit():
        try:
            os.write(int(fd), b"ready\n")
        finally:
            os.close(int(fd))


if __name__ == "__main__":
    sys.exit(main())
