"""A result page that misses what the server sends recovers by itself (issue 14): its
socket's frames pass through a relay that loses every grading event and the first answer
to its `watch`, then tells it the server disconnected it; the page still ends showing the
verdict and the checks, by asking again."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.test_learner_flow import register, type_code
from tests.browser.test_live_progress import SILENT_TITLE, WAITING_CLIENT

pytestmark = pytest.mark.browser


def test_a_page_that_misses_the_events_and_an_answer_still_gets_its_verdict(page: Page):
    lost: list[str] = []
    answers: list[str] = []  # over every connection of the page

    def relay(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_server(message) -> None:
            text = str(message)
            if text.startswith('42["submission"'):
                lost.append(text)
                return
            if text.startswith('42["snapshot"'):
                answers.append(text)
                if len(answers) == 1:  # the first answer is lost, and the connection with it
                    lost.append(text)
                    ws.send("41")  # the server's disconnect: the client does not reconnect alone
                    return
            ws.send(message)

        server.on_message(from_server)

    page.route_web_socket(re.compile(r"/socket\.io/"), relay)
    register(page, "lossy-learner@example.com")
    page.goto("/questions/socket-timeout")  # a check of 9 s: events go out after the rejoin
    type_code(page, "client", WAITING_CLIENT)
    page.get_by_role("button", name="Submit for grading").click()
    page.wait_for_url(re.compile(r"/submissions/\d+$"))

    expect(page.locator("#summary-verdict")).to_contain_text("FAILED", timeout=60_000)
    expect(page.locator("li.check-failed").first).to_contain_text(SILENT_TITLE)
    expect(page.locator("li.check-failed .trace-killed")).to_have_count(1)
    assert any(text.startswith('42["snapshot"') for text in lost), lost
    assert any(text.startswith('42["submission"') for text in lost), lost
