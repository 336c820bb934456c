"""The grader's messages (app/grading/messages.py) in words (app/messages.py): every id
renders in both languages, Chinese from a real translation, and JSON carries both."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale

from app.grading.diagnosis import CONDITIONS
from app.grading.messages import MESSAGES, msg, render, render_in
from app.messages import in_both, say, say_html

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def sample_params(template: str) -> dict[str, object]:
    """A distinct value per placeholder, so each can be found in the rendering."""
    return {name: 7000 + i for i, name in enumerate(PLACEHOLDER.findall(template))}


# Templates of punctuation and parameters only: no word to translate.
WORDLESS = {"list.separator", "value.with_note"}


def test_every_message_renders_in_english_and_chinese(app):
    problems = []
    with app.test_request_context():
        for message_id, template in sorted(MESSAGES.items()):
            params = sample_params(template)
            message = msg(message_id, **params)
            with force_locale("en"):
                english = say(message)
            with force_locale("zh"):
                chinese = say(message)
            if english != template % params:
                problems.append(f"{message_id}: English {english!r}")
            if chinese == english and message_id not in WORDLESS:
                problems.append(f"{message_id}: no Chinese translation of {template!r}")
            elif message_id not in WORDLESS and not re.search(r"[\u4e00-\u9fff]", chinese):
                problems.append(f"{message_id}: Chinese without a Chinese word: {chinese!r}")
            lost = [name for name, value in params.items() if str(value) not in chinese]
            if lost:
                problems.append(f"{message_id}: the translation loses {lost}")
    assert problems == []


def test_every_condition_has_a_meaning():
    assert {f"condition.{name}" for name in CONDITIONS} <= set(MESSAGES)


def test_an_unknown_id_is_refused_where_it_is_made():
    with pytest.raises(KeyError):
        msg("no.such.message")


def test_parameters_may_be_messages_bilingual_content_and_lists():
    skipped = msg(
        "grade.with_skipped",
        summary=msg("grade.some_passed", passed=1, graded=3),
        roles=[msg("role.server"), msg("role.client")],
    )
    assert render(skipped, "en") == (
        "1 of 3 required checks passed. Not submitted, so not checked: server, client."
    )
    assert (
        render_in(skipped, "zh")
        == "3 项必需检查中通过 1 项。未提交、因此未检查的角色：服务器、客户端。"
    )
    shows = msg("output.shows", stream=msg("stream.output"), what={"en": "a timeout", "zh": "超时"})
    assert render_in(shows, "zh") == "输出（标准输出或标准错误）应包含超时。"


def test_json_carries_both_languages_beside_the_id(app):
    check = {
        "message": msg("listen.wrong_port", found="9999", port=8888),
        "expectations": [
            {"expected": msg("value.closed"), "actual": 12, "title": {"en": "T", "zh": "题"}}
        ],
    }
    with app.test_request_context():
        both = in_both(check)
    assert both["message"] == {
        "id": "listen.wrong_port",
        "params": {"found": "9999", "port": 8888},
        "en": "Your server listens on port 9999, not on 8888.",
        "zh": "你的服务器监听的是端口 9999，而不是 8888。",
    }
    item = both["expectations"][0]
    assert item["expected"]["zh"] == "已关闭" and item["actual"] == 12
    assert item["title"] == {"en": "T", "zh": "题"}  # content stays as written


def test_results_stored_before_message_ids_still_read(app):
    legacy = {"en": "Passed.", "zh": "通过。"}
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        assert say(legacy) == "通过。"
        assert in_both(legacy) == legacy


def test_on_a_page_the_programs_words_are_code_and_escaped(app):
    crash = msg(
        "crash.line_message",
        role=msg("role.client"),
        type="ValueError",
        line=3,
        message="<script>alert(1)</script>",
    )
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        shown = str(say_html(crash))
    assert shown == (
        "你的客户端崩溃了：第 3 行 <code>ValueError</code>："
        "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>"
    )


def test_a_stored_message_whose_parameters_changed_still_reads():
    assert render({"id": "grade.some_passed", "params": {"passed": "two"}}, "en") == (
        "two of … required checks passed."
    )


def test_every_placeholder_takes_any_value():
    assert not [t for t in MESSAGES.values() if re.search(r"%\(\w+\)[^s]", t)]
