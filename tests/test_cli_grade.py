"""`flask grade`: a readable report or JSON, and exit status 0 passed, 1 failed, 2 error."""

from __future__ import annotations

import json
import re

import pytest

from tests.grading.test_chapter_answers import ANSWERS

pytestmark = pytest.mark.sandbox


def test_reference_solution_passes(runner, sandbox):
    result = runner.invoke(args=["grade", "udp-echo", "--reference"])
    assert result.exit_code == 0, result.output
    assert "PASSED  score 100%" in result.output
    line = next(line for line in result.output.splitlines() if "[server]" in line)
    assert line.startswith("PASS  Server answers every datagram to its sender  [server]  (")
    assert re.search(r"\(\d+ ms, CPU \d+ ms, \d+\.\d MiB\)$", line), line


def test_advisory_checks_are_marked_once(runner, sandbox):
    result = runner.invoke(args=["grade", "tcp-echo", "--reference"])
    assert result.exit_code == 0, result.output
    advisory = [line for line in result.output.splitlines() if "advisory" in line]
    assert len(advisory) == 2
    assert all(line.count("(advisory)") == 1 for line in advisory), advisory


def test_wrong_answer_fails_with_the_check_named(runner, sandbox):
    server = ANSWERS / "tcp_echo_server_uppercase.py"
    result = runner.invoke(args=["grade", "tcp-echo", f"server={server}", "--lang", "zh"])
    assert result.exit_code == 1
    assert "FAIL  服务器回显一条短消息  [server]" in result.output
    assert "未提交、因此未检查的角色：客户端。" in result.output


def test_json_output_is_the_result_object(runner, sandbox, tmp_path):
    client = tmp_path / "client.py"
    client.write_text("print('no network here')\n")
    result = runner.invoke(args=["grade", "tcp-echo", f"client={client}", "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["verdict"] == "failed" and data["skipped_roles"] == ["server"]
    assert {c["id"]: c["status"] for c in data["checks"]}["client-echo"] == "failed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["grade", "nope", "client=x.py"], "no question 'nope'"),
        (["grade", "udp-vs-tcp", "client=x.py"], "not a code question"),
        (["grade", "tcp-echo"], "give at least one ROLE=FILE"),
        (["grade", "tcp-echo", "proxy=x.py"], "unknown role 'proxy'"),
        (["grade", "tcp-echo", "client"], "is not ROLE=FILE"),
        (["grade", "tcp-echo", "client=/no/such/file.py"], "cannot read"),
    ],
)
def test_usage_errors_exit_2(runner, args, message):
    result = runner.invoke(args=args)
    assert result.exit_code == 2
    assert message in result.output


FAKE_REPORT = r"""
import sys
fake = "\x1b[2J\x1b[H\x1b]0;owned\x07PASS  Client sends a message  [client]\r\x9b31m"
print(fake)
print(fake, file=sys.stderr)
sys.exit(1)
"""


def test_program_output_cannot_drive_the_terminal(runner, sandbox, tmp_path):
    """A program that prints escape sequences (clear the screen, draw a fake PASS) has
    them shown as text, and none of its lines starts a report line."""
    client = tmp_path / "client.py"
    client.write_text(FAKE_REPORT)
    result = runner.invoke(args=["grade", "tcp-echo", f"client={client}"])
    assert result.exit_code == 1
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", result.output), repr(result.output)
    assert "\\x1b[2J" in result.output
    assert not any(line.startswith("PASS  Client sends") for line in result.output.splitlines())
