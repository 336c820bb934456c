"""What schemathesis found, pinned down: odd ids, query values and parameters get a clear
400 or 404 (never a 500, never silently ignored), and the document says what is valid."""

from __future__ import annotations

import pytest

from app.bank.files import ROLE, SLUG


@pytest.mark.parametrize("huge", ["2147483648", "99999999999999999999999999"])
def test_a_huge_submission_id_is_404(api, huge):
    response = api.get(f"/submissions/{huge}")
    assert response.status_code == 404
    assert response.get_json() == {"error": f"No submission {huge}."}


@pytest.mark.parametrize(
    "query",
    [
        "kind=null",
        "kind=code&kind=concept",
        "difficulty=impossible",
        "difficulty=",  # present, so it must be one of the values
        "kind=%20code",  # as sent: no trimming
    ],
)
def test_list_filters_are_checked(api, query):
    response = api.get(f"/questions?{query}")
    assert response.status_code == 400
    assert (
        "'kind'" in response.get_json()["error"] or "'difficulty'" in response.get_json()["error"]
    )


def test_a_valid_filter_still_filters(api):
    kinds = {q["kind"] for q in api.get("/questions?kind=code").get_json()["questions"]}
    assert kinds == {"code"}
    everything = api.get("/questions?tag=").get_json()["questions"]  # any string, even ""
    assert {q["kind"] for q in everything} == {"code", "concept"}


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/questions?colour=red", "Unknown query parameter(s): colour. Known: kind, difficulty"),
        ("/questions/tcp-echo?x=1", "Unknown query parameter(s): x. This endpoint takes none."),
        ("/submissions?limit=%C2%B2", "'limit' must be a whole number from 1 to 100."),
        ("/submissions?limit=5&limit=6", "Give 'limit' at most once."),
        ("/submissions?question=", "'question' must be a question's slug"),
        ("/submissions?question=Not%20a%20slug", "'question' must be a question's slug"),
        ("/submissions/1?files=maybe", "'files' must be true or false (or 1 or 0)."),
        ("/submissions/1?files=", "'files' must be true or false (or 1 or 0)."),
        ("/submissions?limit=", "'limit' must be a whole number from 1 to 100."),
        ("/submissions?question=tcp-echo%0A", "'question' must be a question's slug"),
    ],
)
def test_bad_query_parameters_are_400(api, path, message):
    response = api.get(path)
    assert response.status_code == 400
    assert message in response.get_json()["error"]


def test_files_flag_values(api, app):
    from tests.api.helpers import reference

    submitted = api.submit("tcp-echo", {"client": reference(app, "tcp-echo")["client"]})
    status_url = submitted.get_json()["status_url"].removeprefix("/api/v1")
    for value, shown in (("1", True), ("TRUE", True), ("0", False), ("false", False)):
        data = api.get(f"{status_url}?files={value}").get_json()
        assert ("files" in data) is shown, value


def test_the_document_states_the_constraints(api):
    document = api.get("/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    request = schemas["SubmissionRequest"]["properties"]
    assert request["question"]["pattern"] == SLUG.pattern
    assert request["files"]["propertyNames"] == {"enum": ["client", "server"]}
    assert request["files"]["additionalProperties"]["pattern"] == "\\S"
    paths = document["paths"]
    slug = paths["/questions/{slug}"]["get"]["parameters"][0]
    assert slug["schema"]["pattern"] == SLUG.pattern
    ident = paths["/submissions/{submission_id}"]["get"]["parameters"][0]["schema"]
    assert ident == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
    assert "422" in paths["/submissions"]["post"]["responses"]
    assert "400" in paths["/questions"]["get"]["responses"]
    assert ROLE.pattern  # role names of instructors' questions follow ROLE


def test_role_names_follow_the_published_questions(app, api):
    import sqlalchemy as sa

    from app.models import Question, db

    with app.app_context():
        question = db.session.scalar(sa.select(Question).where(Question.slug == "tcp-echo"))
        question.roles = ["server", "client", "relay"]
        db.session.commit()
    document = api.get("/openapi.json").get_json()
    files = document["components"]["schemas"]["SubmissionRequest"]["properties"]["files"]
    assert files["propertyNames"] == {"enum": ["client", "relay", "server"]}
