"""In a real browser: an instructor writes a UDP question from the peer catalog, validates it
(the reference passes, a known-wrong answer fails), publishes it; a learner finds it, solves
it, and shows up in the topic's statistics."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import csp_violations
from tests.browser.test_learner_flow import register, type_code

pytestmark = pytest.mark.browser

REFERENCE = """import socket

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.bind(("127.0.0.1", 65432))
    while True:
        data, sender = sock.recvfrom(2048)
        sock.sendto(data.upper(), sender)
"""

WRONG = REFERENCE.replace("data.upper()", "data")

SPEC = """port: 65432
checks:
  - id: shouts-back
    title:
      en: "Answers each datagram in capitals, to its sender"
      zh: "把每个数据报转成大写回给发送方"
    role: server
    peer: {kind: udp_client, datagrams: ["hello", "quiet please"], senders: 2}
    expect:
      - peer_received: "HELLOQUIET PLEASE"
      - no_traceback: true
"""


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name=re.compile("Sign in|Log in")).click()
    expect(page.get_by_text(email)).to_be_visible()


def test_instructor_publishes_a_udp_question_a_learner_solves_it(page: Page, browser, live_server):
    live_server.create_user("teacher@example.com", "teacher-password", "instructor")
    sign_in(page, "teacher@example.com", "teacher-password")

    page.goto("/instructor/questions/new")
    page.get_by_label("Slug").fill("udp-shout")
    topic = "Network protocols and socket programming (sockets)"
    page.get_by_label("Topic").select_option(label=topic)
    page.get_by_label("Kind").select_option("code")
    page.get_by_label("Title (English)").fill("A UDP server that shouts back")
    page.get_by_label("Title (Chinese)").fill("大声回应的 UDP 服务器")
    page.get_by_label("Prompt (English)").fill(
        "Bind 127.0.0.1:65432 (UDP) and answer every datagram in capitals, to its sender."
    )
    page.get_by_label("Prompt (Chinese)").fill(
        "绑定 127.0.0.1:65432（UDP），把每个数据报转成大写回给发送方。"
    )
    page.get_by_label("Roles").fill("server")
    page.get_by_role("button", name="Update roles").click()
    page.locator("textarea[name='starter-server']").fill("import socket\n# TODO\n")
    page.locator("textarea[name='reference-server']").fill(REFERENCE)
    page.locator("textarea[name='spec']").fill(SPEC)
    page.get_by_role("button", name="Save", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/instructor/questions/udp-shout$"))

    # Publishing before validating is refused.
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_text("Run the validation for the current version first.")).to_be_visible()

    page.get_by_text("Add a known-wrong answer").click()  # opens the <details>
    page.get_by_label("Name").fill("echoes without shouting")
    page.locator("textarea[name='wrong-server']").fill(WRONG)
    page.get_by_role("button", name="Add known-wrong answer").click()
    page.get_by_role("button", name="Run reference solution / validate").click()
    expect(page.get_by_text("Validation passed for version")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("echoes without shouting").first).to_be_visible()
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_text("Published: learners can see the question now.")).to_be_visible()

    learner = browser.new_context(base_url=live_server.url, locale="en-US")
    learner.set_default_timeout(20_000)
    learner_violations = csp_violations(learner)
    student = learner.new_page()
    register(student, "udp-learner@example.com")
    student.goto("/?q=shouts")
    found = student.get_by_role("link", name="A UDP server that shouts back")
    expect(found).to_have_attribute("href", "/questions/udp-shout")
    student.goto("/questions/udp-shout")
    type_code(student, "server", REFERENCE)
    student.get_by_role("button", name="Submit for grading").click()
    expect(student.locator("#summary-verdict")).to_contain_text("PASSED", timeout=60_000)
    learner.close()
    assert not learner_violations, "CSP violations on the console:\n" + "\n".join(
        learner_violations
    )

    page.goto("/instructor/topics/sockets/stats")
    row = page.locator("tr", has_text="udp-shout")
    expect(row).to_contain_text("100%")
    expect(row.locator("td").nth(0)).to_contain_text("1")  # attempts
    expect(page.locator("svg").filter(has_text="udp-shout")).to_be_visible()
    csv = page.request.get("/instructor/topics/sockets/stats.csv").text()
    assert re.search(r"^udp-shout,A UDP server that shouts back,1,1,1,1,1\.0,", csv, re.M), csv
