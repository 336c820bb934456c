"""A real browser (Playwright driving Debian's /usr/bin/chromium) against a live server
started as `make run` starts it: gunicorn, embedded grading workers, SQLite."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import LiveServer, require

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def live_server(migrated_database, tmp_path_factory, sandbox):
    folder = tmp_path_factory.mktemp("live")
    database = folder / "loopback.sqlite3"
    shutil.copy(migrated_database, database)
    server = LiveServer(folder, database, SECRET_KEY="browser-tests", GRADING_WORKERS=2)
    server.start()
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


def csp_violations(context) -> list[str]:
    """The console messages of every page of ``context`` that report a blocked script,
    style or connection: the pages run under the app's Content-Security-Policy."""
    found: list[str] = []

    def listen(message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            found.append(f"{message.type}: {message.text}")

    context.on("console", listen)
    return found


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(20_000)
    violations = csp_violations(context)
    opened = context.new_page()
    yield opened
    context.close()
    assert not violations, "CSP violations on the console:\n" + "\n".join(violations)
