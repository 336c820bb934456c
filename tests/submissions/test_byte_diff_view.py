"""The bytes of a difference ("differs from offset 1: expected `e`, got `E`"): stored bare,
in ``<code>`` on a page (never a literal backquote inside a code element), in backquotes
in the plain text of a message (Markdown: the API's ``en``/``zh``, the CLI's report).
Results graded before, which hold the bytes in backquotes, read the same."""

from __future__ import annotations

import json
import re

from app.grading.checks.exchange import _bytes_outcome
from app.grading.judge import _expectation
from app.grading.messages import msg, render
from app.grading.transcript import compare, difference_note
from tests.api.helpers import Api, make_token
from tests.submissions.test_feedback_web import check, result_of
from tests.submissions.test_pages import EN, ZH, page, store_result

CODE = re.compile(r"<code\b[^>]*>(.*?)</code>", re.S)


def diff_check() -> dict:
    """A failed check as the engine makes it now: the echo came back with a byte changed."""
    outcome = _bytes_outcome(False, msg("echo.exact", sent=5), b"hello", b"hELLO", 5, 5)
    item = _expectation("echo_exact", outcome)
    return check("server-echo-short", "failed", message=item["message"], expectations=[item])


def backquoted(check_result: dict) -> dict:
    """The same check as engines before stored it: each differing byte in backquotes."""
    old = json.loads(json.dumps(check_result))  # as stored: nothing shared
    item = old["expectations"][0]
    item["diff"]["expected_byte"] = f"`{item['diff']['expected_byte']}`"
    item["diff"]["actual_byte"] = f"`{item['diff']['actual_byte']}`"
    for message in (item["message"], old["message"], item["actual"]):
        note = message["params"]["note"]
        note["params"]["expected"] = f"`{note['params']['expected']}`"
        note["params"]["actual"] = f"`{note['params']['actual']}`"
    return old


def test_the_bytes_are_stored_bare_and_backquoted_in_the_plain_text():
    diff = compare(b"hello", b"hELLO", 5, 5)
    assert (diff["expected_byte"], diff["actual_byte"]) == ("e", "E")
    assert render(difference_note(diff), "en") == "differs from offset 1: expected `e`, got `E`"
    # a backquote is fenced by a longer run, as Markdown reads it
    tick = compare(b"a`", b"a'", 2, 2)
    assert tick["expected_byte"] == "`"
    assert render(difference_note(tick), "en") == "differs from offset 1: expected `` ` ``, got `'`"
    short = compare(b"hello", b"he", 5, 2)
    assert render(difference_note(short), "en") == (
        "differs from offset 2: expected `l`, got the end (2 of 5 bytes)"
    )


def test_the_page_shows_the_bytes_in_code_without_backquotes(app, client, learner):
    shown = {}
    for name, made in (("now", diff_check()), ("before", backquoted(diff_check()))):
        submission_id = learner.submit("tcp-echo", {"client": "print(1)\n"}).get_json()["id"]
        store_result(app, submission_id, result_of(made))
        html = page(client, f"/submissions/{submission_id}/checks")
        codes = CODE.findall(html)
        assert codes and not [code for code in codes if "`" in code], (name, codes)
        assert "`" not in html, name  # nor anywhere else: in code, or nothing
        message = html.split('<p class="check-message">')[1].split("</p>")[0]
        assert "expected <code>e</code>, got <code>E</code>" in message, (name, message)
        actual = html.split('<div class="actual">')[1].split("</div>")[0]
        assert (
            "<code>b&#34;hELLO&#34;</code> — differs from offset 1: "
            "expected <code>e</code>, got <code>E</code>"
        ) in actual, (name, actual)
        zh = page(client, f"/submissions/{submission_id}/checks", headers=ZH)
        assert "应为 <code>e</code>，实际为 <code>E</code>" in zh and "`" not in zh, name
        shown[name] = html
    assert shown["before"] == shown["now"]


def test_json_readers_get_bare_bytes_and_markdown_text(app, client, learner):
    answers = {}
    for name, made in (("now", diff_check()), ("before", backquoted(diff_check()))):
        submission_id = learner.submit("tcp-echo", {"client": "print(1)\n"}).get_json()["id"]
        store_result(app, submission_id, result_of(made))
        data = client.get(f"/submissions/{submission_id}.json", headers=EN).get_json()
        item = data["checks"][0]["expectations"][0]
        assert (item["diff"]["expected_byte"], item["diff"]["actual_byte"]) == ("e", "E"), name
        assert item["message"]["en"].endswith(
            "What arrived differs from offset 1: expected `e`, got `E`."
        ), name
        assert "应为 `e`，实际为 `E`" in item["message"]["zh"], name
        note = item["message"]["params"]["note"]
        assert (note["params"]["expected"], note["params"]["actual"]) == ("e", "E"), name
        answers[name] = data["checks"]
    assert answers["before"] == answers["now"]


def test_the_api_result_reads_old_results_bare(app, client, learner):
    submission_id = learner.submit("tcp-echo", {"client": "print(1)\n"}).get_json()["id"]
    store_result(app, submission_id, result_of(backquoted(diff_check())))
    api = Api(app.test_client(), make_token(app, "learner@example.com"))
    body = api.get(f"/submissions/{submission_id}").get_json()
    item = body["result"]["checks"][0]["expectations"][0]
    assert (item["diff"]["expected_byte"], item["diff"]["actual_byte"]) == ("e", "E")
    assert body["checks"][0]["expectations"][0]["diff"]["expected_byte"] == "e"
    assert "expected `e`, got `E`" in item["actual"]["en"]
