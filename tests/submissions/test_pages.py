"""The submission pages as a browser without JavaScript sees them: the editor form on a code
question, the result page (queued, passed, failed), its checks fragment, and the history."""

from __future__ import annotations

import html as html_lib
import json
import re

import pytest
import sqlalchemy as sa

from app.models import Question, Submission, db
from tests.helpers import AuthActions, bank_check_count, bank_spec, csrf_token
from tests.submissions.test_trace_view import tcp_session

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh"}

# A server that reads once and sends back only the first 5 bytes: every echo check fails.
WRONG_SERVER = """
import socket
with socket.socket() as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 65432))
    s.listen()
    conn, _ = s.accept()
    with conn:
        data = conn.recv(1024)
        conn.send(data[:5])
"""


def question(app, slug: str) -> Question:
    with app.app_context():
        found = db.session.scalar(sa.select(Question).where(Question.slug == slug))
        db.session.expunge(found)
        return found


def page(client, url: str, headers=EN) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def task_section(html: str) -> str:
    return html.split('id="task-heading"')[1].split("</section>")[0]


def textarea(html: str, role: str) -> str | None:
    """The text of the editor's <textarea name="files-<role>">, unescaped."""
    match = re.search(rf'<textarea[^>]*name="files-{role}"[^>]*>\n?(.*?)</textarea>', html, re.S)
    return html_lib.unescape(match.group(1)) if match else None


def store_result(app, submission_id: int, result: dict) -> None:
    """Finish a submission by hand, as a worker would (for pages without the sandbox)."""
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        submission.result = result
        submission.status = "error" if result["verdict"] == "error" else "done"
        submission.verdict = result["verdict"]
        submission.score = result["score"]
        db.session.commit()


def made_up_result() -> dict:
    """A failed grading with one failed check (expectations, hint, output, a TCP trace)."""
    expectation = {
        "name": "echo_exact",
        "ok": False,
        "message": {
            "en": "Every byte sent (12 bytes) should come back unchanged, in order.",
            "zh": "发送的每个字节（共 12 字节）都应原样按序返回。",
        },
        "expected": "12 bytes",
        "actual": "5 of 12 bytes back; first difference at byte 5",
    }
    check = {
        "id": "server-echo-short",
        "role": "server",
        "required": True,
        "status": "failed",
        "title": {"en": "Server echoes a short message", "zh": "服务器回显一条短消息"},
        "message": expectation["message"],
        "expectations": [expectation],
        "hint": {
            "en": "Loop on recv() and use sendall().",
            "zh": "循环调用 recv() 并使用 sendall()。",
        },
        "stdout": "listening <on> 65432\n",
        "stderr": "",
        "duration_ms": 140,
        "resources": {
            "wall_ms": 120,
            "cpu_ms": 37,
            "peak_memory_bytes": 9 << 20,
            "exit_code": 0,
            "signal": None,
            "limit": None,
            "stopped_by_grader": False,
            "stdout_bytes": 21,
            "stderr_bytes": 0,
        },
        "peer": {},
        "trace": tcp_session(data_segments=1),
    }
    skipped = {
        "id": "client-echo",
        "role": "client",
        "required": True,
        "status": "skipped",
        "title": {
            "en": "Client sends a message and prints the echo",
            "zh": "客户端发送消息并打印回显",
        },
        "message": {
            "en": "Skipped: no 'client' file was submitted.",
            "zh": "已跳过：未提交“client”文件。",
        },
        "expectations": [],
        "hint": None,
        "stdout": "",
        "stderr": "",
        "duration_ms": 0,
        "resources": {},
        "peer": {},
        "trace": [],
    }
    return {
        "verdict": "failed",
        "score": 0.0,
        "checks": [check, skipped],
        "message": {"en": "0 of 1 required checks passed.", "zh": "1 项必需检查中通过 0 项。"},
        "skipped_roles": ["client"],
        "engine_version": "1.0",
        "duration_ms": 200,
    }


# -- the question page ---------------------------------------------------------------------


def test_signed_in_learner_gets_the_editor_form_with_starter_code(app, client, auth):
    auth.register()
    html = page(client, "/questions/tcp-echo")
    task = task_section(html)
    starter = question(app, "tcp-echo").starter_files
    form = re.search(r'<form class="editor-form"[^>]*>', task).group(0)
    assert 'method="post"' in form and 'action="/questions/tcp-echo/submissions"' in form
    assert 'data-slug="tcp-echo"' in form and 'data-source="starter"' in form
    assert 'name="csrf_token"' in task.split('<form class="editor-form"')[1]
    for role in ("server", "client"):
        assert textarea(task, role) == starter[role]
        assert f'<label for="code-{role}"' in task
        assert f'id="editor-tab-{role}"' in task and f'aria-controls="editor-panel-{role}"' in task
    assert 'role="tablist"' in task and "Reset to starter" in task
    assert '<button type="submit" id="editor-submit">Submit for grading</button>' in task
    assert json.loads(re.search(r'id="editor-starter">(.*?)</script>', task).group(1)) == starter
    assert re.search(r'<script src="/static/js/editor\.[0-9a-f]{12}\.js"', html)  # hashed
    assert "Sign in to submit" not in html


def test_the_form_posts_without_javascript(app, client, auth):
    auth.register()
    html = page(client, "/questions/tcp-echo")
    fields = {
        "csrf_token": csrf_token(html),
        "files-client": textarea(html, "client"),
        "files-server": "   ",
    }  # an empty file is not submitted
    response = client.post("/questions/tcp-echo/submissions", data=fields)
    assert response.status_code == 303
    submission_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        assert db.session.get(Submission, submission_id).files == {
            "client": question(app, "tcp-echo").starter_files["client"]
        }


def test_anonymous_visitor_sees_read_only_starter_and_a_sign_in_link(client):
    html = page(client, "/questions/tcp-echo")
    task = task_section(html)
    link = re.search(r'<a href="([^"]+)">Sign in to submit</a>', task)
    assert link and link.group(1).startswith("/auth/login?next=")
    assert "%2Fquestions%2Ftcp-echo" in link.group(1) or "/questions/tcp-echo" in link.group(1)
    assert "<textarea" not in task and "editor-form" not in task
    assert '<pre class="highlight"><code>' in task
    assert "/static/js/editor." not in html


def test_from_loads_a_submission_for_its_owner_only(app, client, learner):
    code = "print('loaded back: 42')\n"
    submission_id = learner.submit("tcp-echo", {"client": code}).get_json()["id"]
    html = page(client, f"/questions/tcp-echo?from={submission_id}")
    assert textarea(html, "client") == code
    assert textarea(html, "server") == question(app, "tcp-echo").starter_files["server"]
    assert 'data-source="submission"' in html
    assert f"The editor holds the code of submission #{submission_id}." in html

    other = app.test_client()
    AuthActions(other).register(email="other@example.com")
    html = page(other, f"/questions/tcp-echo?from={submission_id}")
    assert "loaded back: 42" not in html
    assert textarea(html, "client") == question(app, "tcp-echo").starter_files["client"]
    assert 'data-source="starter"' in html
    assert f"Submission #{submission_id} could not be loaded" in html

    # its owner, on another question's page: not loaded either
    html = page(client, f"/questions/udp-echo?from={submission_id}")
    assert "loaded back: 42" not in html and "could not be loaded" in html
    assert "could not be loaded" in page(client, "/questions/tcp-echo?from=abc")


def test_question_page_lists_the_last_five_submissions(app, client, learner):
    app.config.update(MAX_PENDING_SUBMISSIONS=100, SUBMISSIONS_PER_MINUTE=100)
    ids = [learner.submit("tcp-echo", {"client": f"print({n})"}).get_json()["id"] for n in range(6)]
    learner.submit("udp-echo", {"client": "print('udp')"})
    task = task_section(page(client, "/questions/tcp-echo"))
    recent = task.split('id="recent-heading"')[1]
    listed = [int(n) for n in re.findall(r'href="/submissions/(\d+)"', recent)]
    assert listed == ids[::-1][:5]
    assert "Queued" in recent
    assert 'href="/history?question=tcp-echo"' in recent


# -- the result page -----------------------------------------------------------------------


def test_queued_result_page_is_complete_without_javascript(app, client, learner):
    submission_id = learner.submit("tcp-echo", {"client": "print(1)\n"}).get_json()["id"]
    html = page(client, f"/submissions/{submission_id}")
    assert '<h1 id="submission-title">TCP echo server and client</h1>' in html
    assert 'href="/questions/tcp-echo"' in html
    assert "Queued: position 1 in the queue." in html
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in html
    assert 'role="status" aria-live="polite"' in html
    assert "The checks appear here as they finish." in html
    assert f'href="/questions/tcp-echo?from={submission_id}">Edit again</a>' in html
    assert '<span class="nb">print</span>' in html  # the submitted code, highlighted
    state = json.loads(re.search(r'id="submission-state">(.*?)</script>', html).group(1))
    assert state["status"] == "queued" and state["position"] == 1 and state["done"] == 0
    assert re.search(r'<script src="/static/js/submission\.[0-9a-f]{12}\.js"', html)


def test_result_page_shows_a_failed_check_in_full(app, client, learner):
    submission_id = learner.submit("tcp-echo", {"server": WRONG_SERVER}).get_json()["id"]
    store_result(app, submission_id, made_up_result())
    html = page(client, f"/submissions/{submission_id}")
    assert "noscript" not in html.split("</head>")[0]  # graded: no more refreshing
    assert 'class="verdict verdict-failed"' in html and "FAILED" in html
    assert "0 of 1 required checks passed." in html
    check = html.split('data-check-id="server-echo-short"')[1].split('data-check-id="client-echo"')[
        0
    ]
    assert "Server echoes a short message" in check and "Required" in check
    assert "took 140 ms" in check and "CPU 37 ms" in check and "peak memory 9.0 MiB" in check
    assert "Every byte sent (12 bytes) should come back unchanged, in order." in check
    assert "<dt>Expected</dt>" in check and "<code>12 bytes</code>" in check
    assert "<code>5 of 12 bytes back; first difference at byte 5</code>" in check
    assert "Loop on recv() and use sendall()." in check
    assert "listening &lt;on&gt; 65432" in check  # stdout, escaped, in a <details>
    assert re.search(r'<details class="output">\s*<summary>Standard output', check)
    assert "<svg" in check and "Three-way handshake" in check
    skipped = html.split('data-check-id="client-echo"')[1]
    assert "Skipped" in skipped and "no &#39;client&#39; file was submitted" in skipped
    assert "<svg" not in skipped.split("</li>")[0]


def test_checks_fragment_has_the_same_checks_and_the_same_access_rules(app, client, learner):
    submission_id = learner.submit("tcp-echo", {"server": WRONG_SERVER}).get_json()["id"]
    response = client.get(f"/submissions/{submission_id}/checks", headers=EN)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    fragment = response.get_data(as_text=True)
    assert "<html" not in fragment and fragment.lstrip().startswith('<div class="checks-region"')
    assert 'data-status="queued"' in fragment and 'data-done="0"' in fragment

    store_result(app, submission_id, made_up_result())
    fragment = client.get(f"/submissions/{submission_id}/checks", headers=EN).get_data(as_text=True)
    assert 'data-status="done"' in fragment and 'data-done="2"' in fragment
    assert 'data-check-id="server-echo-short"' in fragment and "<svg" in fragment
    assert "5 of 12 bytes back" in fragment
    full = page(client, f"/submissions/{submission_id}")
    assert fragment.strip() in full  # one template for both

    other = app.test_client()
    AuthActions(other).register(email="other@example.com")
    assert other.get(f"/submissions/{submission_id}/checks").status_code == 403
    anonymous = app.test_client()
    response = anonymous.get(f"/submissions/{submission_id}/checks")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert client.get("/submissions/999999/checks").status_code == 404


def test_result_page_in_chinese(app, client, learner):
    submission_id = learner.submit("tcp-echo", {"server": WRONG_SERVER}).get_json()["id"]
    store_result(app, submission_id, made_up_result())
    html = page(client, f"/submissions/{submission_id}", headers=ZH)
    assert '<html lang="zh-Hans">' in html
    assert "未通过" in html and "服务器回显一条短消息" in html
    assert "发送的每个字节（共 12 字节）都应原样按序返回。" in html
    assert "期望" in html and "实际" in html and "提示" in html and "三次握手" in html
    assert "CPU 时间 37 毫秒" in html and "内存峰值 9.0 MiB" in html
    assert "Expected" not in html and "Three-way handshake" not in html


@pytest.fixture
def graded(app, learner, workers, sandbox):
    """Two real gradings: the tcp-echo reference solution, and a wrong server."""
    reference = question(app, "tcp-echo").reference_files
    passed = learner.wait(learner.submit("tcp-echo", dict(reference)).get_json()["id"])
    failed = learner.wait(learner.submit("tcp-echo", {"server": WRONG_SERVER}).get_json()["id"])
    assert passed["verdict"] == "passed" and failed["verdict"] == "failed", (passed, failed)
    return passed["id"], failed["id"]


@pytest.mark.sandbox
def test_really_graded_submissions_show_passed_and_failed(client, graded):
    passed_id, failed_id = graded
    html = page(client, f"/submissions/{passed_id}")
    summary = html.split('id="summary"')[1].split("</section>")[0]
    assert 'class="verdict verdict-passed"' in summary and "PASSED" in summary
    assert "verdict-failed" not in html and "check-failed" not in html
    required = sum(c.get("required", True) for c in bank_spec("tcp-echo")["checks"])
    assert "Score <strong>100%</strong>" in summary
    assert f"All {required} required checks passed." in summary
    assert html.count('class="check check-passed"') == bank_check_count("tcp-echo")
    checks = bank_check_count("tcp-echo")
    assert html.count("<svg") == checks and html.count("Three-way handshake") >= checks
    assert "Four-way close: FIN from both sides" in html
    assert "Graded in" in html
    # the grader stops the servers when the peer is done: normal, so not reported
    assert "killed by signal" not in html and "stopped by the grader" not in html

    html = page(client, f"/submissions/{failed_id}")
    # It does close the connection: 1 of the 5 required server checks passes.
    assert 'class="verdict verdict-failed"' in html and "Score <strong>20%</strong>" in html
    short = html.split('data-check-id="server-echo-short"')[1].split(
        'data-check-id="server-echo-large"'
    )[0]
    assert "Every byte sent (12 bytes) should come back unchanged, in order." in short
    # the two byte strings, the first difference named, marked and explained
    assert "<code>b&#34;Hello, echo!&#34;</code>" in short
    assert "differs from offset 5: expected <code>,</code>, got the end (5 of 12 bytes)" in short
    assert "The bytes differ from offset 5 (counting from 0)." in short
    assert "<mark>,</mark>" in short
    # the transcript: what the reference client sent, then what came back
    transcript = short.split('<details class="transcript" open>')[1].split("</details>")[0]
    assert transcript.index("Reference client") < transcript.index("Your program")
    assert 'b"Hello, echo!"' in transcript and 'b"Hello"' in transcript
    assert "48 65 6c 6c 6f" in short  # the hex view, on demand
    zh = page(client, f"/submissions/{failed_id}", headers=ZH)
    assert "通信记录" in zh and "参考客户端" in zh and "以十六进制显示" in zh
    assert "字节从偏移量 5 起不同（从 0 开始计数）。" in zh
    large = html.split('data-check-id="server-echo-large"')[1]
    assert (  # the hint, its code in code
        "Loop on <code>recv()</code> until it returns <code>b''</code> and use "
        "<code>sendall()</code>" in large
    )
    assert "`" not in large.split('class="check-hint')[1].split("</div>")[0]
    assert "<svg" in short and "SYN-ACK" in short
    assert "Skipped" in html.split('data-check-id="client-echo"')[1]
    assert f'href="/questions/tcp-echo?from={failed_id}">Edit again</a>' in html


@pytest.mark.sandbox
def test_really_graded_fragment_and_edit_again(client, graded):
    passed_id, failed_id = graded
    fragment = client.get(f"/submissions/{failed_id}/checks", headers=EN).get_data(as_text=True)
    assert f'data-done="{bank_check_count("tcp-echo")}"' in fragment
    assert fragment.count('class="check check-failed"') >= 2
    html = page(client, f"/questions/tcp-echo?from={failed_id}")
    assert textarea(html, "server").strip() == WRONG_SERVER.strip()
    recent = html.split('id="recent-heading"')[1]
    assert "PASSED" in recent and "FAILED" in recent and "100%" in recent


# -- history -------------------------------------------------------------------------------


def test_history_lists_submissions_and_filters_by_question(app, client, learner):
    app.config.update(MAX_PENDING_SUBMISSIONS=100)
    echo = learner.submit("tcp-echo", {"client": "print(1)"}).get_json()["id"]
    udp = learner.submit("udp-echo", {"client": "print(2)"}).get_json()["id"]
    store_result(app, echo, made_up_result())
    html = page(client, "/history")
    rows = re.findall(r'<tr class="submission-row" data-submission="(\d+)">', html)
    assert rows == [str(udp), str(echo)]
    assert f'href="/submissions/{echo}">#{echo}</a>' in html
    assert "TCP echo server and client" in html and "FAILED" in html and "0%" in html
    assert "Queued" in html  # the udp one is still waiting
    assert 'data-label="Verdict"' in html  # the phone layout's labels
    select = html.split('<select id="history-question" name="question">')[1].split("</select>")[0]
    assert '<option value="">All questions</option>' in select
    assert 'value="tcp-echo"' in select and 'value="udp-vs-tcp"' not in select  # code only

    html = page(client, "/history?question=udp-echo")
    rows = re.findall(r'data-submission="(\d+)"', html)
    assert rows == [str(udp)]
    assert '<option value="udp-echo" selected>' in html
    assert 'href="/history">Show all</a>' in html
    assert client.get("/history?question=nope").status_code == 404


def test_history_empty_state_and_chinese(app, client, auth):
    auth.register()
    html = page(client, "/history")
    assert "No submissions yet" in html and "<table" not in html
    html = page(client, "/history?question=tcp-echo")
    assert "No submissions of this question yet" in html
    assert 'href="/questions/tcp-echo"' in html
    html = page(client, "/history", headers=ZH)
    assert "我的提交" in html and "还没有提交记录" in html and "全部题目" in html


def test_history_needs_sign_in(app):
    response = app.test_client().get("/history")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_refused_form_post_explains_and_links_back(app, client, auth):
    auth.register()
    html = page(client, "/questions/tcp-echo")
    big = "x = 1\n" * (70 * 1024 // 6)
    response = client.post(
        "/questions/tcp-echo/submissions",
        headers=EN,
        data={"csrf_token": csrf_token(html), "files-server": big},
    )
    assert response.status_code == 413
    body = response.get_data(as_text=True)
    assert "Submission refused" in body and "the limit is 64 KiB" in body
    assert 'href="/questions/tcp-echo"' in body and "javascript:" not in body


def test_durations_read_in_the_pages_language(app):
    """As the live clock does: 秒 and 毫秒 in Chinese (walk-throughs found "用时 10.1 s",
    then "用时 123 ms" beside "评分用时 2.1 秒")."""
    from app.submissions.views import format_duration

    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert (format_duration(1500), format_duration(250)) == ("1.5 秒", "250 毫秒")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert (format_duration(1500), format_duration(250)) == ("1.5 s", "250 ms")
