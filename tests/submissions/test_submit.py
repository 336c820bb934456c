"""Submitting code through the web app: stored first, graded by the embedded workers."""

from __future__ import annotations

import sqlalchemy as sa

from app.models import Question, Submission, db
from tests.helpers import bank_check_count, count_submissions, csrf_token, reference_files

reference = reference_files


def test_submission_is_stored_queued_before_any_worker_runs(app, learner):
    response = learner.submit("tcp-echo", reference(app, "tcp-echo"))
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "queued" and body["position"] == 1
    assert body["status_url"].endswith(f"/submissions/{body['id']}.json")
    with app.app_context():
        stored = db.session.get(Submission, body["id"])
        assert stored.status == "queued" and stored.files["server"]


def test_reference_solution_is_graded_passed(app, learner, workers, sandbox):
    response = learner.submit("tcp-echo", reference(app, "tcp-echo"))
    result = learner.wait(response.get_json()["id"])
    assert result["status"] == "done" and result["verdict"] == "passed"
    assert len(result["checks"]) == bank_check_count("tcp-echo") and result["score"] == 1.0


def test_html_form_submission_redirects_to_the_result_page(app, client, auth):
    auth.register()
    page = client.get("/questions/tcp-echo").get_data(as_text=True)
    response = client.post(
        "/questions/tcp-echo/submissions",
        data={"csrf_token": csrf_token(page), "files-client": "print('hello')\n"},
    )
    assert response.status_code == 303
    assert "/submissions/" in response.headers["Location"]
    assert client.get(response.headers["Location"]).status_code == 200


def test_bad_input_gets_a_clear_4xx_and_stores_nothing(app, learner):
    big = "x = 1\n" * (70 * 1024 // 6)
    cases = [
        ("tcp-echo", {"server": big}, 413, "limit is 64 KiB"),
        ("tcp-echo", {"proxy": "print(1)"}, 422, "Unknown role 'proxy'"),
        ("tcp-echo", {}, 400, "at least one file"),
        ("tcp-echo", {"client": "   "}, 400, "empty"),
        ("tcp-echo", {"client": "\udcff"}, 400, "not valid UTF-8"),
        ("no-such-question", {"client": "print(1)"}, 404, "Unknown question"),
        ("udp-vs-tcp", {"client": "print(1)"}, 400, "concept question"),
    ]
    for slug, files, status, message in cases:
        response = learner.submit(slug, files)
        assert response.status_code == status, (slug, files.keys(), response.get_json())
        assert message in response.get_json()["error"]
    malformed = learner.client.post(
        "/questions/tcp-echo/submissions",
        data="{not json",
        content_type="application/json",
        headers={"X-CSRFToken": learner.token},
    )
    assert malformed.status_code == 400
    assert count_submissions(app) == 0


def test_non_utf8_upload_is_refused(app, client, auth):
    auth.register()
    page = client.get("/questions/tcp-echo").get_data(as_text=True)
    import io

    response = client.post(
        "/questions/tcp-echo/submissions",
        data={
            "csrf_token": csrf_token(page),
            "files-client": (io.BytesIO(b"\xff\xfe bad"), "c.py"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "UTF-8" in response.get_data(as_text=True)
    assert count_submissions(app) == 0


def test_anonymous_and_unpublished_are_refused(app, client, learner):
    anonymous = app.test_client()
    token = csrf_token(anonymous.get("/auth/login").get_data(as_text=True))
    response = anonymous.post(
        "/questions/tcp-echo/submissions",
        json={"files": {"client": "x"}},
        headers={"Accept": "application/json", "X-CSRFToken": token},
    )
    assert response.status_code == 401
    assert "Sign in" in response.get_json()["error"]
    forged = app.test_client().post(  # no token at all: refused before anything else
        "/questions/tcp-echo/submissions", json={"files": {"client": "x"}}
    )
    assert forged.status_code == 400
    with app.app_context():
        question = db.session.scalar(sa.select(Question).where(Question.slug == "tcp-echo"))
        question.published = False
        db.session.commit()
    response = learner.submit("tcp-echo", {"client": "print(1)"})
    assert response.status_code == 404
    assert count_submissions(app) == 0


def test_rate_limits_answer_429_with_retry_after(app, learner):
    app.config.update(MAX_PENDING_SUBMISSIONS=2)
    for _ in range(2):
        assert learner.submit("tcp-echo", {"client": "print(1)"}).status_code == 202
    refused = learner.submit("tcp-echo", {"client": "print(1)"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "waiting to be graded" in refused.get_json()["error"]
    app.config.update(MAX_PENDING_SUBMISSIONS=100, SUBMISSIONS_PER_MINUTE=2)
    refused = learner.submit("tcp-echo", {"client": "print(1)"})
    assert refused.status_code == 429 and "a minute" in refused.get_json()["error"]
    assert count_submissions(app) == 2


def test_only_the_owner_can_see_a_submission(app, client, auth, learner):
    submission_id = learner.submit("tcp-echo", {"client": "print(1)"}).get_json()["id"]
    other = app.test_client()
    from tests.helpers import AuthActions

    AuthActions(other).register(email="other@example.com")
    assert other.get(f"/submissions/{submission_id}").status_code == 403
    assert other.get(f"/submissions/{submission_id}.json").status_code == 403


def test_regrades_do_not_count_against_the_learner(app, learner):
    from app.instructor.regrade import regrade

    app.config.update(MAX_PENDING_SUBMISSIONS=2)
    for _ in range(2):
        assert learner.submit("tcp-echo", {"client": "print(1)"}).status_code == 202
    with app.app_context():
        question = db.session.scalar(sa.select(Question).where(Question.slug == "tcp-echo"))
        assert len(regrade(question)) == 2
    refused = learner.submit("tcp-echo", {"client": "print(1)"})
    assert refused.status_code == 429  # still limited by the learner's own two
    with app.app_context():
        db.session.execute(
            sa.update(Submission).where(Submission.regrade_of.is_(None)).values(status="done")
        )
        db.session.commit()
    assert learner.submit("tcp-echo", {"client": "print(1)"}).status_code == 202


def test_drafts_stay_hidden_from_learners(app, client, learner):
    with app.app_context():
        question = db.session.scalar(sa.select(Question).where(Question.slug == "tcp-echo"))
        question.published = False
        db.session.commit()
    assert learner.client.get("/history?question=tcp-echo").status_code == 404
    with app.app_context():
        db.session.execute(sa.update(Question).values(published=False))
        db.session.commit()
    assert client.get("/topics/sockets").status_code == 404


def test_submission_pages_are_not_cached(app, learner):
    submission_id = learner.submit("tcp-echo", {"client": "print(1)"}).get_json()["id"]
    for url in (f"/submissions/{submission_id}", f"/submissions/{submission_id}.json", "/history"):
        assert learner.client.get(url).headers["Cache-Control"] == "private, no-store"
