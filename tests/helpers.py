"""Helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from app import create_app
from app.grading import sandbox as sandbox_module

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def require(available: bool, reason: str) -> None:
    """Skip a test whose system dependency is missing; under CI=true fail instead."""
    if available:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and a dependency is missing: {reason}")
    pytest.skip(reason)


def make_app(instance: Path, database_uri: str, **extra) -> object:
    os.environ["LOOPBACK_INSTANCE"] = str(instance)
    settings = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "GRADING_WORKERS": 1,
        "START_GRADING_WORKERS": "0",
        # Tests driving the app through Flask's test client grade in threads of the test
        # process; tests/jobs and tests/browser run the real, separate grading service.
        "GRADING_IN_PROCESS": True,
    }
    settings.update(extra)
    return create_app(settings)


# --- web helpers (added for the questions and auth tests) ---------------------------------

_CSRF_INPUT_RE = re.compile(r'<input[^>]*\bname="csrf_token"[^>]*>')
_VALUE_RE = re.compile(r'\bvalue="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of the first form in a page."""
    field = _CSRF_INPUT_RE.search(html)
    assert field, "no csrf_token field in the page"
    value = _VALUE_RE.search(field.group(0))
    assert value, "the csrf_token field has no value"
    return value.group(1)


def compile_translations() -> None:
    """Compile app/translations/*/LC_MESSAGES/messages.po to .mo if missing or stale.

    ``make setup`` does this with pybabel; tests run without it too.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in (ROOT / "app" / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=po.parent.parent.name)
        tmp = mo.with_name(f".{mo.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as handle:
            write_mo(handle, catalog)
        os.replace(tmp, mo)


class AuthActions:
    """Register, sign in and out through the real forms (CSRF token included)."""

    def __init__(self, client) -> None:
        self._client = client

    def register(
        self,
        email="learner@example.com",
        password="correct horse",
        confirm=None,
        follow_redirects=False,
    ):
        page = self._client.get("/auth/register")
        return self._client.post(
            "/auth/register",
            data={
                "csrf_token": csrf_token(page.get_data(as_text=True)),
                "email": email,
                "password": password,
                "confirm": password if confirm is None else confirm,
            },
            follow_redirects=follow_redirects,
        )

    def login(
        self,
        email="learner@example.com",
        password="correct horse",
        next_url=None,
        follow_redirects=False,
    ):
        url = "/auth/login" + (f"?next={next_url}" if next_url else "")
        page = self._client.get(url)
        return self._client.post(
            url,
            data={
                "csrf_token": csrf_token(page.get_data(as_text=True)),
                "email": email,
                "password": password,
            },
            follow_redirects=follow_redirects,
        )

    def logout(self, follow_redirects=False):
        page = self._client.get("/")
        return self._client.post(
            "/auth/logout",
            data={"csrf_token": csrf_token(page.get_data(as_text=True))},
            follow_redirects=follow_redirects,
        )


def bank_spec(slug: str) -> dict:
    """The grading spec of ``slug`` in the built-in bank's files."""
    from app.bank.files import read_directory
    from app.bank.loader import BUILTIN_BANK

    _, questions = read_directory(BUILTIN_BANK)
    return next(q for q in questions if q.slug == slug).spec


def bank_check_count(slug: str) -> int:
    """How many checks the built-in bank's spec of ``slug`` has."""
    return len(bank_spec(slug)["checks"])


POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"


def reachable(url: str) -> bool:
    """Is the PostgreSQL or Redis server at ``url`` answering?"""
    try:
        if url.startswith("redis"):
            from redis import Redis

            return bool(Redis.from_url(url, socket_connect_timeout=2).ping())
        import sqlalchemy as sa

        engine = sa.create_engine(url, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


def count_submissions(app) -> int:
    import sqlalchemy as sa

    from app.models import Submission, db

    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Submission))


def reference_files(app, slug: str) -> dict[str, str]:
    """The reference solution of a question in ``app``'s database."""
    import sqlalchemy as sa

    from app.models import Question, db

    with app.app_context():
        question = db.session.scalar(sa.select(Question).where(Question.slug == slug))
        return dict(question.reference_files)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """The app served as `make run` serves it (gunicorn, embedded grading workers) on a
    SQLite file, for the browser tests and the web benchmark. ``settings`` become
    environment variables of the server and of ``flask`` commands."""

    def __init__(self, folder: Path, database: Path, **settings: object):
        self.env = {
            **os.environ,
            "LOOPBACK_INSTANCE": str(folder),
            "FLASK_APP": "wsgi",
            "DATABASE_URL": f"sqlite:///{database}",
            "START_GRADING_WORKERS": "1",
            **{key: str(value) for key, value in settings.items()},
        }
        self.env.pop("REDIS_URL", None)
        self.url = f"http://127.0.0.1:{free_port()}"
        self.process = None

    def flask(self, *args: str) -> str:
        import subprocess

        return subprocess.run(
            [str(ROOT / ".venv" / "bin" / "flask"), *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def start(self, threads: int = 32, timeout: float = 30) -> None:
        import subprocess

        import requests

        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                "--workers",
                "1",
                "--threads",
                str(threads),
                "--bind",
                self.url.removeprefix("http://"),
                "wsgi:app",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the live server did not start")

    def stop(self) -> None:
        import signal

        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(20)


def live_sandbox_processes(settle: float = 2.0) -> list[int]:
    """Processes of any sandbox uid. The grader SIGKILLs them all before a check returns;
    the kernel may still be tearing a killed one down (a thread group mid-exit), so allow
    it a moment to vanish: anything still there after that survived."""
    pool = sandbox_module.UIDS
    deadline = time.monotonic() + settle
    while True:
        pids = [
            pid
            for uid in range(pool.base, pool.base + pool.count)
            for pid in sandbox_module._processes_of(uid)
        ]
        if not pids or time.monotonic() > deadline:
            return pids
        time.sleep(0.05)
