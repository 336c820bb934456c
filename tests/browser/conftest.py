"""A real browser (Playwright driving Debian's /usr/bin/chromium) against a live server
started as `make run` starts it: gunicorn, embedded grading workers, SQLite."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.helpers import ROOT, require

CHROMIUM = Path("/usr/bin/chromium")
BIN = ROOT / ".venv" / "bin"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, folder: Path, database: Path):
        self.env = {
            **os.environ,
            "LOOPBACK_INSTANCE": str(folder),
            "FLASK_APP": "wsgi",
            "DATABASE_URL": f"sqlite:///{database}",
            "SECRET_KEY": "browser-tests",
            "START_GRADING_WORKERS": "1",
            "GRADING_WORKERS": "2",
        }
        self.env.pop("REDIS_URL", None)
        self.url = f"http://127.0.0.1:{_free_port()}"
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--workers",
                "1",
                "--threads",
                "32",
                "--bind",
                self.url.removeprefix("http://"),
                "wsgi:app",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the live server did not start")

    def flask(self, *args: str) -> str:
        return subprocess.run(
            [str(BIN / "flask"), *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(20)


@pytest.fixture(scope="session")
def live_server(migrated_database, tmp_path_factory, sandbox):
    folder = tmp_path_factory.mktemp("live")
    database = folder / "loopback.sqlite3"
    shutil.copy(migrated_database, database)
    server = LiveServer(folder, database)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    require(CHROMIUM.exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(20_000)
    opened = context.new_page()
    yield opened
    context.close()
