"""Tests for app.bank.chapter, the parser of book-chapter Markdown files."""

from __future__ import annotations

import os
import pickle
from functools import lru_cache
from pathlib import Path

import pytest

from app.bank.chapter import (
    Chapter,
    ChapterFormatError,
    ChapterQuestion,
    CodeBlock,
    parse_chapter,
)

SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "ch14-sockets-zh.md"


@lru_cache(maxsize=1)
def _parsed_seed() -> Chapter:
    return parse_chapter(SEED.read_bytes(), source=SEED.name)


def seed_chapter() -> Chapter:
    if not SEED.is_file():
        reason = f"shared seed chapter not found at {SEED}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(f"{reason} (checkout of shared/ beside the repo is missing)")
    return _parsed_seed()


def question(chapter: Chapter, number: int) -> ChapterQuestion:
    matches = [q for q in chapter.questions if q.number == number]
    assert len(matches) == 1, f"expected exactly one 面试题{number}"
    return matches[0]


def all_code(q: ChapterQuestion) -> str:
    return "".join(block.code for block in q.code_blocks)


# --- the shared seed chapter ---------------------------------------------------------------


def test_seed_has_twelve_questions_in_order() -> None:
    chapter = seed_chapter()
    assert [q.number for q in chapter.questions] == list(range(1, 13))
    assert chapter.questions[0].line == 103
    assert chapter.questions[-1].line == 567


def test_seed_title_and_overview() -> None:
    chapter = seed_chapter()
    assert chapter.title == "第一节：网络协议基础和socket编程"
    assert chapter.overview.strip()
    assert "TCP" in chapter.overview
    assert chapter.overview.startswith("Python中的socket编程允许网络通信")
    assert chapter.overview.endswith("对开发高效、可靠的网络应用至关重要。")
    assert "#### 网络协议基础" in chapter.overview
    assert "面试题" not in chapter.overview
    assert "{:toc}" not in chapter.overview


def test_seed_question_1() -> None:
    q1 = question(seed_chapter(), 1)
    assert "TCP echo" in q1.prompt
    assert q1.prompt.startswith("请编写一个Python脚本")
    assert "面试题目" not in q1.prompt
    assert q1.key_points == [
        "理解TCP协议的工作原理。",
        "掌握Python中使用`socket`模块创建TCP服务器和客户端的方法。",
        "理解如何在服务器端接受连接和处理数据。",
        "掌握在客户端如何发送数据和接收响应。",
    ]
    assert [(b.language, b.label) for b in q1.code_blocks] == [
        ("python", "服务器端"),
        ("python", "客户端"),
    ]
    server, client = q1.code_blocks
    assert "conn.sendall(data)" in server.code
    assert "s.connect((host, port))" in client.code
    assert server.line == 118 and client.line == 143
    assert server.code.startswith("import socket\n")
    assert server.code.endswith("    echo_server(HOST, PORT)\n")
    assert "```" not in server.code
    assert q1.answer.startswith("服务器端：\n\n```python\n")
    assert q1.answer.endswith("```")
    assert q1.explanation.startswith("- 在服务器端代码中")
    assert " *  " not in q1.explanation


def test_seed_question_2_has_no_answer_part() -> None:
    q2 = question(seed_chapter(), 2)
    assert q2.answer == ""
    assert "SYN" in q2.explanation
    assert len(q2.code_blocks) == 1
    assert q2.code_blocks[0].label == "示例代码（客户端发起连接请求）"
    assert "s.connect(server_address)" in q2.code_blocks[0].code
    # The two-space hard line break of the source survives.
    assert "为什么需要三次握手：  \n三次握手过程" in q2.explanation


def test_seed_question_4_udp_blocks() -> None:
    q4 = question(seed_chapter(), 4)
    assert [b.label for b in q4.code_blocks] == ["UDP服务器端", "UDP客户端"]
    assert 'b"ACK: " + data' in q4.code_blocks[0].code
    assert 'b"ACK: " + data' not in q4.code_blocks[1].code


def test_seed_question_5_has_no_code() -> None:
    q5 = question(seed_chapter(), 5)
    assert q5.code_blocks == []
    assert q5.answer == ""
    assert q5.explanation.startswith("UDP协议的优点：")


def test_seed_question_10_and_12_code() -> None:
    chapter = seed_chapter()
    q10 = question(chapter, 10)
    assert "settimeout(5)" in all_code(q10)
    assert q10.code_blocks[0].label == ""  # only the part label precedes the fence
    assert q10.code_blocks[0].line == 504
    # Whitespace inside fences is kept verbatim (line 510 of the seed is four spaces).
    assert "SOCK_STREAM)\n    \n    try:" in q10.code_blocks[0].code
    assert "threading.Thread" in all_code(question(chapter, 12))


def test_seed_every_question_is_complete() -> None:
    for q in seed_chapter().questions:
        assert len(q.key_points) >= 3, q.number
        assert all(point and point == point.strip() for point in q.key_points), q.number
        assert q.prompt, q.number
        assert q.explanation, q.number
        for block in q.code_blocks:
            assert block.language == "python", (q.number, block.line)


# --- small inline chapters -----------------------------------------------------------------

GOOD = """\
## 第一章：测试
### 第一节：样例
概述里有 TCP。

#### 面试题1
面试题目：写一个 echo 服务器。
面试题考点：
 *  要点一
 *  要点二
答案或代码：
服务器端：
```python
print("srv")
```
答案或代码解析：
 *  解析一
"""


def test_inline_chapter_fields() -> None:
    chapter = parse_chapter(GOOD)
    assert chapter.title == "第一节：样例"
    assert chapter.overview == "概述里有 TCP。"
    (q,) = chapter.questions
    assert q == ChapterQuestion(
        number=1,
        line=5,
        prompt="写一个 echo 服务器。",
        key_points=["要点一", "要点二"],
        answer='服务器端：\n```python\nprint("srv")\n```',
        explanation="- 解析一",
        code_blocks=[
            CodeBlock(language="python", code='print("srv")\n', label="服务器端", line=12)
        ],
    )


def test_title_falls_back_to_chapter_heading() -> None:
    chapter = parse_chapter(GOOD.replace("### 第一节：样例\n", ""))
    assert chapter.title == "第一章：测试"
    assert chapter.overview == "概述里有 TCP。"


def test_crlf_parses_like_lf() -> None:
    lf = parse_chapter(GOOD)
    crlf = parse_chapter(GOOD.replace("\n", "\r\n").encode("utf-8"))
    assert crlf == lf
    assert "\r" not in crlf.questions[0].code_blocks[0].code


def test_utf8_bom_is_accepted() -> None:
    with_bom = parse_chapter(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    assert with_bom == parse_chapter(GOOD)
    assert with_bom.title == "第一节：样例"
    assert parse_chapter("\ufeff" + GOOD) == parse_chapter(GOOD)
    # The BOM must not hide a heading on the first line.
    question_first = GOOD[GOOD.index("#### 面试题1") :]
    (q,) = parse_chapter(b"\xef\xbb\xbf" + question_first.encode("utf-8")).questions
    assert (q.number, q.line) == (1, 1)


def test_ascii_colons_trailing_spaces_and_multiline_prompt() -> None:
    text = (
        "#### 面试题3   \n"
        "面试题目:  \n"
        "第一行\n"
        "第二行\n"
        "面试题考点 :\n"
        "- 点A\n"
        "  续行\n"
        "答案或代码解析:   \n"
        "客户端:   \n"
        "\n"
        "```\n"
        "raw\n"
        "```\n"
    )
    (q,) = parse_chapter(text).questions
    assert q.number == 3
    assert q.prompt == "第一行\n第二行"
    assert q.key_points == ["点A 续行"]
    assert q.answer == ""
    assert q.explanation == "客户端:\n\n```\nraw\n```"
    assert q.code_blocks == [CodeBlock(language="", code="raw\n", label="客户端", line=11)]


def test_headings_and_labels_inside_fences_are_code() -> None:
    text = GOOD.replace('print("srv")', "#### 面试题2\n面试题目：不是题目\n答案或代码解析：")
    (q,) = parse_chapter(text).questions
    assert q.code_blocks[0].code == "#### 面试题2\n面试题目：不是题目\n答案或代码解析：\n"


def _error(data: bytes | str) -> ChapterFormatError:
    with pytest.raises(ChapterFormatError) as info:
        parse_chapter(data, source="t.md")
    return info.value


def test_invalid_utf8_names_the_line() -> None:
    err = _error(b"## title\n\nok \xff bad\n#### \xe9\x9d\xa2\n")
    assert err.line == 3
    assert str(err).startswith("t.md:3: not valid UTF-8")


def test_invalid_utf8_with_crlf_counts_lines() -> None:
    assert _error(b"a\r\nb\r\nc\r\n\xff").line == 4


@pytest.mark.parametrize("data", [b"", "", "## 标题\n\n只有概述。\n", "#### 面试题\n"])
def test_no_questions(data: bytes | str) -> None:
    err = _error(data)
    assert err.line is None
    assert str(err) == "t.md: no questions found (expected '#### 面试题N' headings)"


def test_question_without_prompt_names_its_heading() -> None:
    text = GOOD + "\n#### 面试题2\n\n面试题考点：\n - 点\n答案或代码解析：\n解析\n"
    err = _error(text)
    assert err.line == 18
    assert str(err) == "t.md:18: 面试题2 has no '面试题目：' prompt"


def test_question_with_empty_prompt() -> None:
    err = _error(GOOD.replace("面试题目：写一个 echo 服务器。", "面试题目：   "))
    assert err.line == 5
    assert "empty '面试题目：' prompt" in err.message


def test_unclosed_fence_names_the_fence() -> None:
    text = GOOD + "\n#### 面试题2\n面试题目：问\n答案或代码：\n\n```python\nx = 1\n"
    err = _error(text)
    assert err.line == 22
    assert str(err) == "t.md:22: unclosed code fence '```'"


def test_shorter_closing_fence_does_not_close() -> None:
    assert _error("#### 面试题1\n面试题目：问\n答案或代码：\n````\n```\n").line == 4


def test_duplicate_question_numbers() -> None:
    err = _error(GOOD + "\n" + GOOD[GOOD.index("#### 面试题1") :])
    assert err.line == 18
    assert "duplicate question number 1 (first at line 5)" in str(err)


def test_question_without_any_answer() -> None:
    text = "#### 面试题7\n面试题目：问\n面试题考点：\n * 点\n答案或代码解析：\n\n"
    err = _error(text)
    assert err.line == 1
    assert "面试题7 has no answer" in err.message


def test_key_points_without_bullets() -> None:
    text = "#### 面试题1\n面试题目：问\n\n面试题考点：\n\n答案或代码解析：\n解析\n"
    err = _error(text)
    assert err.line == 4
    assert err.message == "'面试题考点' of 面试题1 has no bullets"


def test_text_before_the_prompt_is_rejected() -> None:
    err = _error("#### 面试题1\n前言\n面试题目：问\n答案或代码解析：\n解析\n")
    assert err.line == 2


def test_heading_inside_a_question_is_rejected() -> None:
    err = _error(GOOD + "\n### 第二节：另一节\n")
    assert err.line == 18
    assert "unexpected heading" in err.message


def test_error_format_and_pickling() -> None:
    err = ChapterFormatError("boom", 7, "x.md")
    assert str(err) == "x.md:7: boom"
    assert (err.message, err.line, err.source) == ("boom", 7, "x.md")
    assert isinstance(err, ValueError)
    assert str(ChapterFormatError("boom", None)) == "<input>: boom"
    copy = pickle.loads(pickle.dumps(err))
    assert (str(copy), copy.line, copy.source) == ("x.md:7: boom", 7, "x.md")
