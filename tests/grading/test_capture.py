"""The packet capture on a check's loopback: bounded work, every control packet kept."""

from __future__ import annotations

import socket
import time

import pytest

from app.grading import trace
from app.grading.netns import private_loopback

pytestmark = pytest.mark.sandbox
PORT = 65432
FIRST = 2 * trace.MAX_DATA_PACKETS  # one-byte segments sent before the budget is reached
THEN = 8 * trace.MAX_DATA_PACKETS  # and after


def test_past_its_data_budget_the_capture_keeps_only_control_packets(sandbox):
    """Once the capture has kept its budget of data frames, the kernel's filter drops the
    rest: the grader reads only what was already queued when it switched, however long
    the flood goes on (the capture's reader may lag far behind on a loaded machine, so the
    flood waits for the switch before it goes on)."""
    with private_loopback():
        capture = trace.Capture(PORT)
        server = socket.create_server(("127.0.0.1", PORT))
        client = socket.create_connection(("127.0.0.1", PORT))
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn, _ = server.accept()

        def flood(segments: int) -> None:
            for _ in range(segments):  # one small segment each
                client.send(b"x")
                conn.recv(16)

        flood(FIRST)
        deadline = time.monotonic() + 30
        while len(capture.packets) < trace.MAX_DATA_PACKETS and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(capture.packets) == trace.MAX_DATA_PACKETS  # the filter has switched
        flood(THEN)
        client.close()
        conn.close()
        server.close()
        packets = capture.collect()
    data = [p for p in packets if p.length and not {"SYN", "FIN", "RST"} & set(p.flags)]
    fins = [p for p in packets if p.has("FIN")]
    # The first part is at most two frames a segment (data and ACK), and the handshake; of
    # the flood after the switch, no data frame reaches the grader.
    assert len(packets) + capture.omitted <= 2 * FIRST + 10, (len(packets), capture.omitted)
    assert 0 < len(data) < trace.MAX_DATA_PACKETS
    assert len(fins) == 2 and capture.complete
