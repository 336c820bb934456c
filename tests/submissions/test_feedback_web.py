"""The web half of "feedback that teaches" (issue 12): where a grading is (the running
check in the snapshot and on the page, with and without JavaScript), a result page that
reads top-down, a killed program's trace, a check that was never reached, the last attempt
back in the editor, regrades marked as such, and the texts of the register and profile
pages."""

from __future__ import annotations

import re
import threading
import time

import pytest
import sqlalchemy as sa
from flask_login import login_user

from app.jobs import grading
from app.models import Submission, db, utcnow
from app.submissions import events
from tests.helpers import AuthActions, bank_spec
from tests.submissions.test_pages import WRONG_SERVER, page, store_result, textarea
from tests.submissions.test_trace_view import tcp_session

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh"}


def check(check_id: str, status: str, required: bool = True, **extra) -> dict:
    """A made-up check result of the tcp-echo server."""
    data = {
        "id": check_id,
        "role": "server",
        "required": required,
        "status": status,
        "title": {"en": f"Title of {check_id}", "zh": f"{check_id} 的标题"},
        "message": {"en": f"Message of {check_id}.", "zh": f"{check_id} 的消息。"},
        "expectations": [],
        "hint": None,
        "stdout": "",
        "stderr": "",
        "duration_ms": 100,
        "resources": {"exit_code": 0, "stopped_by_grader": False, "limit": None},
        "peer": {"kind": "tcp_client", "connections": 1, "sent_bytes": 12, "received_bytes": 12},
        "trace": [],
    }
    data.update(extra)
    return data


def result_of(*checks: dict) -> dict:
    return {
        "verdict": "failed",
        "score": 0.0,
        "checks": list(checks),
        "message": {"en": "Some checks failed.", "zh": "部分检查未通过。"},
        "skipped_roles": [],
        "engine_version": "1.0",
        "duration_ms": 200,
    }


def check_items(html: str) -> list[tuple[str, str]]:
    """(check id, the <li>'s HTML) in page order."""
    parts = re.split(r'(<li class="check [^"]*" id="check-[^"]+" data-check-id="([^"]+)">)', html)
    items = []
    for index in range(1, len(parts) - 2, 3):
        items.append((parts[index + 1], parts[index] + parts[index + 2].split("</li>\n    <li")[0]))
    return items


# -- where the grading is ----------------------------------------------------------------


def test_snapshot_and_page_name_the_running_check_and_its_clock(app, client, learner, monkeypatch):
    """A page that opens mid-check (after check_started went out) still learns which check
    runs and since when: the grading stores it, the snapshot, the JSON and the page say it."""
    spec = bank_spec("socket-timeout")
    submission_id = learner.submit("socket-timeout", {"client": "print(1)\n"}).get_json()["id"]
    seen: dict = {}

    def fake_grade(spec_, files, on_event):
        checks = spec_["checks"]
        first = {"index": 0, "total": len(checks), "id": checks[0]["id"]}
        on_event({"type": "check_started", **first, "title": checks[0]["title"]})
        done = {"id": checks[0]["id"], "status": "passed", "required": True}
        done.update(title=checks[0]["title"], role="client", message=None, expectations=[])
        on_event({"type": "check_finished", **first, "title": checks[0]["title"], "check": done})
        second = {"index": 1, "total": len(checks), "id": checks[1]["id"]}
        on_event({"type": "check_started", **second, "title": checks[1]["title"]})
        time.sleep(1.2)

        def look() -> None:  # as another process would: outside the grading's app context
            seen["json"] = client.get(f"/submissions/{submission_id}.json").get_json()
            seen["page"] = page(client, f"/submissions/{submission_id}")
            seen["zh"] = page(client, f"/submissions/{submission_id}", headers=ZH)

        looker = threading.Thread(target=look)
        looker.start()
        looker.join()
        raise RuntimeError("stop here")

    monkeypatch.setattr(grading, "grade", fake_grade)
    with app.app_context():
        grading.run_submission(submission_id)

    running = seen["json"]["running"]
    assert seen["json"]["status"] == "running" and len(seen["json"]["checks"]) == 1
    assert running["id"] == "client-gives-up" and running["index"] == 1
    assert running["title"] == spec["checks"][1]["title"]
    assert 1200 <= running["elapsed_ms"] < 10_000
    assert running["started_at"].startswith(str(utcnow().year))

    html = seen["page"]
    title = spec["checks"][1]["title"]["en"]
    assert f"Running check 2 of 3: {title}" in html
    assert re.search(r'<span class="running-clock" aria-hidden="true"> — [1-9]\d* s</span>', html)
    state = re.search(r'id="submission-state">(.*?)</script>', html).group(1)
    assert '"running": {' in state and '"elapsed_ms"' in state
    assert f"正在运行第 2 / 3 项检查：{spec['checks'][1]['title']['zh']}" in seen["zh"]
    assert re.search(r"— [1-9]\d* 秒", seen["zh"])

    # once the check's result is in (here: the grading ended), nothing is "running"
    data = client.get(f"/submissions/{submission_id}.json").get_json()
    assert data["status"] == "error" and data["running"] is None
    assert "running-clock" not in page(client, f"/submissions/{submission_id}")


def test_a_finished_check_is_no_longer_the_running_one(app, learner, client):
    submission_id = learner.submit("tcp-echo", {"client": "print(1)\n"}).get_json()["id"]
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        submission.status = "running"
        title = {"en": "First", "zh": "第一"}
        running = {"id": "a", "index": 0, "title": title, "started_at": "garbage"}
        submission.result = {"partial": True, "total": 2, "checks": [], "running": running}
        db.session.commit()
    data = client.get(f"/submissions/{submission_id}.json").get_json()
    assert data["running"]["id"] == "a" and "elapsed_ms" not in data["running"]
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        result = dict(submission.result)
        result["checks"] = [check("a", "passed")]
        submission.result = result
        db.session.commit()
    assert client.get(f"/submissions/{submission_id}.json").get_json()["running"] is None


def test_pending_page_without_javascript_reloads_itself_and_says_so(app, client, learner):
    submission_id = learner.submit("tcp-echo", {"client": "print(1)\n"}).get_json()["id"]
    html = page(client, f"/submissions/{submission_id}")
    head = html.split("</head>")[0]
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in head
    assert "This page reloads itself every 5 seconds until the grading is over" in html
    assert "评分结束前本页每 5 秒自动刷新一次" in page(
        client, f"/submissions/{submission_id}", headers=ZH
    )
    store_result(app, submission_id, result_of(check("a", "passed")))
    html = page(client, f"/submissions/{submission_id}")
    assert 'http-equiv="refresh"' not in html and "reloads itself" not in html


def test_watch_survives_a_page_that_left_before_its_answer(app, client, learner, monkeypatch):
    """python-socketio raises ValueError("sid is not connected to requested namespace")
    when the page disconnected between its watch request and the answer. (The handler is
    called as Socket.IO calls it, with its room and emit functions recorded: the suite's
    scaled-mode tests leave the shared SocketIO object on a message queue, which Flask-
    SocketIO's test client refuses.)"""
    submission_id = learner.submit("tcp-echo", {"client": "print(1)\n"}).get_json()["id"]
    sent, joined, logged = [], [], []

    def gone(room):
        raise ValueError("sid is not connected to requested namespace")

    monkeypatch.setattr(events, "emit", lambda name, data: sent.append((name, data)))
    monkeypatch.setattr(events, "join_room", gone)
    for level in ("debug", "info", "warning", "error", "exception"):
        monkeypatch.setattr(
            app.logger, level, lambda msg, *args, level=level: logged.append((level, msg % args))
        )
    with app.test_request_context("/socket.io/"):
        owner = db.session.get(Submission, submission_id).user
        login_user(owner)
        events.watch({"id": submission_id})  # no exception
        assert logged == [("debug", f"watcher of submission {submission_id} left before joining")]
        assert sent == []

        monkeypatch.setattr(events, "join_room", joined.append)
        events.watch({"id": submission_id})  # a page that stays gets its snapshot
    assert joined == [f"submission-{submission_id}"]
    assert [(name, data["id"]) for name, data in sent] == [("snapshot", submission_id)]


# -- a result page that reads top-down -----------------------------------------------------


def test_failed_required_checks_first_open_and_passed_ones_collapsed(app, client, learner):
    submission_id = learner.submit("tcp-echo", {"server": WRONG_SERVER}).get_json()["id"]
    store_result(
        app,
        submission_id,
        result_of(
            check("passed-one", "passed", trace=tcp_session()),
            check("advisory-failed", "failed", required=False),
            check("required-failed", "failed", trace=tcp_session()),
            check("skipped-one", "skipped"),
            check("passed-two", "passed"),
        ),
    )
    for url in (f"/submissions/{submission_id}", f"/submissions/{submission_id}/checks"):
        items = check_items(page(client, url))
        order = [check_id for check_id, _ in items]
        assert order == [
            "required-failed",
            "advisory-failed",
            "skipped-one",
            "passed-one",
            "passed-two",
        ]
        html = dict(items)
        for failed in ("required-failed", "advisory-failed"):
            assert '<details class="check-details" open>' in html[failed]
            assert f"Message of {failed}." in html[failed]
        for passed in ("passed-one", "passed-two"):
            assert '<details class="check-details">' in html[passed]
        # a check keeps its number in the spec, whatever its place on the page
        assert "Check 3:</span>" in html["required-failed"]
        assert "Check 1:</span>" in html["passed-one"]
        assert html["required-failed"].count("<svg") == 1  # its trace, inside its details
        assert f'id="trace-{submission_id}-3-title"' in html["required-failed"]


def test_killed_program_trace_is_marked_and_servers_stopped_at_the_end_are_not(
    app, client, learner
):
    killed = {"exit_code": None, "signal": 9, "stopped_by_grader": True, "limit": "time"}
    stopped = {"exit_code": None, "signal": 15, "stopped_by_grader": True, "limit": None}
    submission_id = learner.submit("tcp-echo", {"server": WRONG_SERVER}).get_json()["id"]
    store_result(
        app,
        submission_id,
        result_of(
            check("killed", "failed", role="client", resources=killed, trace=tcp_session()),
            check("server-ran-until-stopped", "failed", resources=stopped, trace=tcp_session()),
        ),
    )
    html = dict(check_items(page(client, f"/submissions/{submission_id}")))
    assert "stopped by the grader: time limit" in html["killed"]
    assert "Killed by the grader (time limit)" in html["killed"]
    assert "the kernel closed them when the grader stopped it" in html["killed"]
    svg = html["killed"].split("<svg")[1].split("</svg>")[0]
    assert "Killed by the grader (time limit)</text>" in svg
    assert "Four-way close" not in svg and "band-killed" in svg
    assert "Three-way handshake" in svg  # the rest is drawn as it happened

    server = html["server-ran-until-stopped"]
    assert "stopped by the grader" not in server and "Killed by the grader" not in server
    assert "Four-way close: FIN from both sides" in server
    assert "killed by signal" not in server

    zh = dict(check_items(page(client, f"/submissions/{submission_id}", headers=ZH)))
    assert "被评分器终止（时间限制）" in zh["killed"]
    assert "Killed by the grader" not in zh["killed"] and "time limit" not in zh["killed"]


def test_a_check_never_reached_explains_itself(app, client, learner):
    message = {
        "en": "Your server listens on port 65433, not on 65432.",
        "zh": "你的服务器监听的是端口 65433，而不是 65432。",
    }
    zero = {
        "name": "echo_exact",
        "ok": False,
        "message": {"en": "Every reply should come back.", "zh": "每个回复都应返回。"},
        "expected": "0 replies",
        "actual": "0 of 0",
    }
    quiet = {"kind": "tcp_client", "connections": 0, "sent_bytes": 0, "received_bytes": 0}
    talked = dict(quiet, connections=1, sent_bytes=12)
    submission_id = learner.submit("tcp-echo", {"server": WRONG_SERVER}).get_json()["id"]
    store_result(
        app,
        submission_id,
        result_of(
            check("wrong-port", "failed", message=message, expectations=[zero], peer=quiet),
            check("reached", "failed", message=zero["message"], expectations=[zero], peer=talked),
        ),
    )
    html = dict(check_items(page(client, f"/submissions/{submission_id}")))
    wrong = html["wrong-port"]
    assert "Your server listens on port 65433, not on 65432." in wrong
    assert "The reference client never got to talk to your server" in wrong
    assert "<dt>Expected</dt>" not in wrong and "0 of 0" not in wrong
    reached = html["reached"]  # a check whose exchange took place shows its expectations
    assert "<dt>Expected</dt>" in reached and "<code>0 of 0</code>" in reached
    assert "never got to talk" not in reached
    zh = dict(check_items(page(client, f"/submissions/{submission_id}", headers=ZH)))
    assert "参考客户端始终没能与你的服务器通信" in zh["wrong-port"]


# -- the question page, the history, the texts ----------------------------------------------


def regrade_of(app, submission_id: int, files: dict) -> int:
    """What app/instructor/regrade.py makes: the same user's submission, regrade_of set."""
    with app.app_context():
        original = db.session.get(Submission, submission_id)
        regrade = Submission(
            user_id=original.user_id,
            question_id=original.question_id,
            question_version=original.question_version,
            files=files,
            regrade_of=original.id,
        )
        db.session.add(regrade)
        db.session.commit()
        return regrade.id


def test_the_question_page_brings_back_the_last_attempt(app, client, learner):
    starter = page(client, "/questions/tcp-echo")
    assert 'data-source="starter"' in starter and "your last attempt" not in starter
    first = learner.submit("tcp-echo", {"client": "print('first')\n"}).get_json()["id"]
    second = learner.submit("tcp-echo", {"server": "print('second')\n"}).get_json()["id"]
    html = page(client, "/questions/tcp-echo")
    assert 'data-source="last"' in html
    assert f"The editor holds your last attempt, submission #{second}." in html
    assert textarea(html, "server") == "print('second')\n"
    assert "first" not in textarea(html, "client")  # a role it left out: the starter code
    # an instructor's regrade is not the learner's attempt
    regrade_of(app, first, {"client": "print('regraded')\n"})
    html = page(client, "/questions/tcp-echo")
    assert f"submission #{second}." in html and "regraded" not in html
    # ?from= still wins; another question's page keeps its starter code
    html = page(client, f"/questions/tcp-echo?from={first}")
    assert textarea(html, "client") == "print('first')\n" and 'data-source="submission"' in html
    assert 'data-source="starter"' in page(client, "/questions/udp-echo")
    assert "编辑器中是你上一次的尝试" in page(client, "/questions/tcp-echo", headers=ZH)


def test_regrades_are_marked_and_kept_out_of_the_learners_count(app, client, learner):
    own = learner.submit("tcp-echo", {"client": "print(1)\n"}).get_json()["id"]
    regrade = regrade_of(app, own, {"client": "print(1)\n"})
    html = page(client, "/history")
    assert "1 submission · 1 regrade by an instructor" in html
    row = html.split(f'data-submission="{regrade}"')[1].split("</tr>")[0]
    assert f"Regrade of #{own}" in row and "it does not count as one of your attempts" in row
    own_row = html.split(f'data-submission="{own}"')[1].split("</tr>")[0]
    assert "Regrade of" not in own_row
    assert f"Regrade of #{own}" in page(client, f"/submissions/{regrade}")
    assert f"Regrade of #{own}" not in page(client, f"/submissions/{own}")
    recent = page(client, "/questions/tcp-echo").split('id="recent-heading"')[1]
    assert f"Regrade of #{own}" in recent
    zh = page(client, "/history", headers=ZH)
    assert f"#{own} 的重新评分" in zh and "1 次教师重新评分" in zh
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 2


def test_register_and_profile_texts(app, client):
    html = page(client, "/auth/register")
    assert "soon" not in html and "submit code to be graded on a real loopback network" in html
    assert "提交代码在真实的回环网络上评分" in page(client, "/auth/register", headers=ZH)
    AuthActions(client).register(email="learner@example.com")
    profile = page(client, "/auth/profile")
    assert "API token" in profile and "flask users token" not in profile


@pytest.mark.parametrize("role", ["admin"])
def test_the_admin_still_sees_the_command(app, client, role):
    AuthActions(client).register(email="root@example.com")
    with app.app_context():
        from app.models import User

        user = db.session.scalar(sa.select(User).where(User.email == "root@example.com"))
        user.role = role
        db.session.commit()
    assert "flask users token EMAIL" in page(client, "/auth/profile")


def test_a_verdict_stored_while_the_page_joins_is_in_its_snapshot(
    app, client, learner, monkeypatch
):
    """The grading may finish between the page's watch request and its joining the room:
    the event then goes to nobody, so the snapshot must be read after the join, or the
    page shows "Running" until it is reloaded."""
    submission_id = learner.submit("tcp-echo", {"client": "print(1)\n"}).get_json()["id"]
    sent = []

    def join_while_the_verdict_arrives(room):
        store_result(app, submission_id, result_of(check("a", "passed")))

    monkeypatch.setattr(events, "emit", lambda name, data: sent.append((name, data)))
    monkeypatch.setattr(events, "join_room", join_while_the_verdict_arrives)
    with app.test_request_context("/socket.io/"):
        login_user(db.session.get(Submission, submission_id).user)
        events.watch({"id": submission_id})
    ((name, data),) = sent
    assert name == "snapshot" and data["status"] == "done", data
