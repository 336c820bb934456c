"""Shared fixtures, in the spirit of Flask's tutorial: app, client, runner, auth."""

from __future__ import annotations

import fcntl
import shutil
from pathlib import Path

import pytest
from flask_migrate import upgrade

from app.bank.files import read_directory
from app.bank.loader import BUILTIN_BANK, load_bank
from app.grading.sandbox import sandbox_problem
from app.models import db
from tests.helpers import (
    AuthActions,
    LiveServer,
    compile_translations,
    counting_queries,
    make_app,
    require,
    web_user_ids,
)


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> Path:
    """One SQLite file migrated and loaded with the bank; each test gets a copy of it."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / "loopback.sqlite3"
    app = make_app(folder, f"sqlite:///{path}")
    with app.app_context():
        upgrade()
        load_bank()
        db.engine.dispose()
    return path


@pytest.fixture
def app(migrated_database, tmp_path):
    path = tmp_path / "loopback.sqlite3"
    shutil.copy(migrated_database, path)
    app = make_app(tmp_path, f"sqlite:///{path}")
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session", autouse=True)
def translations() -> None:
    """The .mo files are build output (gitignored): compile them if `make` has not."""
    compile_translations()


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture(scope="session")
def sandbox() -> None:
    """Tests that run submitted code need bubblewrap and root (namespaces)."""
    problem = sandbox_problem()
    require(problem is None, f"no usable sandbox: {problem}")


@pytest.fixture
def stack(migrated_database, tmp_path, sandbox):
    """The `make run` stack (tests.helpers.LiveServer) on a copy of the test database:
    the supervisor, the grading service as root, the web as the unprivileged user."""
    require(web_user_ids() is not None, "needs root and the web's user (run `make setup` as root)")
    server = LiveServer(
        tmp_path,
        migrated_database,
        SECRET_KEY="stack-tests",
        GRADING_WORKERS=1,
        SWEEP_SECONDS=1,
        HEARTBEAT_SECONDS=1,
        STALE_SECONDS=5,
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def bank() -> dict:
    """The built-in bank's questions by slug, straight from the files."""
    _, questions = read_directory(BUILTIN_BANK)
    return {q.slug: q for q in questions}


@pytest.fixture
def workers(app):
    """Grading threads for this test only (the grading service's code, in this process)."""
    dispatcher = app.extensions["dispatcher"]
    dispatcher.start()
    yield dispatcher
    dispatcher.stop()


@pytest.fixture
def queries_of(app):
    """``queries_of(client, url)``: the SQL statements one GET runs (status 200 checked)."""

    def run(client, url: str) -> list[str]:
        with counting_queries(app) as statements:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return statements

    return run


@pytest.fixture(autouse=True)
def _shared_services(request):
    """`make test` runs on two workers (pytest-xdist): a test of the shared PostgreSQL
    database or Redis holds this machine-wide lock, so they run one at a time (with
    another suite running on the same machine too)."""
    if not (
        request.node.get_closest_marker("postgres") or request.node.get_closest_marker("redis")
    ):
        yield
        return
    with open("/tmp/loopback-tests-shared-services.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
