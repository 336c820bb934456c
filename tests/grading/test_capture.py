"""The packet capture on a check's loopback: bounded work, every control packet kept."""

from __future__ import annotations

import socket

import pytest

from app.grading import trace
from app.grading.netns import private_loopback

pytestmark = pytest.mark.sandbox
PORT = 65432
SENT = 10 * trace.MAX_DATA_PACKETS


def test_past_its_data_budget_the_capture_keeps_only_control_packets(sandbox):
    with private_loopback():
        capture = trace.Capture(PORT)
        server = socket.create_server(("127.0.0.1", PORT))
        client = socket.create_connection(("127.0.0.1", PORT))
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn, _ = server.accept()
        for _ in range(SENT):  # one small segment each
            client.send(b"x")
            conn.recv(16)
        client.close()
        conn.close()
        server.close()
        packets = capture.collect()
    data = [p for p in packets if p.length and not {"SYN", "FIN", "RST"} & set(p.flags)]
    fins = [p for p in packets if p.has("FIN")]
    # Once the budget is reached the kernel filter drops data frames: only what was
    # already queued then reaches the grader (how much that is depends on how far the
    # reader lagged behind the sender; seen: 400 to 2,800 frames on a loaded machine).
    assert len(packets) + capture.omitted < SENT // 2
    assert 0 < len(data) < trace.MAX_DATA_PACKETS
    assert len(fins) == 2 and capture.complete
