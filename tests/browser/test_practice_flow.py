"""A learner practises in a real browser: the queue from the home page, a quiz answered (the
result keeps the answers), a code question failed (a hint unlocks) then passed (no more
hints promised), a concept question answered, revealed and rated; then, in Chinese, a
short mock interview to its summary and the progress page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app.bank.files import parse_question
from tests.browser.test_learner_flow import register, type_code
from tests.helpers import ROOT

pytestmark = pytest.mark.browser

WRONG_CLIENT = 'print("Connected, honestly")\n'
CLIENT = parse_question(
    (ROOT / "app" / "bank" / "sockets" / "02-tcp-handshake.md").read_text(encoding="utf-8")
).reference_files["client"]


def test_practise_the_queue_then_a_mock_interview_in_chinese(page: Page):
    register(page, "practiser@example.com")
    page.goto("/")
    expect(page.locator("#due-count")).to_have_text("0 questions due now")
    page.locator("#practise").click()
    first = re.compile(r"/questions/([a-z0-9-]+)\?practice=1$")
    page.wait_for_url(first, wait_until="domcontentloaded")
    first_slug = first.search(page.url).group(1)
    expect(page.locator(".practice-bar")).to_contain_text("Practising your queue.")
    page.locator("#practice-next").click()
    page.wait_for_url(
        re.compile(rf"/questions/(?!{first_slug}\?)[a-z0-9-]+\?practice=1$"),
        wait_until="domcontentloaded",
    )
    page.goto("/questions/tcp-handshake?practice=1")

    # The quiz: put the handshake in order; the result keeps the order given.
    steps = ("the client sends SYN", "the server answers SYN+ACK", "the client sends ACK")
    for position, step in enumerate(steps, start=1):
        page.get_by_label(step, exact=True).select_option(str(position))
    page.get_by_role("button", name="Check my answers").click()
    expect(page.locator(".quiz-score")).to_have_text("Your last score: 1 of 1 correct.")
    expect(page.locator(".quiz-result")).to_contain_text("The client opens with SYN")
    for position, step in enumerate(steps, start=1):
        expect(page.get_by_label(step, exact=True)).to_have_value(str(position))

    # The code: fails first (a hint unlocks), then passes.
    expect(page.locator(".hint-list")).to_have_count(0)
    type_code(page, "client", WRONG_CLIENT)
    page.get_by_role("button", name="Submit for grading").click()
    expect(page.locator("#summary-verdict")).to_contain_text("FAILED", timeout=60_000)
    page.goto("/questions/tcp-handshake?practice=1")
    expect(page.locator(".hint-list li")).to_have_count(1)
    expect(page.locator(".hint-list")).to_contain_text("The kernel runs the handshake")
    type_code(page, "client", CLIENT)
    page.get_by_role("button", name="Submit for grading").click()
    expect(page.locator("#summary-verdict")).to_contain_text("PASSED", timeout=60_000)
    page.goto("/questions/tcp-handshake?practice=1")
    expect(page.locator(".hints .muted")).to_have_text(
        re.compile(r"^You passed this question with \d+ hints? still locked\.$")
    )

    # A concept question: answer first, the key points wait behind the reveal.
    page.goto("/questions/udp-vs-tcp?practice=1")
    checklist = page.get_by_text("Which of these did you cover?")
    expect(checklist).to_be_hidden()
    page.get_by_label(re.compile("Write \\(or think through\\) your answer")).fill(
        "UDP: no handshake, 8-byte header, no delivery guarantee. TCP: reliable, ordered."
    )
    page.get_by_text("Reveal answer").click()
    expect(checklist).to_be_visible()
    page.locator("#covered-1").check()
    page.get_by_role("button", name="Good", exact=True).click()
    page.wait_for_url(re.compile(r"/questions/[a-z0-9-]+\?practice=1$"))
    expect(page.locator(".flash")).to_contain_text("Rated.")
    page.goto("/")
    expect(
        page.locator(".question-item", has_text="UDP vs TCP").locator(".practice-status")
    ).to_contain_text("Passed")
    expect(
        page.locator(".question-item", has_text="three-way handshake").locator(".practice-status")
    ).to_contain_text("Passed")

    # In Chinese: a short mock interview, reloaded midway, to its summary.
    page.get_by_role("link", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.locator("#mock-link").click()
    page.locator("#mock-count").fill("2")
    page.locator("#mock-minutes").fill("5")
    page.get_by_role("button", name="开始").click()
    page.wait_for_url(re.compile(r"/practice/mock/\d+$"))
    clock = page.locator(".countdown")
    expect(clock).to_have_text(re.compile(r"^[45]:\d\d$"))
    page.reload()
    expect(clock).to_have_text(re.compile(r"^[45]:\d\d$"))
    page.locator(".mock-questions a").first.click()
    expect(page.locator(".mock-bar")).to_contain_text("模拟面试：结束之前不显示参考答案。")
    expect(page.locator("details.answer")).to_have_count(0)
    page.get_by_role("link", name="返回面试").click()
    page.get_by_role("button", name="结束面试").click()
    expect(page.get_by_role("heading", name="总结")).to_be_visible()
    expect(page.locator(".summary-table tbody tr")).to_have_count(2)

    page.goto("/practice/progress")
    expect(page.locator("#streak")).to_have_text("连续练习：1 天。")
    expect(page.locator("svg.practice-chart rect.bar-reviews")).to_have_count(30)
