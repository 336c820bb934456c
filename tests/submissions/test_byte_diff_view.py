"""The bytes of a difference ("differs from offset 1: expected `e`, got `E`"): stored bare,
in ``<code>`` on a page (never a literal backquote inside a code element), in backquotes
in the plain text of a message (the API's ``en``/``zh``, the CLI's report).
Results graded before, which hold the bytes in backquotes, read the same."""

from __future__ import annotations

import json
import re

from app.grading.checks.exchange import _bytes_outcome
from app.grading.judge import _expectation
from app.grading.messages import msg, render, render_in
from app.grading.transcript import compare, difference_note
from app.instructor.views import reference_data
from app.models import Question
from tests.api.helpers import Api, make_token
from tests.submissions.test_feedback_web import check, result_of
from tests.submissions.test_pages import EN, ZH, page, store_result

CODE = re.compile(r"<code\b[^>]*>(.*?)</code>", re.S)


def diff_check(got: bytes = b"hELLO", check_id: str = "server-echo-short") -> dict:
    """A failed check as the engine makes it now: the echo of b"hello" came back as
    ``got`` (a byte changed, or cut short)."""
    outcome = _bytes_outcome(False, msg("echo.exact", sent=5), b"hello", got, 5, len(got))
    item = _expectation("echo_exact", outcome)
    return check(check_id, "failed", message=item["message"], expectations=[item])


def backquoted(check_result: dict) -> dict:
    """The same check as engines before stored it: each differing byte in backquotes."""
    old = json.loads(json.dumps(check_result))  # as stored: nothing shared
    item = old["expectations"][0]
    for key in ("expected_byte", "actual_byte"):
        if item["diff"][key] != "the end":
            item["diff"][key] = f"`{item['diff'][key]}`"
    for message in (item["message"], old["message"], item["actual"]):
        params = message["params"]["note"]["params"]
        for key in ("expected", "actual"):
            if isinstance(params[key], str):  # a byte, not "the end"
                params[key] = f"`{params[key]}`"
    return old


def engine_1(check_result: dict) -> dict:
    """The same check as engine 1 stored it: messages as finished text in both languages,
    the actual value as English text, each differing byte in backquotes."""
    old = backquoted(check_result)
    item = old["expectations"][0]
    item["message"] = {lang: render_in(item["message"], lang) for lang in ("en", "zh")}
    old["message"] = item["message"]
    item["actual"] = render_in(item["actual"], "en")
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
    # in Chinese the end reads as the end of the data, with what was missing
    assert render_in(difference_note(short), "zh") == (
        "从偏移量 2 起不同：应为 `l`，实际为 数据末尾（应有 5 字节，只有 2 字节）"
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
        actual = html.split('<div class="actual">')[1].split("</dd>")[0]
        assert actual.split("<dd>")[1] == "<code>b&#34;hELLO&#34;</code>", (name, actual)
        zh = page(client, f"/submissions/{submission_id}/checks", headers=ZH)
        assert "应为 <code>e</code>，实际为 <code>E</code>" in zh and "`" not in zh, name
        shown[name] = html
    assert shown["before"] == shown["now"]


def test_json_readers_get_bare_bytes_and_backquoted_text(app, client, learner):
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


def test_results_of_engine_1_show_the_bytes_in_code_too(app, client, learner):
    """Engine 1 stored a byte check's actual value as text ("b\"hELLO\" — differs from
    offset 1: expected `e`, got `E`"), shown in one <code>: it reads as the message it is
    now, its bytes in <code>, in the reader's language."""
    stored = [engine_1(diff_check()), engine_1(diff_check(b"he", "server-echo-large"))]
    assert stored[1]["expectations"][0]["actual"] == (
        'b"he" — differs from offset 2: expected `l`, got the end (2 of 5 bytes)'
    )  # as engine 1 had it
    submission_id = learner.submit("tcp-echo", {"client": "print(1)\n"}).get_json()["id"]
    store_result(app, submission_id, result_of(*stored))
    html = page(client, f"/submissions/{submission_id}/checks")
    codes = CODE.findall(html)
    assert not [code for code in codes if "`" in code], codes
    # the Actual cell holds what arrived; the difference is stated above it and drawn below
    actual = [part.split("</dd>")[0] for part in html.split('<div class="actual">')[1:]]
    assert [cell.split("<dd>")[1] for cell in actual] == [
        "<code>b&#34;hELLO&#34;</code>",
        "<code>b&#34;he&#34;</code>",
    ], actual
    assert html.count("The bytes differ from offset") == 2
    data = client.get(f"/submissions/{submission_id}.json").get_json()
    item = data["checks"][0]["expectations"][0]
    assert item["actual"]["id"] == "value.with_note" and item["diff"]["actual_byte"] == "E"
    assert item["actual"]["en"] == 'b"hELLO" — differs from offset 1: expected `e`, got `E`'


def test_the_studios_reference_run_reads_old_results_the_same_way():
    """The studio shows a question's reference run with the same check list."""
    stored = result_of(engine_1(diff_check()))
    question = Question(validation={"reference": {"verdict": "failed", "result": stored}})
    data = reference_data(question)
    item = data["checks"][0]["expectations"][0]
    assert (item["diff"]["expected_byte"], item["diff"]["actual_byte"]) == ("e", "E")
    assert render(item["actual"], "en") == (
        'b"hELLO" — differs from offset 1: expected `e`, got `E`'
    )
