"""A result page opened in the middle of a long check knows which check runs and for how
long (issue 12): the socket-timeout question's silent-server check lasts about 9 s for a
client that never sets a timeout. Then the finished page reads top-down, and the killed
client's trace says so."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import csp_violations
from tests.browser.test_learner_flow import register, type_code

pytestmark = pytest.mark.browser

# The bank's known-wrong answer without a timeout: it answers the normal server and
# reports the refused connection, but waits forever on the silent server (killed at the
# check's 9 s).
WAITING_CLIENT = """import socket

try:
    with socket.create_connection(("127.0.0.1", 65432)) as sock:
        sock.sendall(b"Hello, server")
        print("Received from server:", sock.recv(1024).decode())
except OSError as exc:
    print("Error occurred:", exc)
"""

SILENT_TITLE = "Client gives up on a silent server within 7 s"


def running_check(page: Page, url: str, timeout: float = 30) -> dict:
    """Poll the JSON snapshot until the silent-server check runs."""
    deadline = time.monotonic() + timeout
    data: dict = {}
    while time.monotonic() < deadline:
        data = page.request.get(f"{url}.json").json()
        if (data.get("running") or {}).get("id") == "client-gives-up":
            return data
        assert data["status"] in ("queued", "running"), data
        time.sleep(0.2)
    raise AssertionError(f"the silent-server check never ran: {data}")


def test_a_page_opened_mid_check_names_the_check_and_counts(page: Page, browser, live_server):
    register(page, "late-watcher@example.com")
    page.goto("/questions/socket-timeout")
    type_code(page, "client", WAITING_CLIENT)
    page.get_by_role("button", name="Submit for grading").click()
    page.wait_for_url(re.compile(r"/submissions/\d+$"))
    url = page.url
    page.goto("about:blank")  # the first page goes away before the long check starts

    data = running_check(page, url)
    assert data["running"]["elapsed_ms"] < 6000, data["running"]

    # Without JavaScript: the same words, served, and a page that reloads itself.
    plain = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    plain.add_cookies(page.context.cookies())
    bare = plain.new_page()
    bare.goto(url)
    expect(bare.locator("#summary-progress")).to_contain_text(
        f"Running check 2 of 3: {SILENT_TITLE}"
    )
    expect(bare.locator("#summary-progress .running-clock")).to_have_text(re.compile(r"— \d+ s"))
    expect(bare.locator('head meta[http-equiv="refresh"]')).to_have_count(1)
    expect(bare.get_by_text("This page reloads itself every 5 seconds")).to_be_visible()
    plain.close()

    late = page.context.new_page()  # opened after check_started went out
    late.goto(url)
    # the same learner's page in Chinese (its browser's language), open before the verdict
    chinese = browser.new_context(base_url=live_server.url, locale="zh-CN")
    chinese.add_cookies(page.context.cookies())
    violations = csp_violations(chinese)
    zh = chinese.new_page()
    zh.goto(url)
    expect(zh.locator("#summary-progress")).to_contain_text("正在运行第 2 / 3 项检查")
    expect(zh.locator("#summary-took")).to_be_hidden()
    progress = late.locator("#summary-progress")
    expect(progress).to_contain_text(f"Running check 2 of 3: {SILENT_TITLE}")
    expect(late.locator("#reload-note")).to_be_hidden()  # live, not reloading
    clock = late.locator("#summary-progress .running-clock")
    expect(clock).to_have_text(re.compile(r"— \d+ s"))
    first = int(re.search(r"(\d+) s", clock.inner_text()).group(1))
    expect(clock).not_to_have_text(re.compile(rf"^\s*— {first} s$"), timeout=3000)  # counts on
    assert int(re.search(r"(\d+) s", clock.inner_text()).group(1)) > first

    # The verdict: the killed check first and open, its trace marked; passed ones folded.
    expect(late.locator("#summary-verdict")).to_contain_text("FAILED", timeout=60_000)
    expect(clock).to_have_count(0)
    # how long the grading took: with the verdict, not after a reload, in the page's words
    took = late.locator("#summary-took")
    expect(took).to_have_text(re.compile(r"^Graded in \d+\.\d s\.$"))
    expect(zh.locator("#summary-verdict")).to_contain_text("未通过", timeout=30_000)
    expect(zh.locator("#summary-took")).to_have_text(re.compile(r"^评分用时 \d+\.\d 秒。$"))
    seconds = re.search(r"[\d.]+", took.inner_text()).group()
    assert zh.locator("#summary-took").inner_text() == f"评分用时 {seconds} 秒。"
    chinese.close()
    assert not violations, violations
    first_check = late.locator("li.check").first
    expect(first_check).to_contain_text(SILENT_TITLE)
    expect(first_check.locator("details.check-details")).to_have_attribute("open", "")
    expect(first_check).to_contain_text("stopped by the grader: time limit")
    expect(first_check.locator(".trace-killed")).to_contain_text(
        "Killed by the grader (time limit)"
    )
    passed = late.locator("li.check-passed")
    expect(passed).to_have_count(2)
    for index in range(2):
        expect(passed.nth(index).locator("details.check-details")).not_to_have_attribute("open", "")
        expect(passed.nth(index).locator("svg")).to_be_hidden()
    # and a reload says what the live page said
    live_words = took.inner_text()
    late.reload()
    expect(late.locator("#summary-took")).to_have_text(live_words)
