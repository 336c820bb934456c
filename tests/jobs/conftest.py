"""Real processes for the nothing-lost tests: the grading service or `flask worker`
started as a subprocess on a test database, killed for real."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from app.models import Question, Submission, User, db
from tests.helpers import ROOT, make_app

SLOW_CLIENT = """
import socket, time
time.sleep(2.5)
message = b"Hello, World!"
with socket.create_connection(("127.0.0.1", 65432)) as s:
    s.sendall(message)
    reply = b""
    while len(reply) < len(message):
        chunk = s.recv(100)
        if not chunk:
            break
        reply += chunk
    print("Received from server:", reply.decode())
"""


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Deployment:
    """A database file plus the environment its processes share."""

    def __init__(self, folder, database, **settings):
        self.folder = folder
        self.uri = f"sqlite:///{database}"
        self.settings = {"SWEEP_SECONDS": 1, "STALE_SECONDS": 3, "HEARTBEAT_SECONDS": 1, **settings}
        self.app = make_app(folder, self.uri, **self.settings)
        self.processes: list[subprocess.Popen] = []

    def env(self, **extra) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        env.update(
            {
                "DATABASE_URL": self.uri,
                "LOOPBACK_INSTANCE": str(self.folder),
                "SECRET_KEY": "test-secret",
                "FLASK_APP": "wsgi",
                "GRADING_WORKERS": "1",
            }
        )
        env.update({k: str(v) for k, v in self.settings.items()})
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def spawn(self, *args: str, **env) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", *args],
            cwd=ROOT,
            env=self.env(**env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def service(self) -> subprocess.Popen:
        """The grading service (`python -m app.jobs.service`), as `make run` starts it."""
        process = subprocess.Popen(
            [sys.executable, "-m", "app.jobs.service"],
            cwd=ROOT,
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def store(self, slug: str, files: dict[str, str]) -> int:
        """A submission stored as queued, as the web app does before queueing it."""
        with self.app.app_context():
            user = db.session.scalar(sa.select(User)) or User(email="l@example.com")
            if user.id is None:
                user.set_password("correct horse")
                db.session.add(user)
            question = db.session.scalar(sa.select(Question).where(Question.slug == slug))
            submission = Submission(
                user=user, question=question, files=files, question_version=question.version
            )
            db.session.add(submission)
            db.session.commit()
            return submission.id

    def submission(self, submission_id: int) -> Submission:
        with self.app.app_context():
            found = db.session.get(Submission, submission_id)
            db.session.expunge(found)
            return found

    def kill(self, process: subprocess.Popen) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
        with self.app.app_context():
            db.engine.dispose()


@pytest.fixture
def deployment(migrated_database, tmp_path, sandbox):
    database = tmp_path / "loopback.sqlite3"
    shutil.copy(migrated_database, database)
    created = Deployment(tmp_path, database)
    yield created
    created.close()
