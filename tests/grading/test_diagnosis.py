"""Feedback that teaches: the crash named in the headline, the transcript of what was
said, byte checks that name the first difference, and hints chosen by what happened."""

from __future__ import annotations

import pytest

from app.grading import engine
from app.grading.diagnosis import CONDITIONS, matching_hints, parse_crash
from app.grading.spec import validate_spec
from app.grading.transcript import CAP_BYTES, Transcript, compare, escape_bytes, literal
from tests.helpers import en, zh

# -- parsing the crash ----------------------------------------------------------------
TRACEBACK = """\
Traceback (most recent call last):
  File "/work/client.py", line 5, in <module>
    main()
  File "/work/client.py", line 3, in main
    s.connect(("127.0.0.1", 65432))
  File "/usr/lib/python3.11/socket.py", line 851, in create_connection
    raise exceptions[0]
ConnectionRefusedError: [Errno 111] Connection refused
"""

SYNTAX = """\
  File "/work/client.py", line 2
    print('hi'
         ^
SyntaxError: '(' was never closed
"""

CHAINED = """\
Traceback (most recent call last):
  File "/work/server.py", line 4, in <module>
    int("x")
ValueError: invalid literal for int() with base 10: 'x'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/work/server.py", line 6, in <module>
    import nothere
ModuleNotFoundError: No module named 'nothere'
"""


def test_a_traceback_gives_type_message_and_the_innermost_line_of_the_program():
    assert parse_crash(TRACEBACK) == {
        "type": "ConnectionRefusedError",
        "message": "[Errno 111] Connection refused",
        "line": 3,
    }


def test_a_syntax_error_without_traceback_line_is_read_from_its_caret_format():
    assert parse_crash(SYNTAX) == {
        "type": "SyntaxError",
        "message": "'(' was never closed",
        "line": 2,
    }


def test_the_last_of_chained_exceptions_is_the_crash():
    crash = parse_crash("some output\n" + CHAINED)
    assert crash == {
        "type": "ModuleNotFoundError",
        "message": "No module named 'nothere'",
        "line": 6,
    }


def test_plain_error_output_is_no_crash():
    assert parse_crash("") is None
    assert parse_crash("Error occurred: [Errno 111] Connection refused\n") is None
    assert parse_crash("WARNING: something\nfine\n") is None


# -- bytes as people read them ----------------------------------------------------------
def test_bytes_are_text_where_printable_with_escapes_for_the_rest():
    assert escape_bytes(b"hello\n") == "hello\\n"
    assert escape_bytes(b'a"b\\c\t\r\x00\xff') == 'a\\"b\\\\c\\t\\r\\x00\\xff'
    assert escape_bytes("你好".encode()) == "你好"
    assert escape_bytes(b"\xe4\xbd") == "\\xe4\\xbd"  # a cut UTF-8 character stays bytes
    assert literal(b"hi\n") == 'b"hi\\n"'


def test_compare_names_the_first_difference_and_whether_data_was_cut_or_changed():
    changed = compare(b"hello", b"HELLO", 5, 5)
    assert (changed["offset"], changed["expected_byte"], changed["actual_byte"]) == (0, "h", "H")
    assert changed["kind"] == "changed" and changed["actual"] == 'b"HELLO"'
    short = compare(b"hello world", b"hello", 11, 5)
    assert short["offset"] == 5 and short["kind"] == "short" and short["actual_byte"] == "the end"
    assert compare(b"same", b"same", 4, 4) == {}


def test_the_transcript_keeps_the_order_and_caps_each_direction_with_totals():
    transcript = Transcript()
    transcript.add("peer", b"x" * 3000)
    transcript.add("program", b"y" * 10)
    transcript.add("peer", b"z" * 3000)  # only 1096 bytes of it fit
    transcript.add("peer", b"w" * 10)  # none of it fits: counted, not kept
    entries = transcript.to_json()
    assert [(e["from"], e["offset"], e["size"]) for e in entries] == [
        ("peer", 0, 3000),
        ("program", 0, 10),
        ("peer", 3000, 3000),
    ]
    last = entries[-1]
    assert last["truncated"] and last["more_after"] and last["total"] == 6010
    assert len(last["text"]) == CAP_BYTES - 3000
    assert not entries[0]["more_after"] and entries[1]["total"] == 10
    assert entries[1]["hex"].startswith("79 79")


# -- hint conditions in the spec ----------------------------------------------------------
def test_hints_name_known_conditions_only():
    check = {
        "id": "c",
        "title": {"en": "C", "zh": "C"},
        "role": "client",
        "peer": {"kind": "tcp_echo_server"},
        "hints": [{"when": "crashed", "en": "a", "zh": "a"}],
        "expect": [{"no_traceback": True}],
    }
    assert validate_spec({"checks": [check]}) == []
    check["hints"] = [{"when": ["data_short", "no_reply"], "en": "a", "zh": "a"}]
    assert validate_spec({"checks": [check]}) == []
    check["hints"] = [{"when": "bogus", "en": "a", "zh": "a"}]
    assert validate_spec({"checks": [check]})
    check["hints"] = [{"when": "crashed", "en": "a"}]
    assert validate_spec({"checks": [check]})


def test_only_hints_whose_condition_was_diagnosed_are_chosen():
    check = {
        "hints": [
            {"when": "data_changed", "en": "changed", "zh": "变了"},
            {"when": ["data_short", "no_reply"], "en": "short", "zh": "短"},
        ]
    }
    assert [h["en"] for h in matching_hints(check, ["data_short"])] == ["short"]
    assert matching_hints(check, ["crashed"]) == []


def test_describe_makes_a_pattern_a_sentence():
    check = {
        "id": "c",
        "title": {"en": "C", "zh": "C"},
        "role": "client",
        "peer": {"kind": "silent_tcp_server"},
        "expect": [{"output_matches": {"pattern": "(", "describe": {"en": "x", "zh": "x"}}}],
    }
    assert "invalid regular expression" in str(validate_spec({"checks": [check]})[0])


# -- each diagnosis, graded for real ----------------------------------------------------
ALL_HINTS = [
    {"when": name, "en": f"hint for {name}", "zh": f"{name} 的提示"} for name in CONDITIONS
]


def spec(role: str, peer: dict, expect: list, **extra) -> dict:
    check = {
        "id": "c",
        "title": {"en": "C", "zh": "C"},
        "role": role,
        "peer": peer,
        "hint": {"en": "the general hint", "zh": "通用提示"},
        "hints": ALL_HINTS,
        "expect": expect,
        **extra,
    }
    return {"checks": [check]}


def graded(spec_: dict, role: str, code: str) -> engine.CheckResult:
    return engine.grade(spec_, {role: code}).checks[0]


def chosen(check: engine.CheckResult) -> list[str]:
    return [hint["when"] for hint in check.hints]


ECHO = [{"echo_exact": True}, {"no_traceback": True}]
TCP_CLIENT = {"kind": "tcp_client", "messages": ["hello"], "wait_for_eof": False}

SERVER = """\
import socket
with socket.create_server(("127.0.0.1", 65432)) as server:
    conn, _ = server.accept()
    with conn:
        while data := conn.recv(1024):
            conn.sendall({reply})
"""


@pytest.mark.sandbox
def test_a_crash_is_the_headline_with_type_message_and_line(sandbox):
    code = (
        'import socket\nsocket.create_connection(("127.0.0.1", 65432))\nraise ValueError("boom")\n'
    )
    expect = [{"peer_received_nonempty": True}, {"no_traceback": True}]
    check = graded(spec("client", {"kind": "tcp_echo_server"}, expect), "client", code)
    assert check.status == "failed"
    assert en(check.message) == "Your client crashed: ValueError on line 3: boom"
    assert zh(check.message) == "你的客户端崩溃了：第 3 行 ValueError：boom"
    assert check.diagnosis["crash"] == {"type": "ValueError", "message": "boom", "line": 3}
    assert "crashed" in chosen(check) and "traceback_printed" not in chosen(check)
    assert check.hint is None  # a targeted hint said it better


@pytest.mark.sandbox
def test_a_syntax_error_is_the_headline_and_fails_no_traceback(sandbox):
    expect = [{"peer_received_nonempty": True}, {"no_traceback": True}]
    check = graded(spec("client", {"kind": "tcp_echo_server"}, expect), "client", "print('hi'\n")
    assert en(check.message) == "Your client crashed: SyntaxError on line 1: '(' was never closed"
    no_traceback = next(e for e in check.expectations if e["name"] == "no_traceback")
    assert not no_traceback["ok"]
    assert "crashed" in chosen(check)


@pytest.mark.sandbox
def test_a_syntax_error_fails_no_traceback_even_when_nothing_else_is_asked(sandbox):
    check = graded(
        spec("client", {"kind": "nothing_listening"}, [{"no_traceback": True}]),
        "client",
        "def f(:\n",
    )
    assert check.status == "failed"
    assert en(check.message).startswith("Your client crashed: SyntaxError on line 1")


@pytest.mark.sandbox
def test_a_server_that_never_listens_says_so(sandbox):
    code = "import time\ntime.sleep(30)\n"
    check = graded(spec("server", TCP_CLIENT, ECHO, timeout_ms=1500), "server", code)
    assert "No TCP server listening on 127.0.0.1:65432 appeared" in en(check.message)
    assert chosen(check) == ["not_listening", "time_limit"]
    exited = graded(spec("server", TCP_CLIENT, ECHO), "server", "print('bye')\n")
    assert en(exited.message).startswith("Your server exited before")
    assert chosen(exited) == ["not_listening"]


@pytest.mark.sandbox
def test_changed_data_shows_both_byte_strings_and_the_first_difference(sandbox):
    code = SERVER.format(reply="data.upper()")
    check = graded(spec("server", TCP_CLIENT, ECHO), "server", code)
    echo = check.expectations[0]
    assert echo["expected"] == 'b"hello"'
    assert en(echo["actual"]).startswith('b"HELLO"')
    assert "differs from offset 0: expected `h`, got `H`" in en(check.message)
    assert echo["diff"]["offset"] == 0 and echo["diff"]["kind"] == "changed"
    assert chosen(check) == ["data_changed"]
    assert [(e["from"], e["text"]) for e in check.transcript] == [
        ("peer", "hello"),
        ("program", "HELLO"),
    ]


@pytest.mark.sandbox
def test_short_data_is_told_apart_from_changed_data(sandbox):
    code = SERVER.format(reply="data[:2]")
    check = graded(spec("server", TCP_CLIENT, ECHO), "server", code)
    assert "differs from offset 2: expected `l`, got the end (2 of 5 bytes)" in en(check.message)
    assert chosen(check) == ["data_short"]


ONE_READ_SERVER = """\
import socket
with socket.create_server(("127.0.0.1", 65432)) as server:
    conn, _ = server.accept()
    with conn:
        conn.sendall(conn.recv(1024))
"""


@pytest.mark.sandbox
def test_a_server_that_closes_early_is_told_how_much_the_client_got_to_send(sandbox):
    """Against 100 KB sent in pieces, a server that reads once and closes cuts the client
    short: the message says how much of the 100 KB it sent, not "every byte sent (1400
    bytes)" as if that were all; and what it sent coming back does not pass the check.
    The pieces are paced (10 ms apart, 0.7 s in all) so that the server has closed before
    the last one: sent at full speed, 100 KB can fit in the kernel's buffers first."""
    client = {
        "kind": "tcp_client",
        "size": 102400,
        "chunk": 1400,
        "delay_ms": 10,
        "wait_for_eof": False,
    }
    check = graded(spec("server", client, ECHO), "server", ONE_READ_SERVER)
    echo = check.expectations[0]
    assert check.status == "failed" and not echo["ok"]
    said = echo["message"]["params"]["base"]  # then what arrived, and where it differs
    assert said["id"] == "echo.exact_cut", echo["message"]
    sent = said["params"]["sent"]
    assert 0 < sent < 102400 and said["params"]["planned"] == 102400
    assert en(check.message).startswith(
        "Every byte sent should come back unchanged, in order; the reference client sent "
        f"{sent} of its 102400 bytes before the connection ended."
    )
    assert f"参考客户端只发出了它要发送的 102400 字节中的 {sent} 字节" in zh(check.message)
    whole = graded(spec("server", client, ECHO), "server", SERVER.format(reply="data"))
    assert whole.status == "passed", en(whole.message)
    assert whole.expectations[0]["message"]["id"] == "echo.exact"


def test_an_echo_of_what_a_cut_short_client_sent_is_not_the_whole_echo():
    """A server that echoes what arrived, then closes before the client sent it all, has
    not echoed what the client meant to send: all of it must have been sent and come back."""
    from types import SimpleNamespace

    from app.grading.checks.exchange import echo_exact

    def observed(planned: int) -> SimpleNamespace:
        data = b"x" * 1400
        peer = {
            "sent": data,
            "received": data,
            "sent_total": 1400,
            "received_total": 1400,
            "sent_digest": "same",
            "received_digest": "same",
            "planned_total": planned,
            "error": None,
            "connections": 1,
        }
        return SimpleNamespace(peer=peer)

    assert echo_exact(observed(1400), True).ok
    cut = echo_exact(observed(102400), True)
    assert not cut.ok and cut.message["id"] == "echo.exact_cut"


@pytest.mark.sandbox
def test_a_connection_never_closed_chooses_its_hint(sandbox):
    code = """\
import socket, time
with socket.create_server(("127.0.0.1", 65432)) as server:
    conn, _ = server.accept()
    while data := conn.recv(1024):
        conn.sendall(data)
    time.sleep(30)
"""
    peer = {"kind": "tcp_client", "messages": ["bye"], "eof_timeout_ms": 800}
    expect = [{"peer_got_eof": True}, {"no_traceback": True}]
    check = graded(spec("server", peer, expect, timeout_ms=3000), "server", code)
    assert check.status == "failed"
    assert "never_closed" in chosen(check) and "data_changed" not in chosen(check)


@pytest.mark.sandbox
def test_no_timeout_against_a_silent_server_chooses_its_hint(sandbox):
    code = """\
import socket
s = socket.create_connection(("127.0.0.1", 65432))
s.sendall(b"hi")
print(s.recv(100))
"""
    expect = [
        {"exits_within_ms": 1000},
        {
            "output_matches": {
                "pattern": "(?i)timed? ?out",
                "describe": {"en": "a message saying it timed out", "zh": "一条说明已超时的消息"},
            }
        },
    ]
    check = graded(
        spec("client", {"kind": "silent_tcp_server"}, expect, timeout_ms=1500), "client", code
    )
    assert en(check.message).startswith("Stopped: your program hit the wall-clock time limit")
    assert chosen(check) == ["time_limit", "wrong_output", "no_timeout"]
    matches = check.expectations[1]
    assert en(matches["expected"]) == "a message saying it timed out"
    assert "a message saying it timed out" in en(matches["message"])
    assert "一条说明已超时的消息" in zh(matches["message"])
    assert [(e["from"], e["text"]) for e in check.transcript] == [("program", "hi")]


@pytest.mark.sandbox
def test_the_general_hint_stays_when_no_targeted_hint_matches(sandbox):
    only_crash = spec("server", TCP_CLIENT, ECHO)
    only_crash["checks"][0]["hints"] = [{"when": "crashed", "en": "c", "zh": "c"}]
    check = graded(only_crash, "server", SERVER.format(reply="data.upper()"))
    assert check.hints == [] and check.hint == {"en": "the general hint", "zh": "通用提示"}
    passed = graded(spec("server", TCP_CLIENT, ECHO), "server", SERVER.format(reply="data"))
    assert passed.status == "passed" and passed.hints == []
    assert passed.diagnosis == {"conditions": [], "crash": None}


def test_the_cli_report_shows_the_chosen_hints_and_the_transcript_inert():
    from app.grading.report import format_report

    check = engine.CheckResult(
        "c",
        {"en": "Echo", "zh": "回显"},
        "server",
        True,
        "failed",
        {"en": "Your server crashed: ValueError on line 3: boom", "zh": "…"},
        hint=None,
        hints=[{"when": "crashed", "en": "Catch it", "zh": "捕获它"}],
        transcript=Transcript().to_json()
        + [
            {"from": "peer", "text": "hello\\n", "size": 6, "truncated": False},
            {"from": "program", "text": "\x1b[2J", "size": 4, "truncated": False},
        ],
    )
    result = engine.GradeResult("failed", 0.0, [check], {"en": "0 of 1", "zh": "0/1"})
    report = format_report(result)
    assert "Your server crashed: ValueError on line 3: boom" in report
    assert "hint (crashed): Catch it" in report
    assert 'peer   > b"hello\\n"  (6 bytes)' in report
    assert "\x1b" not in report and 'program> b"\\x1b[2J"' in report


@pytest.mark.sandbox
def test_a_client_that_prints_part_of_the_reply_is_told_where_it_stops(sandbox):
    code = """\
import socket
with socket.create_connection(("127.0.0.1", 65432)) as s:
    s.sendall(b"Hello, World!")
    print(s.recv(4).decode())
"""
    expect = [{"output_echoes_peer": True}]
    check = graded(spec("client", {"kind": "tcp_echo_server"}, expect), "client", code)
    echoes = check.expectations[0]
    assert echoes["expected"] == 'b"Hello, World!"'
    assert "differs from offset 4: expected `o`, got `\\n`" in en(echoes["actual"])
    assert chosen(check) == ["data_short"]


@pytest.mark.sandbox
def test_a_wrong_exit_status_is_no_did_not_exit(sandbox):
    code = "import sys\nsys.exit(3)\n"
    exit_zero = spec("client", {"kind": "nothing_listening"}, [{"exit_code": 0}])
    check = graded(exit_zero, "client", code)
    assert check.status == "failed" and chosen(check) == []
    assert check.hint == {"en": "the general hint", "zh": "通用提示"}


UDP_ACK_SERVER = """\
import socket
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 65432))
while True:
    data, address = sock.recvfrom(2048)
    sock.sendto(b"ACK: " + data, address)
"""
TWO_CLIENTS = """\
import socket
for word in (b"one", b"two"):
    with socket.create_connection(("127.0.0.1", 65432)) as conn:
        conn.sendall(word)
        conn.shutdown(socket.SHUT_WR)
        while conn.recv(1024):
            pass
"""


@pytest.mark.sandbox
def test_the_transcript_tells_senders_and_connections_apart(sandbox):
    """Each entry names its flow: the UDP sender's port, the TCP connection's port."""
    peer = {"kind": "udp_client", "senders": 3, "datagrams": ["a", "b", "c", "d"]}
    check = graded(spec("server", peer, [{"udp_replies": {}}]), "server", UDP_ACK_SERVER)
    assert check.status == "passed", en(check.message)
    ports = [(e["from"], e["port"]) for e in check.transcript]
    senders = [port for side, port in ports if side == "peer"]
    assert len(set(senders)) == 3 and senders[0] == senders[3]
    assert ports == [(side, port) for port in senders for side in ("peer", "program")]

    echo = {"kind": "tcp_echo_server"}
    check = graded(spec("client", echo, [{"peer_received_nonempty": True}]), "client", TWO_CLIENTS)
    assert check.status == "passed", en(check.message)
    received = [e for e in check.transcript if e["from"] == "program"]
    assert [e["text"] for e in received] == ["one", "two"]
    assert received[0]["port"] != received[1]["port"]
    assert {e["port"] for e in check.transcript} == {e["port"] for e in received}
