"""Submitting through the API: same validation and limits as the web, stored before queued."""

from __future__ import annotations

import pytest

from app.models import Submission, db
from tests.api.helpers import count_submissions, reference
from tests.helpers import bank_check_count


def test_submission_is_accepted_stored_queued_and_located(app, api):
    response = api.submit("tcp-echo", {"client": "print('hi')\n"})
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "queued" and body["position"] == 1 and body["result"] is None
    assert body["status_url"] == f"/api/v1/submissions/{body['id']}"
    assert response.headers["Location"].endswith(body["status_url"])
    assert body["html_url"] == f"/submissions/{body['id']}"
    with app.app_context():
        stored = db.session.get(Submission, body["id"])
        assert stored.status == "queued" and stored.files == {"client": "print('hi')\n"}
        assert stored.user.email == "learner@example.com"
    status = api.get(f"/submissions/{body['id']}")
    assert status.status_code == 200 and status.get_json()["status"] == "queued"
    assert "files" not in status.get_json()
    with_files = api.get(f"/submissions/{body['id']}?files=1").get_json()
    assert with_files["files"] == {"client": "print('hi')\n"}


def test_reference_solution_is_graded_passed(app, api, workers, sandbox):
    response = api.submit("tcp-echo", reference(app, "tcp-echo"))
    assert response.status_code == 202
    result = api.wait(response.get_json()["id"])
    assert result["status"] == "done" and result["verdict"] == "passed"
    assert result["score"] == 1.0 and len(result["checks"]) == bank_check_count("tcp-echo")
    full = result["result"]
    assert full["verdict"] == "passed" and full["engine_version"]
    assert full["skipped_roles"] == [] and full["message"]["en"] and full["message"]["zh"]
    assert [c["id"] for c in full["checks"]] == [c["id"] for c in result["checks"]]
    assert all(c["status"] == "passed" for c in result["checks"])


def test_skipped_roles_are_named_in_the_result(app, api, workers, sandbox):
    server_only = {"server": reference(app, "tcp-echo")["server"]}
    result = api.wait(api.submit("tcp-echo", server_only).get_json()["id"])
    assert result["status"] == "done" and result["result"]["skipped_roles"] == ["client"]


def test_only_the_owner_or_an_instructor_can_see_a_submission(app, api, other_api, instructor_api):
    submission_id = api.submit("tcp-echo", {"client": "print(1)"}).get_json()["id"]
    response = other_api.get(f"/submissions/{submission_id}")
    assert response.status_code == 403 and response.get_json()["error"]
    assert "print(1)" not in response.get_data(as_text=True)
    seen = instructor_api.get(f"/submissions/{submission_id}?files=1")
    assert seen.status_code == 200 and seen.get_json()["files"] == {"client": "print(1)"}
    missing = api.get("/submissions/999999")
    assert missing.status_code == 404 and missing.get_json() == {"error": "No submission 999999."}


BIG = "x = 1\n" * (70 * 1024 // 6)


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (
            {"question": "no-such-question", "files": {"client": "print(1)"}},
            404,
            "Unknown question",
        ),
        ({"question": "tcp-echo", "files": {"proxy": "print(1)"}}, 422, "Unknown role 'proxy'"),
        ({"question": "tcp-echo", "files": {"server": BIG}}, 413, "limit is 64 KiB"),
        ({"question": "tcp-echo", "files": {}}, 400, "at least one file"),
        ({"question": "tcp-echo", "files": ["print(1)"]}, 400, "at least one file"),
        ({"question": "tcp-echo", "files": {"client": "  "}}, 400, "empty"),
        ({"question": "tcp-echo", "files": {"client": 42}}, 400, "must be text"),
        ({"question": "tcp-echo", "files": {"client": "\udcff"}}, 400, "not valid UTF-8"),
        ({"question": "udp-vs-tcp", "files": {"client": "print(1)"}}, 400, "concept question"),
        ({"files": {"client": "print(1)"}}, 400, 'Missing "question"'),
        ({"question": "", "files": {"client": "print(1)"}}, 400, '"question" must be the slug'),
        ({"question": ["tcp-echo"], "files": {"client": "print(1)"}}, 400, '"question" must be'),
        ({"question": "tcp-echo"}, 400, 'Missing "files"'),
        (
            {"question": "tcp-echo", "files": {"client": "x"}, "file": {}},
            400,
            "Unknown field(s): file",
        ),
        (["tcp-echo"], 400, "must be a JSON object"),
        ("tcp-echo", 400, "must be a JSON object"),
        (42, 400, "must be a JSON object"),
    ],
)
def test_bad_input_gets_a_clear_json_error_and_stores_nothing(app, api, body, status, message):
    response = api.post("/submissions", json=body)
    assert response.status_code == status, response.get_json()
    assert response.is_json and message in response.get_json()["error"]
    assert count_submissions(app) == 0


def test_malformed_json_wrong_content_type_and_huge_bodies(app, api):
    cases = [
        ({"data": "{not json", "content_type": "application/json"}, 400, "not valid JSON"),
        ({"data": b"\xff\xfe{}", "content_type": "application/json"}, 400, "not valid"),
        ({"data": "[" * 100_000, "content_type": "application/json"}, 400, "not valid JSON"),
        ({"data": "", "content_type": "application/json"}, 400, "not valid JSON"),
        ({"data": "null", "content_type": "application/json"}, 400, "must be a JSON object"),
        (
            {"data": '{"question": "tcp-echo"}', "content_type": "text/plain"},
            415,
            "Content-Type: application/json",
        ),
        ({"data": {"question": "tcp-echo", "files-client": "print(1)"}}, 415, "application/json"),
        ({"data": "{}"}, 415, "no content type"),
        (
            {
                "data": '{"question": "tcp-echo", "files": {"client": "' + "x" * (2 << 20) + '"}}',
                "content_type": "application/json",
            },
            413,
            "larger than 1024 KiB",
        ),
    ]
    for kwargs, status, message in cases:
        response = api.post("/submissions", **kwargs)
        assert response.status_code == status, (kwargs.get("content_type"), response.data[:200])
        assert message in response.get_json()["error"]
    assert count_submissions(app) == 0


def test_rate_limits_answer_429_with_retry_after(app, api):
    app.config.update(MAX_PENDING_SUBMISSIONS=2)
    for _ in range(2):
        assert api.submit("tcp-echo", {"client": "print(1)"}).status_code == 202
    refused = api.submit("tcp-echo", {"client": "print(1)"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "waiting to be graded" in refused.get_json()["error"]
    app.config.update(MAX_PENDING_SUBMISSIONS=100, SUBMISSIONS_PER_MINUTE=2)
    refused = api.submit("tcp-echo", {"client": "print(1)"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "a minute" in refused.get_json()["error"]
    assert count_submissions(app) == 2


def test_list_returns_the_callers_recent_submissions(app, api, other_api):
    app.config.update(MAX_PENDING_SUBMISSIONS=100, SUBMISSIONS_PER_MINUTE=100)
    mine = [api.submit("tcp-echo", {"client": f"print({n})"}).get_json()["id"] for n in range(3)]
    mine.append(api.submit("socket-timeout", {"client": "print(1)"}).get_json()["id"])
    other_api.submit("tcp-echo", {"client": "print(1)"})
    listed = api.get("/submissions").get_json()
    assert [s["id"] for s in listed["submissions"]] == mine[::-1] and listed["limit"] == 20
    first = listed["submissions"][0]
    assert first["question"] == "socket-timeout" and first["status"] == "queued"
    assert first["status_url"] == f"/api/v1/submissions/{first['id']}"
    echo = api.get("/submissions?question=tcp-echo&limit=2").get_json()["submissions"]
    assert [s["id"] for s in echo] == mine[2:0:-1]
    assert api.get("/submissions?question=nope").status_code == 404
    for limit in ("0", "-1", "abc", "101"):
        response = api.get(f"/submissions?limit={limit}")
        assert response.status_code == 400 and "'limit'" in response.get_json()["error"]


def test_json_errors_for_unknown_paths_and_methods(api):
    response = api.client.delete("/api/v1/submissions", headers=api._headers(None))
    assert response.status_code == 405 and response.is_json
    assert "POST" in response.headers["Allow"] and "POST" in response.get_json()["error"]
    response = api.client.put("/api/v1/submissions/1")
    assert response.status_code == 405 and response.is_json
    response = api.get("/no-such-endpoint")
    assert response.status_code == 404 and response.is_json and response.get_json()["error"]
    response = api.get("/submissions/abc")
    assert response.status_code == 404 and response.is_json
