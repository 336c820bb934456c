"""Helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import time
from pathlib import Path

import pytest

from app import create_app
from app.grading import uids

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


@contextlib.contextmanager
def counting_queries(app):
    """The SQL statements ``app``'s engine runs inside the block (a list, filled as they
    run): ``with counting_queries(app) as statements: client.get(url)``."""
    import sqlalchemy as sa

    from app.models import db

    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def record(_connection, _cursor, statement, *_args) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


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


def web_user_ids() -> tuple[int, int] | None:
    """(uid, gid) of the web's unprivileged user when `make run` would use it: we are
    root and `make setup` created it."""
    import pwd

    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(os.environ.get("LOOPBACK_USER", "loopback"))
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (children, grandchildren, ...)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _started(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[19]
    except (OSError, IndexError):
        return None


class LiveServer:
    """The app served as `make run` serves it — ``python -m app.serve``: the grading
    service as root, gunicorn as the web's unprivileged user — on a SQLite file, for the
    browser tests, the process-model tests and the web benchmark. ``settings`` become
    environment variables of the stack and of ``flask`` commands (run as the web's user).

    As root with the web's user present, the instance folder is a new one that user owns
    (pytest's temporary folders are root's and closed to it), holding a copy of
    ``database``; otherwise ``folder`` is used and everything runs as the caller."""

    def __init__(self, folder: Path, database: Path, **settings: object):
        import shutil
        import tempfile

        self.web_user = web_user_ids()
        self.own_folder = self.web_user is not None
        if self.own_folder:
            folder = Path(tempfile.mkdtemp(prefix="loopback-live-"))
            os.chmod(folder, 0o750)
            if database.exists():
                shutil.copy(database, folder / database.name)
            database = folder / database.name
            for path in [folder, *folder.iterdir()]:
                os.chown(path, *self.web_user)
        self.folder, self.database = folder, database
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST")},
            "LOOPBACK_INSTANCE": str(folder),
            "FLASK_APP": "wsgi",
            "DATABASE_URL": f"sqlite:///{database}",
            **{key: str(value) for key, value in settings.items()},
        }
        for key in ("REDIS_URL", "GRADING_IN_PROCESS", "START_GRADING_WORKERS", "GRADING_SOCKET"):
            self.env.pop(key, None)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None
        self.log = folder / "serve.log"

    def as_web_user(self) -> list[str]:
        if self.web_user is None:
            return []
        uid, gid = self.web_user
        return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]

    def flask(self, *args: str) -> str:
        import subprocess

        return subprocess.run(
            [*self.as_web_user(), str(ROOT / ".venv" / "bin" / "flask"), *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def create_user(self, email: str, password: str, role: str = "learner") -> None:
        self.flask("users", "create", email, "--password", password, "--role", role)

    def start(self, threads: int = 32, timeout: float = 60, worker_class: str = "gevent") -> None:
        import subprocess

        import requests

        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    str(ROOT / ".venv" / "bin" / "python"),
                    "-m",
                    "app.serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--threads",
                    str(threads),
                    "--worker-class",
                    worker_class,
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                requests.get(self.url + "/", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the live server did not start:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def children(self) -> dict[str, int]:
        """The supervisor's children by role: ``service`` and ``web`` (gunicorn master)."""
        found = {}
        for pid in descendants(self.process.pid):
            try:
                parent = int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
                command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if parent != self.process.pid:
                continue
            if b"app.jobs.service" in command or b"worker" in command:
                found["service"] = pid
            elif any(part.endswith(b"gunicorn") for part in command):
                found["web"] = pid
        return found

    def stop(self, timeout: float = 40) -> None:
        """Ctrl-C, as in a terminal: the supervisor stops both children."""
        import shutil
        import signal
        import subprocess

        if self.process is not None and self.process.poll() is None:
            tree = {pid: _started(pid) for pid in descendants(self.process.pid)}
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
            for pid, started in tree.items():  # leftovers of a hung stop, not a reused pid
                if started is not None and _started(pid) == started:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
        if self.own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)


def live_sandbox_processes(settle: float = 2.0) -> list[int]:
    """Processes left under a sandbox uid that no grader holds. A grader leases a uid (a
    lock file) for as long as its run lives and SIGKILLs the run before letting go, so a
    process under a free uid survived its check; a uid another grader holds now (another
    test process on this machine) is its business. The kernel may still be tearing a
    killed process down (a thread group mid-exit): allow it a moment to vanish."""
    pool = uids.UIDS
    pool.lock_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    deadline = time.monotonic() + settle
    while True:
        pids = []
        for uid in pool.uids():
            handle = os.open(pool.lock_dir / f"uid-{uid}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                pids += uids.processes_of(uid)
            except BlockingIOError:
                continue  # leased: a run of a grader that is running now
            finally:
                os.close(handle)
        if not pids or time.monotonic() > deadline:
            return pids
        time.sleep(0.05)


def en(value):
    """A grader message (or value) as an English reader reads it."""
    from app.grading.messages import render

    return render(value, "en")


def zh(value):
    """A grader message (or value) in Chinese, from the compiled catalog."""
    from app.grading.messages import render_in

    return render_in(value, "zh")


# Three English words in a row: a sentence (or most of one) left untranslated. Words in
# capitals (SYN, FIN-PSH-ACK, UDP) are protocol names, the same in both languages.
ENGLISH_RUN = re.compile(r"\b[A-Z]?[a-z]{2,}(?:[ ,'’-]+[A-Z]?[a-z]{2,}){2,}\b")


def untranslated(result) -> list[str]:
    """English left in what the grader says of ``result`` (a GradeResult) in Chinese: its
    message, and each failed check's message and expected/actual words."""
    said = [result.message]
    for check in result.checks:
        if check.status in ("failed", "error"):
            said.append(check.message)
            for item in check.expectations:
                if not item["ok"]:
                    said += [v for v in (item["expected"], item["actual"]) if isinstance(v, dict)]
    return [run for value in said for run in ENGLISH_RUN.findall(str(zh(_words_only(value))))]


def _words_only(value):
    """A message with its text parameters (the program's bytes and output) blanked."""
    from app.grading.messages import is_message

    if is_message(value):
        params = {key: _words_only(item) for key, item in value["params"].items()}
        return {**value, "params": params}
    if isinstance(value, list):
        return [_words_only(item) for item in value]
    return "…" if isinstance(value, str) else value


@contextlib.contextmanager
def postgres_app(tmp_path: Path):
    """An app on a schema of its own in the shared PostgreSQL database (dropped after)."""
    import uuid

    import sqlalchemy as sa

    require(reachable(POSTGRES_URL), "PostgreSQL is not reachable at 127.0.0.1:5432 (db test)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_app(
            tmp_path,
            POSTGRES_URL,
            SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"options": f"-csearch_path={schema}"}},
        )
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
