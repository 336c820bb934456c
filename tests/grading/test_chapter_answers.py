"""The chapter's own answer code must pass every required check of its question, and our
reference solutions too; realistic wrong answers fail with the right check named."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.bank.chapter import parse_chapter
from app.grading.engine import grade
from tests.helpers import SHARED, en, require, untranslated, zh

ANSWERS = Path(__file__).parent / "answers"
CHAPTER = SHARED / "seeds" / "ch14-sockets-zh.md"

# question number in the chapter -> (slug, roles of its code blocks, in order)
CHAPTER_CODE = {
    1: ("tcp-echo", ["server", "client"]),
    2: ("tcp-handshake", ["client"]),
    3: ("tcp-teardown", ["server", "client"]),
    4: ("udp-echo", ["server", "client"]),
    10: ("socket-timeout", ["client"]),
    12: ("threaded-client", ["client"]),
}


def chapter_files() -> dict[str, dict[str, str]]:
    require(CHAPTER.exists(), f"the shared chapter is missing at {CHAPTER}")
    chapter = parse_chapter(CHAPTER.read_bytes(), str(CHAPTER))
    by_number = {q.number: q for q in chapter.questions}
    files = {}
    for number, (slug, roles) in CHAPTER_CODE.items():
        blocks = [b for b in by_number[number].code_blocks if b.language == "python"]
        assert len(blocks) == len(roles), f"question {number} has {len(blocks)} code blocks"
        files[slug] = dict(zip(roles, (b.code for b in blocks), strict=True))
    return files


def required_failures(result) -> list[str]:
    return [c.id for c in result.checks if c.required and c.status != "passed"]


@pytest.mark.sandbox
@pytest.mark.parametrize("slug", [slug for slug, _ in CHAPTER_CODE.values()])
def test_chapter_answer_passes(sandbox, bank, slug):
    files = chapter_files()[slug]
    result = grade(bank[slug].spec, files)
    assert required_failures(result) == [], [en(c.message) for c in result.checks]
    assert result.verdict == "passed"
    assert result.score == 1.0
    assert sorted(files) == sorted(bank[slug].roles)


@pytest.mark.sandbox
@pytest.mark.parametrize("slug", [slug for slug, _ in CHAPTER_CODE.values()])
def test_reference_solution_passes_every_check(sandbox, bank, slug):
    question = bank[slug]
    result = grade(question.spec, question.reference_files)
    assert [c.id for c in result.checks if c.status != "passed"] == [], [
        (c.id, en(c.message)) for c in result.checks if c.status != "passed"
    ]


WRONG = [
    # (slug, role, file, the check that must fail, verdict); the bank's own known-wrong
    # answers are graded by tests/submissions/test_feedback_zh.py (and shown in Chinese)
    ("tcp-echo", "server", "tcp_echo_server_wrong_port.py", "server-echo-short", "failed"),
    ("tcp-echo", "server", "tcp_echo_server_uppercase.py", "server-echo-short", "failed"),
    ("tcp-echo", "server", "tcp_echo_server_single_recv.py", "server-echo-large", "failed"),
    ("tcp-echo", "client", "tcp_echo_client_no_connect.py", "client-echo", "failed"),
    # A single recv() passes the required check but gets the advisory feedback.
    ("tcp-echo", "client", "tcp_echo_client_single_recv.py", "client-split-reply", "passed"),
    (
        "tcp-teardown",
        "server",
        "tcp_teardown_server_never_closes.py",
        "server-graceful-close",
        "failed",
    ),
    ("udp-echo", "server", "udp_echo_server_fixed_address.py", "server-acks-each-sender", "failed"),
    ("socket-timeout", "client", "socket_timeout_client_too_long.py", "client-gives-up", "failed"),
    (
        "socket-timeout",
        "client",
        "socket_timeout_client_traceback_on_refused.py",
        "client-refused",
        "failed",
    ),
    # Forgeries: printing what a check looks for without doing the work.
    ("tcp-echo", "client", "tcp_echo_client_forged.py", "client-real-reply", "failed"),
    ("udp-echo", "client", "udp_echo_client_forged.py", "client-real-reply", "failed"),
    ("socket-timeout", "client", "socket_timeout_client_forged.py", "client-gives-up", "failed"),
    (
        "socket-timeout",
        "client",
        "socket_timeout_client_refused_forged.py",
        "client-refused",
        "failed",
    ),
    ("threaded-client", "client", "threaded_client_forged.py", "client-prints-pushed", "failed"),
]


@pytest.mark.sandbox
@pytest.mark.parametrize(
    ("slug", "role", "filename", "failing", "verdict"),
    WRONG,
    ids=[w[2].removesuffix(".py") for w in WRONG],
)
def test_wrong_answer_fails_the_right_check(sandbox, bank, slug, role, filename, failing, verdict):
    result = grade(bank[slug].spec, {role: (ANSWERS / filename).read_text()})
    by_id = {c.id: c for c in result.checks}
    assert by_id[failing].status == "failed", en(by_id[failing].message)
    assert result.verdict == verdict
    assert en(by_id[failing].message) and zh(by_id[failing].message)
    assert untranslated(result) == []  # a Chinese reader reads it all in Chinese


@pytest.mark.sandbox
def test_wrong_port_is_named(sandbox, bank):
    code = (ANSWERS / "tcp_echo_server_wrong_port.py").read_text()
    result = grade(bank["tcp-echo"].spec, {"server": code})
    first = result.checks[0]
    assert en(first.message) == "Your server listens on port 65433, not on 65432."
    assert first.duration_ms < 3000
