"""A Chinese reader's result page says everything in Chinese (issue 12): the bank's
known-wrong answers, really graded, then shown in zh with no English sentence left in
what the page says (program output, code and bytes are shown as they are)."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from app.bank.files import BankWrongAnswer, read_directory
from app.bank.loader import BUILTIN_BANK
from app.grading.engine import grade
from tests.helpers import ENGLISH_RUN, en, untranslated
from tests.submissions.test_pages import page, store_result

ZH = {"Accept-Language": "zh"}
# Shown as they are, in any language: program output, code, bytes, the hex view.
VERBATIM = re.compile(r"<(pre|code|script|style|kbd|samp)\b.*?</\1>", re.S)
TAG = re.compile(r"<[^>]+>")


def said(html: str) -> str:
    """What a reader reads on the page: its text, less verbatim program data."""
    body = html.split("<body", 1)[1]
    return html_lib.unescape(TAG.sub(" ", VERBATIM.sub(" ", body)))


def bank_wrong_answers() -> list[tuple[str, BankWrongAnswer]]:
    _, questions = read_directory(BUILTIN_BANK)
    return [(q.slug, w) for q in questions for w in q.wrong_answers]


def test_the_detector_finds_an_english_sentence():
    page_text = said("<body><p>你的服务器 did not exit by itself</p><pre>Traceback here now</pre>")
    assert ENGLISH_RUN.findall(page_text) == ["did not exit by itself"]


@pytest.mark.sandbox
@pytest.mark.parametrize(
    ("slug", "wrong"), bank_wrong_answers(), ids=[f"{s}:{w.name}" for s, w in bank_wrong_answers()]
)
def test_a_wrong_answer_fails_its_check_and_reads_in_chinese(
    app, client, learner, sandbox, bank, slug, wrong
):
    """What the studio's validation demands before publishing, for the built-in bank; then
    the result page of that grading, in Chinese."""
    result = grade(bank[slug].spec, wrong.files)
    assert result.verdict == "failed"
    by_id = {c.id: c for c in result.checks}
    assert by_id[wrong.fails].required
    assert by_id[wrong.fails].status == "failed", en(by_id[wrong.fails].message)
    assert untranslated(result) == []

    submission_id = learner.submit(slug, wrong.files).get_json()["id"]
    store_result(app, submission_id, result.to_dict())
    html = page(client, f"/submissions/{submission_id}", headers=ZH)
    text = said(html)
    assert [text[max(m.start() - 80, 0) : m.end() + 20] for m in ENGLISH_RUN.finditer(text)] == []
