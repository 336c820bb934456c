"""A learner in a real browser: registers, writes a server and a client, watches them graded
live, sees the handshake drawn, gets a wrong server explained, switches language."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.helpers import bank_check_count

pytestmark = pytest.mark.browser

SERVER = """import socket

with socket.socket() as listener:
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 65432))
    listener.listen()
    conn, _ = listener.accept()
    with conn:
        while data := conn.recv(4096):
            conn.sendall(data)
"""

CLIENT = """import socket

message = b"Hello, World!"
with socket.create_connection(("127.0.0.1", 65432)) as sock:
    sock.sendall(message)
    reply = b""
    while len(reply) < len(message) and (chunk := sock.recv(1024)):
        reply += chunk
print("Received from server:", reply.decode())
"""

UPPERCASE_SERVER = SERVER.replace("conn.sendall(data)", "conn.sendall(data.upper())")

# Every text the live progress area shows, recorded as it changes (not after a reload),
# and each finished check the list shows as one line before the verdict.
RECORD_PROGRESS = """
window.__progress = [];
window.__lines = [];
document.addEventListener("DOMContentLoaded", () => {
  const area = document.getElementById("summary-progress");
  if (!area) return;
  new MutationObserver(() => window.__progress.push(area.innerText))
    .observe(area, {childList: true, subtree: true, characterData: true});
  new MutationObserver((changes) => {
    for (const change of changes)
      for (const node of change.addedNodes)
        if (node.matches && node.matches("li[data-line]")) window.__lines.push(node.innerText);
  }).observe(document.getElementById("submission"), {childList: true, subtree: true});
});
"""


def type_code(page: Page, role: str, code: str) -> None:
    tab = page.get_by_role("tab", name=re.compile(f"{role}.py"))
    if tab.count():  # a question with one role has no tabs
        tab.click()
    editor = page.locator(f"#editor-panel-{role} .cm-content")
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(code)


def register(page: Page, email: str) -> None:
    page.goto("/auth/register")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill("correct horse battery")
    page.get_by_label(re.compile("Confirm|Repeat")).fill("correct horse battery")
    page.get_by_role("button", name=re.compile("Create|Register|Sign up")).click()
    expect(page.get_by_text(email)).to_be_visible()


def test_learner_submits_watches_live_and_reads_the_trace(page: Page):
    page.add_init_script(RECORD_PROGRESS)
    frames: list = []  # what the result page's socket receives
    page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: frames.append(frame)))
    fetched: list[str] = []  # the checks fragment, fetched by the result page
    page.on("request", lambda r: fetched.append(r.url) if r.url.endswith("/checks") else None)
    register(page, "browser-learner@example.com")
    page.goto("/questions/tcp-echo")
    expect(page.get_by_role("tablist")).to_be_visible()
    type_code(page, "server", SERVER)
    type_code(page, "client", CLIENT)
    page.keyboard.press("ControlOrMeta+Enter")  # the editor's submit shortcut

    page.wait_for_url(re.compile(r"/submissions/\d+$"))
    expect(page.locator("#summary-verdict")).to_contain_text("PASSED", timeout=60_000)
    expect(page.locator("#summary-score")).to_contain_text("100%")
    progress = page.evaluate("window.__progress")
    total = bank_check_count("tcp-echo")
    assert any(re.search(rf"of {total}\b", text) for text in progress), progress
    lines = page.evaluate("window.__lines")
    assert lines and all(line.startswith("✓") and "Passed" in line for line in lines), lines
    # the socket carried the live state and events only; the checks came over HTTP: at the
    # verdict, and before it only for the checks that ended before the socket joined
    assert any(str(frame).startswith('42["snapshot"') for frame in frames), frames
    assert max(len(frame) for frame in frames) < 1024, max(frames, key=len)
    expect(page.locator("li.check-passed details.check-details")).to_have_count(total)
    assert 1 <= len(fetched) <= 2, fetched

    # every check passed: each is one line, its details (and trace) one click away
    first = page.locator("li.check-passed").first
    expect(first.locator("details.check-details")).not_to_have_attribute("open", "")
    assert titles_beside_their_status(page)
    first.locator("summary.check-head").click()
    diagram = first.locator("svg").filter(has_text="SYN-ACK")
    expect(diagram).to_be_visible()
    for label in ("SYN", "SYN-ACK", "ACK", "Three-way handshake"):
        expect(diagram).to_contain_text(label)

    # Edit again: the server now shouts back; the failing check is named.
    page.get_by_role("link", name="Edit again").click()
    type_code(page, "server", UPPERCASE_SERVER)
    page.get_by_role("button", name="Submit for grading").click()
    page.wait_for_url(re.compile(r"/submissions/\d+$"))
    expect(page.locator("#summary-verdict")).to_contain_text("FAILED", timeout=60_000)
    failed = page.locator("li.check-failed").first
    expect(failed).to_contain_text("Server echoes a short message")
    expect(failed).to_contain_text("should come back unchanged")

    # Switch the language: the result page in Chinese.
    page.get_by_role("link", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("#summary-verdict")).to_contain_text("未通过")
    expect(page.locator("li.check-failed").first).to_contain_text("服务器回显一条短消息")
    assert titles_beside_their_status(page)  # short titles too (the walk-through's 通过)


def titles_beside_their_status(page: Page) -> int:
    """Each check's title on the line of its status badge, right of it (a check's head is
    as wide as its card, not as its content); how many checks were looked at."""
    heads = page.locator("li.check summary.check-head").all()
    for head in heads:
        badge = head.locator(".check-status").bounding_box()
        title = head.locator(".check-title").bounding_box()
        assert badge and title and title["x"] > badge["x"] + badge["width"], (badge, title)
        assert abs(title["y"] - badge["y"]) < badge["height"], (badge, title)
    return len(heads)


def test_the_header_fits_a_phone_in_chinese(page: Page):
    """At 360 px, in Chinese, no header link breaks between its characters."""
    register(page, "phone@example.com")
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/lang/zh?next=/")
    for name in ("个人资料", "退出登录"):
        link = page.locator(".account").get_by_text(name, exact=True)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box is not None and box["height"] < 2 * 16 * 1.2, (name, box)
        assert box["x"] + box["width"] <= 360, (name, box)


# Every element of the header: where its box ends (none may pass the viewport's edge).
HEADER_RIGHT_EDGES = """() => [...document.querySelectorAll('.site-header *')]
  .filter((node) => node.getClientRects().length)
  .map((node) => [node.className || node.tagName, node.getBoundingClientRect().right])"""


def header_overflow(page: Page, width: int) -> list:
    beyond = [edge for edge in page.evaluate(HEADER_RIGHT_EDGES) if edge[1] > width + 0.5]
    if page.evaluate("document.documentElement.scrollWidth") > width:
        beyond.append(("document", page.evaluate("document.documentElement.scrollWidth")))
    return beyond


def test_the_header_shows_a_long_email_cut_on_its_own_line_at_390_px(page: Page):
    """At 390 px (a phone) the signed-in email keeps a readable width: a line of its own,
    cut with an ellipsis when longer, the full address in its title and for screen
    readers; nothing in the header passes the viewport's edge."""
    email = "a.very.long.learner.name.for.a.phone@example-university.edu"
    register(page, email)
    page.set_viewport_size({"width": 390, "height": 844})
    for lang, profile in (("en", "Profile"), ("zh", "个人资料")):
        page.goto(f"/lang/{lang}?next=/questions/tcp-echo")
        assert header_overflow(page, 390) == [], lang
        shown = page.locator(".site-header .account-email")
        expect(shown).to_be_visible()
        expect(shown).to_have_attribute("title", email)
        expect(shown).to_contain_text(email)  # whole in the text: what a screen reader reads
        box = shown.bounding_box()
        assert box is not None and box["width"] >= 300, (lang, box)  # not squeezed
        assert box["height"] < 2 * 16, (lang, box)  # one line
        style = shown.evaluate(
            "(node) => [getComputedStyle(node).textOverflow, node.scrollWidth > node.clientWidth]"
        )
        assert style == ["ellipsis", True], (lang, style)  # cut, and shows it is
        link = page.locator(".account").get_by_text(profile, exact=True)
        expect(link).to_be_visible()
        link_box = link.bounding_box()
        assert link_box is not None and link_box["y"] >= box["y"] + box["height"], lang

    page.goto("/lang/en?next=/questions/tcp-echo")  # a short address is shown whole
    page.get_by_role("button", name="Sign out").click()
    register(page, "me@example.com")
    page.goto("/questions/tcp-echo")
    shown = page.locator(".site-header .account-email")
    assert shown.evaluate("(node) => node.scrollWidth <= node.clientWidth")
    assert header_overflow(page, 390) == []
    page.get_by_role("button", name="Sign out").click()  # and an anonymous visitor's header
    page.goto("/questions/tcp-echo")
    expect(page.locator(".site-header").get_by_text("Sign in", exact=True)).to_be_visible()
    assert header_overflow(page, 390) == []


def test_an_instructors_header_fits_390_px_too(page: Page, live_server):
    """An instructor's main navigation has a fourth link (Studio): at 390 px it goes to
    the next line rather than past the viewport's edge."""
    email = "teacher.with.a.long.name@example-university.edu"
    live_server.create_user(email, "correct horse battery", role="instructor")
    page.goto("/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(email)).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    for lang, studio in (("en", "Studio"), ("zh", "教师工作台")):
        page.goto(f"/lang/{lang}?next=/")
        expect(page.locator(".main-nav").get_by_text(studio, exact=True)).to_be_visible()
        assert header_overflow(page, 390) == [], lang


def test_the_question_page_opens_at_its_top_with_the_editor_set_up(page: Page):
    """The editor's file tabs are set up as the page loads without scrolling the page to
    them: the header, the question and any message stay in view."""
    register(page, "top@example.com")
    for width, height in ((1280, 800), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto("/questions/tcp-echo")
        tab = page.get_by_role("tab", name=re.compile("client.py"))
        expect(tab).to_be_visible()  # the script has run: the tabs are shown
        expect(page.locator("#editor-panel-client .cm-content")).to_have_count(1)
        assert page.evaluate("window.scrollY") == 0, width
        tab.click()  # a tab chosen by the learner still shows its file
        expect(page.locator("#editor-panel-client")).to_be_visible()
        expect(page.locator("#editor-panel-server")).to_be_hidden()


def test_a_long_email_keeps_the_desktop_header_on_one_row(page: Page):
    """On a desktop a long signed-in email is cut shorter rather than pushing the language
    switch and the account's links to a second row."""
    email = "a.very.long.address.for.testing@example-university.edu"
    register(page, email)
    for width in (1280, 1024):
        page.set_viewport_size({"width": width, "height": 800})
        for lang in ("en", "zh"):
            page.goto(f"/lang/{lang}?next=/questions/tcp-echo")
            brand = page.locator(".site-header .brand").bounding_box()
            for part in (".account-email", ".account-link", ".lang-switch"):
                box = page.locator(f".site-header {part}").bounding_box()
                assert brand and box, part
                assert (
                    abs(box["y"] + box["height"] / 2 - (brand["y"] + brand["height"] / 2)) < 12
                ), (
                    width,
                    lang,
                    part,
                    box,
                    brand,
                )
            shown = page.locator(".site-header .account-email")
            expect(shown).to_have_attribute("title", email)
            assert shown.evaluate("(node) => node.clientWidth") >= 96, (width, lang)
            assert header_overflow(page, width) == []
