"""What a watching page receives (issue 14): the live state (where the grading is, the
verdict, the grader's message in both languages), a few hundred bytes whatever the result's
size, by socket or by polling; the checks come over HTTP. Events carry no results."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta

from flask import Flask
from flask_login import login_user

from app.jobs import events as grading_events
from app.models import Submission, User, db
from app.submissions import events
from tests.helpers import AuthActions
from tests.submissions.test_feedback_web import check, result_of
from tests.submissions.test_pages import page, store_result

LIVE_KEYS = {"id", "status", "position", "verdict", "score", "error", "total", "done"}


def big_result(count: int = 10) -> dict:
    """A failed grading of about 100 KB: each check with 10 KB of output."""
    checks = [
        check(f"c{n}", "failed", stdout=f"output of c{n} " + "x" * 10_000) for n in range(count)
    ]
    return result_of(*checks)


def watch(app: Flask, monkeypatch, submission_id: int, user: User | None = None) -> list:
    """The socket handler as Socket.IO calls it, its answers recorded (as in
    test_feedback_web: the suite's scaled tests leave the shared SocketIO on a queue)."""
    sent: list = []
    monkeypatch.setattr(events, "emit", lambda name, data: sent.append((name, data)))
    monkeypatch.setattr(events, "join_room", lambda room: None)
    with app.test_request_context("/socket.io/"):
        login_user(user or db.session.get(Submission, submission_id).user)
        events.watch({"id": submission_id})
    return sent


def test_a_100_kb_result_gives_a_first_snapshot_of_a_few_hundred_bytes(
    app, client, learner, monkeypatch
):
    submission_id = learner.submit("tcp-echo", {"client": "print(1)\n"}).get_json()["id"]
    result = big_result()
    assert len(json.dumps(result)) > 100_000
    store_result(app, submission_id, result)

    ((name, data),) = watch(app, monkeypatch, submission_id)
    assert name == "snapshot"
    assert len(json.dumps(data)) < 1024, data
    assert set(data) == LIVE_KEYS | {"message", "running", "graded_in"}
    assert (data["status"], data["verdict"], data["done"], data["total"]) == (
        "done",
        "failed",
        10,
        10,
    )
    assert data["message"]["en"] == "Some checks failed." and data["message"]["zh"]

    # without a socket the page polls the same state
    assert client.get(f"/submissions/{submission_id}/live.json").get_json() == data
    # the checks, once, over HTTP: the fragment the page swaps in, and the JSON
    fragment = page(client, f"/submissions/{submission_id}/checks")
    assert all(f"output of c{n} " in fragment for n in range(10))
    full = client.get(f"/submissions/{submission_id}.json").get_json()
    assert len(full["checks"]) == 10 and full["done"] == 10
    assert full["checks"][3]["stdout"].startswith("output of c3 xxx")


def test_the_live_state_of_a_running_grading(app, client, learner):
    submission_id = learner.submit("tcp-echo", {"client": "print(1)\n"}).get_json()["id"]
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        submission.status = "running"
        running = {"id": "c1", "index": 1, "title": {"en": "Second", "zh": "第二"}}
        submission.result = {
            "partial": True,
            "total": 3,
            "checks": [check("c0", "passed", stdout="y" * 50_000)],
            "running": running,
        }
        db.session.commit()
    response = client.get(f"/submissions/{submission_id}/live.json")
    data = response.get_json()
    assert len(response.data) < 1024
    assert (data["status"], data["done"], data["total"], data["verdict"]) == ("running", 1, 3, None)
    assert data["running"]["id"] == "c1" and data["running"]["title"]["zh"] == "第二"
    assert response.headers["Cache-Control"] == "private, no-store"


def test_a_graded_submission_says_how_long_its_grading_took_in_both_languages(
    app, client, learner, monkeypatch
):
    """The line "Graded in 2.1 s." of the result page, for the live page to show when the
    verdict arrives: the duration in the page's words, in each language."""
    submission_id = learner.submit("tcp-echo", {"client": "print(1)\n"}).get_json()["id"]
    assert client.get(f"/submissions/{submission_id}/live.json").get_json()["graded_in"] is None
    store_result(app, submission_id, big_result(2))
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        submission.started_at = datetime(2026, 12, 1, 10, 0, 0)
        submission.finished_at = submission.started_at + timedelta(milliseconds=2140)
        db.session.commit()
    data = client.get(f"/submissions/{submission_id}/live.json").get_json()
    assert data["graded_in"] == {"en": "2.1 s", "zh": "2.1 秒"}
    ((_, snapshot),) = watch(app, monkeypatch, submission_id)
    assert snapshot["graded_in"] == data["graded_in"]  # the socket's answer too
    html = page(client, f"/submissions/{submission_id}")
    assert '<p class="summary-meta muted" id="summary-took">Graded in 2.1 s.</p>' in html
    zh = page(client, f"/submissions/{submission_id}", headers={"Accept-Language": "zh"})
    assert '<p class="summary-meta muted" id="summary-took">评分用时 2.1 秒。</p>' in zh
    state = json.loads(html.split('id="submission-state">')[1].split("</script>")[0])
    assert state["graded_in"] == {"en": "2.1 s", "zh": "2.1 秒"}  # what the script starts from
    strings = json.loads(html.split('id="submission-strings">')[1].split("</script>")[0])
    assert strings["graded_in"] == "Graded in {time}."

    with app.app_context():  # graded again (a retry): nothing to say until it is over
        submission = db.session.get(Submission, submission_id)
        submission.status = "running"
        db.session.commit()
    assert client.get(f"/submissions/{submission_id}/live.json").get_json()["graded_in"] is None
    html = page(client, f"/submissions/{submission_id}")
    assert '<p class="summary-meta muted" id="summary-took" hidden></p>' in html


def test_only_the_owner_or_staff_get_the_live_state(app, client, learner, auth, monkeypatch):
    submission_id = learner.submit("tcp-echo", {"client": "print(1)\n"}).get_json()["id"]
    auth.logout()
    anonymous = client.get(f"/submissions/{submission_id}/live.json")
    assert anonymous.status_code in (302, 401)
    auth.register(email="other@example.com")
    assert client.get(f"/submissions/{submission_id}/live.json").status_code == 403
    with app.app_context():
        other = db.session.scalar(db.select(User).where(User.email == "other@example.com"))
        sent = watch(app, monkeypatch, submission_id, user=other)
    assert sent == [("watch_error", {"id": submission_id, "error": "not allowed"})]


def test_a_finished_check_goes_out_without_its_result(app):
    sent: list = []
    with app.app_context():
        app.extensions["grading_events"], kept = sent.append, app.extensions["grading_events"]
        try:
            detail = check("c0", "passed", stdout="z" * 10_000)
            grading_events.publish(7, "check_finished", index=0, total=3, check=detail)
        finally:
            app.extensions["grading_events"] = kept
    assert sent == [
        {"id": 7, "event": "check_finished", "index": 0, "total": 3, "check_status": "passed"}
    ]


def test_a_graded_list_of_checks_is_rendered_once_per_language(app, client, learner):
    """The pages watching a submission all fetch its checks the moment the verdict is out."""
    submission_id = learner.submit("tcp-echo", {"client": "print(1)\n"}).get_json()["id"]
    cache = app.extensions["rendered_results"]
    url = f"/submissions/{submission_id}/checks"
    pending = page(client, url)
    assert 'data-status="queued"' in pending and cache.misses == 0  # not kept while pending

    store_result(app, submission_id, big_result(3))
    first = page(client, url)
    assert page(client, url) == first and "output of c2 " in first
    assert (cache.misses, cache.hits) == (1, 1)
    chinese = page(client, url, headers={"Accept-Language": "zh"})
    assert "c0 的标题" in chinese and "Title of c0" in first
    assert (cache.misses, cache.hits) == (2, 1)
    assert first in page(client, f"/submissions/{submission_id}")  # the page includes it
    assert (cache.misses, cache.hits) == (2, 2)


def test_a_graded_list_of_checks_goes_gzipped_to_a_client_that_takes_it(app, client, learner):
    submission_id = learner.submit("tcp-echo", {"client": "print(1)\n"}).get_json()["id"]
    url = f"/submissions/{submission_id}/checks"
    gzip_please = {"Accept-Encoding": "gzip, deflate, br"}
    pending = client.get(url, headers=gzip_please)
    assert "Content-Encoding" not in pending.headers  # small, and rendered per request

    store_result(app, submission_id, big_result(3))
    plain = client.get(url)
    assert "Content-Encoding" not in plain.headers
    packed = client.get(url, headers=gzip_please)
    assert packed.status_code == 200 and packed.headers["Content-Encoding"] == "gzip"
    assert packed.headers["Content-Type"] == "text/html; charset=utf-8"
    assert all("Accept-Encoding" in r.headers["Vary"] for r in (packed, plain))
    assert packed.headers["Cache-Control"] == "private, no-store"
    assert gzip.decompress(packed.data) == plain.data and len(packed.data) < len(plain.data) / 10
    refused = client.get(url, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers and refused.data == plain.data
    other = app.test_client()
    AuthActions(other).register(email="other@example.com")
    assert other.get(url, headers=gzip_please).status_code == 403
