"""The packet trace as a sequence diagram: the layout helper, on made-up traces and on the
traces of a real grading (the tcp-teardown reference solution)."""

from __future__ import annotations

import pytest

from app.bank.files import read_directory
from app.bank.loader import BUILTIN_BANK
from app.grading.engine import grade
from app.submissions import trace_view
from app.submissions.trace_view import Arrow, Gap, build, flags_label

PORT = 65432


def packet(t_ms, sender, flags, length=0, seq=0, ack=0, client_port=40000, proto="tcp"):
    src, dst = (client_port, PORT) if sender == "client" else (PORT, client_port)
    return {
        "t_ms": t_ms,
        "proto": proto,
        "src_port": src,
        "dst_port": dst,
        "flags": flags,
        "length": length,
        "seq": seq,
        "ack": ack,
        "from": sender,
    }


def tcp_session(data_segments=2, client_port=40000, client_isn=1000, server_isn=5000):
    """A whole connection: handshake, echoed data with ACKs, a four-way close."""
    c, s = client_isn, server_isn
    trace = [
        packet(0.0, "client", ["SYN"], seq=c, client_port=client_port),
        packet(0.02, "server", ["SYN", "ACK"], seq=s, ack=c + 1, client_port=client_port),
        packet(0.03, "client", ["ACK"], seq=c + 1, ack=s + 1, client_port=client_port),
    ]
    c, s = c + 1, s + 1
    t = 1.0
    for _ in range(data_segments):
        trace.append(packet(t, "client", ["PSH", "ACK"], 100, c, s, client_port))
        c += 100
        trace.append(packet(t + 0.01, "server", ["ACK"], 0, s, c, client_port))
        trace.append(packet(t + 0.02, "server", ["PSH", "ACK"], 100, s, c, client_port))
        s += 100
        trace.append(packet(t + 0.03, "client", ["ACK"], 0, c, s, client_port))
        t += 0.1
    trace += [
        packet(t + 1, "client", ["FIN", "ACK"], seq=c, ack=s, client_port=client_port),
        packet(t + 1.1, "server", ["ACK"], seq=s, ack=c + 1, client_port=client_port),
        packet(t + 1.2, "server", ["FIN", "ACK"], seq=s, ack=c + 1, client_port=client_port),
        packet(t + 1.3, "client", ["ACK"], seq=c + 1, ack=s + 1, client_port=client_port),
    ]
    return trace


# -- labels and classification -------------------------------------------------------------


def test_flags_are_labelled_like_in_textbooks():
    assert flags_label(["SYN"]) == "SYN"
    assert flags_label(["ACK", "SYN"]) == "SYN-ACK"
    assert flags_label(["FIN", "ACK"]) == "FIN-ACK"
    assert flags_label(["ACK", "PSH"]) == "PSH-ACK"
    assert flags_label(["RST"]) == "RST"
    assert flags_label(["ACK", "RST"]) == "RST-ACK"
    assert flags_label([], "udp") == "UDP"


def test_no_trace_means_no_diagram():
    assert build([]) is None
    assert build(None) is None


def test_a_whole_connection_in_order_with_its_phases():
    diagram = build(tcp_session(data_segments=1), role="client")
    assert diagram.labels == [
        "client SYN", "server SYN-ACK", "client ACK",
        "client PSH-ACK", "server ACK", "server PSH-ACK", "client ACK",
        "client FIN-ACK", "server ACK", "server FIN-ACK", "client ACK",
    ]  # fmt: skip
    kinds = [a.kind for a in diagram.arrows]
    assert kinds == ["handshake"] * 3 + ["data", "ack", "data", "ack"] + ["close"] * 4
    handshake, close = diagram.phases
    assert handshake.kind == "handshake" and handshake.numbers == [1, 2, 3] and handshake.complete
    assert close.kind == "close" and close.numbers == [8, 9, 10, 11] and close.complete
    assert close.fins_from == ["client", "server"]
    assert diagram.program == "client" and diagram.server_port == PORT
    assert diagram.client_ports == [40000] and diagram.total == diagram.shown == 11
    assert diagram.arrows[3].size == "100 B" and diagram.arrows[0].time == "0.00"


def test_arrows_go_from_the_sender_lane_to_the_other_in_time_order():
    diagram = build(tcp_session(data_segments=1))
    ys = [a.y for a in diagram.arrows]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)
    syn, synack = diagram.arrows[0], diagram.arrows[1]
    assert (syn.x1, syn.x2) == (diagram.client_x, diagram.server_x)
    assert (synack.x1, synack.x2) == (diagram.server_x, diagram.client_x)
    assert syn.line_end < syn.x2 and synack.line_end > synack.x2  # room for the arrowhead
    # a caption row above each phase: the band starts above its first arrow
    for phase in diagram.phases:
        first = next(a for a in diagram.arrows if a.number == phase.numbers[0])
        assert phase.y1 < phase.caption_y < first.y < phase.y2
    assert diagram.height > diagram.arrows[-1].y


def test_the_handshake_ack_is_recognised_across_sequence_wraparound():
    trace = tcp_session(data_segments=0, client_isn=2**32 - 1, server_isn=2**32 - 1)
    for row in trace:
        row["seq"] %= 2**32
        row["ack"] %= 2**32
    diagram = build(trace)
    assert [a.kind for a in diagram.arrows[:3]] == ["handshake"] * 3
    assert diagram.phase("close")[0].complete


def test_reset_is_marked_and_a_one_sided_close_is_not_complete():
    trace = tcp_session(data_segments=0)[:3] + [
        packet(2.0, "server", ["FIN", "ACK"], seq=5001, ack=1001),
        packet(2.1, "client", ["RST"], seq=1001),
    ]
    diagram = build(trace, role="server")
    assert diagram.arrows[-1].kind == "reset" and diagram.resets == [diagram.arrows[-1]]
    (close,) = diagram.phase("close")
    assert close.fins_from == ["server"] and not close.complete


def test_udp_datagrams_with_sizes_and_several_senders():
    trace = [
        packet(0.0, "client", [], 5, client_port=41000, proto="udp"),
        packet(0.1, "server", [], 10, client_port=41000, proto="udp"),
        packet(0.2, "client", [], 6, client_port=42000, proto="udp"),
        packet(0.3, "server", [], 11, client_port=42000, proto="udp"),
    ]
    diagram = build(trace, role="server")
    assert diagram.proto == "udp" and not diagram.phases
    assert diagram.labels == ["client UDP", "server UDP", "client UDP", "server UDP"]
    assert [a.size for a in diagram.arrows] == ["5 B", "10 B", "6 B", "11 B"]
    assert diagram.client_ports == [41000, 42000]
    assert [a.client_port for a in diagram.arrows] == [41000, 41000, 42000, 42000]


def test_a_long_trace_collapses_plain_runs_but_keeps_handshake_and_close():
    trace = tcp_session(data_segments=30)  # 3 + 120 + 4 packets
    diagram = build(trace)
    assert diagram.total == len(trace) == 127
    assert diagram.shown < trace_view.MAX_PACKETS
    gaps = [row for row in diagram.rows if isinstance(row, Gap)]
    assert len(gaps) == 1
    assert gaps[0].count == diagram.hidden == 127 - diagram.shown
    assert diagram.labels[:3] == ["client SYN", "server SYN-ACK", "client ACK"]
    assert [a.kind for a in diagram.arrows[-4:]] == ["close"] * 4
    # the run keeps its head and its tail around the gap
    index = diagram.rows.index(gaps[0])
    assert all(isinstance(r, Arrow) for r in diagram.rows[index - trace_view.KEEP_HEAD : index])
    assert diagram.rows[index - 1].number < diagram.rows[index + 1].number - 1
    assert gaps[0].y > diagram.rows[index - 1].y


def test_a_short_trace_is_never_collapsed():
    trace = tcp_session(data_segments=9)  # 43 packets, just above the limit...
    assert len(trace) > trace_view.MAX_PACKETS and build(trace).hidden > 0
    trace = tcp_session(data_segments=8)  # ...39: all shown
    assert build(trace).hidden == 0 and build(trace).shown == len(trace)


# -- the real engine ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def teardown_result(sandbox):
    """The tcp-teardown reference solution graded for real (needs the sandbox)."""
    _, questions = read_directory(BUILTIN_BANK)
    question = next(q for q in questions if q.slug == "tcp-teardown")
    result = grade(question.spec, question.reference_files)
    assert result.verdict == "passed", result.message
    return result


@pytest.mark.sandbox
def test_real_teardown_traces_show_handshake_then_fin_from_both_sides(teardown_result):
    assert {c.id for c in teardown_result.checks} == {
        "server-graceful-close",
        "client-graceful-close",
    }
    for check in teardown_result.checks:
        diagram = build(check.trace, check.role)
        assert diagram is not None and diagram.proto == "tcp", check.id
        assert diagram.program == check.role
        assert diagram.labels[:3] == ["client SYN", "server SYN-ACK", "client ACK"], check.id
        fins = [a for a in diagram.arrows if "FIN" in a.flags]
        assert {a.sender for a in fins} == {"client", "server"}, diagram.labels
        handshake_end = max(diagram.phase("handshake")[0].numbers)
        assert all(a.number > handshake_end for a in fins)
        (close,) = diagram.phase("close")
        assert close.complete and set(close.fins_from) == {"client", "server"}
        assert diagram.hidden == 0
        # the last FIN is acknowledged by the other side, which ends the connection
        last_fin = max(a.number for a in fins)
        last_fin_sender = next(a.sender for a in fins if a.number == last_fin)
        final_ack = next(
            a
            for a in diagram.arrows
            if a.number > last_fin and a.label == "ACK" and a.sender != last_fin_sender
        )
        assert final_ack.kind == "close"
        # The learner's program never resets. The reference peer's kernel may answer a
        # stray segment that arrives after the connection ended (a duplicate ACK from a
        # late close(), seen under load) with an RST: only then, and only from the peer.
        assert all(
            a.sender != check.role and a.number > final_ack.number for a in diagram.resets
        ), diagram.labels
    # whoever the learner's program is closes first: the server check sees the server's FIN
    # first, the client check the client's.
    by_id = {c.id: build(c.trace, c.role) for c in teardown_result.checks}
    first_fin = {
        key: next(a.sender for a in d.arrows if "FIN" in a.flags) for key, d in by_id.items()
    }
    assert first_fin == {"server-graceful-close": "server", "client-graceful-close": "client"}


@pytest.mark.sandbox
def test_real_trace_renders_as_svg_with_title_desc_and_table(app, teardown_result):
    check = next(c for c in teardown_result.checks if c.id == "client-graceful-close")
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        from flask import render_template_string

        html = render_template_string(
            '{% from "submissions/_trace.html" import packet_trace with context %}'
            "{{ packet_trace(check, 'trace-x') }}",
            check=check.__dict__,
        )
    svg = html.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert 'role="img"' in svg and 'aria-labelledby="trace-x-title trace-x-desc"' in svg
    assert '<title id="trace-x-title">' in svg and '<desc id="trace-x-desc">' in svg
    assert "Three-way handshake" in svg and "Four-way close: FIN from both sides" in svg
    labels = [part.split("<", 1)[0] for part in svg.split('class="pkt-flags">')[1:]]
    assert labels[:3] == ["SYN", "SYN-ACK", "ACK"]
    assert labels.count("FIN-ACK") == 2
    assert "your program" in svg and "reference peer" in svg
    table = html.split('<details class="trace-table">', 1)[1]
    assert table.count('<tr class="row-') == len(check.trace)
    assert '<details class="trace" open>' in html
