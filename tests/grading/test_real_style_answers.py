"""Programs written the way people really write them (socketserver, selectors, asyncio
streams and protocols, threads, logging), each labelled by hand: a right one passes every
required check, and fails only the advice it ignores. The wrong ones (reading until EOF,
sending without a write buffer, leaving connections open, dropping datagrams...) are the
bank's known-wrong answers, each with the check it must fail: the studio's validation and
test_chapter_answers.py grade them. The grader agrees with the labels, or a prompt and its
spec disagree.
"""

from __future__ import annotations

import pytest

from app.grading.engine import grade
from tests.grading.test_chapter_answers import ANSWERS
from tests.helpers import en

pytestmark = pytest.mark.sandbox

RIGHT = [
    # (slug, role, file, the advisory checks it fails)
    ("tcp-echo", "server", "tcp_echo_server_socketserver.py", set()),
    ("tcp-echo", "server", "tcp_echo_server_selectors_buffered.py", set()),
    ("tcp-echo", "server", "tcp_echo_server_asyncio_streams.py", set()),
    ("tcp-echo", "server", "tcp_echo_server_asyncio_protocol.py", set()),
    ("tcp-echo", "server", "tcp_echo_server_text_minded.py", {"server-binary"}),
    ("tcp-echo", "client", "tcp_echo_client_logging.py", set()),
    ("tcp-echo", "client", "tcp_echo_client_asyncio.py", set()),
    ("socket-timeout", "client", "socket_timeout_client_logging.py", set()),
    ("tcp-handshake", "client", "tcp_handshake_client_asyncio.py", {"client-refused"}),
    ("tcp-teardown", "server", "tcp_teardown_server_socketserver.py", set()),
    ("tcp-teardown", "client", "tcp_teardown_client_logging.py", set()),
    ("udp-echo", "server", "udp_echo_server_socketserver.py", set()),
    ("udp-echo", "server", "udp_echo_server_asyncio.py", set()),
    ("udp-echo", "client", "udp_echo_client_connected.py", set()),
    (
        "udp-echo",
        "client",
        "udp_echo_client_no_timeout.py",
        {"client-silent-server", "client-no-server"},
    ),
    ("threaded-client", "client", "threaded_client_daemon.py", set()),
    (
        "threaded-client",
        "client",
        "threaded_client_busy_loop.py",
        {"client-stops-at-eof", "client-exits-after-server-close"},
    ),
    # At exit its daemon thread still holds stdin's lock in input(): Python aborts.
    (
        "threaded-client",
        "client",
        "threaded_client_eof_traceback.py",
        {"client-stops-at-eof", "client-exits-after-server-close"},
    ),
]


@pytest.mark.parametrize(
    ("slug", "role", "filename", "advice_missed"), RIGHT, ids=[r[2][:-3] for r in RIGHT]
)
def test_a_right_program_passes(sandbox, bank, slug, role, filename, advice_missed):
    result = grade(bank[slug].spec, {role: (ANSWERS / filename).read_text()})
    checks = [c for c in result.checks if c.role == role]
    failed = {c.id: en(c.message) for c in checks if c.required and c.status != "passed"}
    assert failed == {}
    assert {c.id for c in checks if not c.required and c.status != "passed"} == advice_missed
