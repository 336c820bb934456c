"""The hand-written OpenAPI document: well-formed, complete, and true to the responses.

openapi-spec-validator is not installed, so: required top-level keys, every route of the
blueprint described with its methods, every schema a valid JSON Schema (2020-12, as OpenAPI
3.1 uses), and real responses validated against the documented schemas.
"""

from __future__ import annotations

import json
import re

import pytest
from jsonschema import Draft202012Validator

from tests.api.helpers import reference

PREFIX = "/api/v1"
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def document(client) -> dict:
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return json.loads(response.get_data(as_text=True))


def validate(document: dict, name: str, instance) -> None:
    """Validate ``instance`` against ``#/components/schemas/<name>`` (refs resolve inside)."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    Draft202012Validator(schema).validate(instance)


def api_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule).removeprefix(PREFIX)
            routes.update((path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"})
    return routes


def test_document_is_well_formed_openapi_31(document):
    assert document["openapi"].startswith("3.1.")
    assert {"openapi", "info", "paths", "components"} <= set(document)
    assert document["info"]["title"] and document["info"]["version"]
    assert document["servers"] == [{"url": PREFIX}]
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        **document["components"]["securitySchemes"]["bearerAuth"],
        "type": "http",
        "scheme": "bearer",
    }
    assert document["security"] == [{"bearerAuth": []}]
    assert document["paths"]["/openapi.json"]["get"]["security"] == []
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    operation_ids = [
        op["operationId"]
        for item in document["paths"].values()
        for method, op in item.items()
        if method in HTTP_METHODS
    ]
    assert len(operation_ids) == len(set(operation_ids))


def test_every_route_of_the_blueprint_is_documented(app, document):
    routes = api_routes(app)
    assert ("/submissions", "post") in routes and ("/submissions/{submission_id}", "get") in routes
    documented = {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    assert routes == documented


def test_every_reference_resolves(document):
    text = json.dumps(document)
    for target in set(re.findall(r'"\$ref": "#/([^"]+)"', text)):
        node = document
        for part in target.split("/"):
            node = node[part]
        assert node, target
    for item in document["paths"].values():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                assert operation["responses"] and operation["summary"]
                for parameter in operation.get("parameters", []):
                    if parameter["in"] == "path":
                        assert parameter["required"] is True


def test_real_responses_match_the_documented_schemas(app, api, instructor_api, document):
    validate(document, "QuestionList", api.get("/questions").get_json())
    validate(document, "Question", api.get("/questions/tcp-echo").get_json())
    validate(document, "Question", instructor_api.get("/questions/tcp-echo").get_json())
    validate(document, "Question", api.get("/questions/udp-vs-tcp").get_json())
    body = {"question": "tcp-echo", "files": {"client": "print(1)"}}
    validate(document, "SubmissionRequest", body)
    accepted = api.post("/submissions", json=body)
    validate(document, "SubmissionStatus", accepted.get_json())
    status_url = accepted.get_json()["status_url"].removeprefix(PREFIX)
    validate(document, "SubmissionStatus", api.get(status_url + "?files=1").get_json())
    validate(document, "SubmissionList", api.get("/submissions").get_json())
    for error in (api.get("/questions/nope"), api.client.get(f"{PREFIX}/questions")):
        validate(document, "Error", error.get_json())


def test_a_finished_result_matches_the_documented_schema(app, api, workers, sandbox, document):
    response = api.submit("tcp-echo", reference(app, "tcp-echo"))
    finished = api.wait(response.get_json()["id"])
    validate(document, "SubmissionStatus", finished)
    validate(document, "Result", finished["result"])


# Upper-cases what it echoes; a syntax error as a client.
UPPERCASE_SERVER = """
import socket
with socket.create_server(("127.0.0.1", 65432)) as server:
    while True:
        conn, _ = server.accept()
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data.upper())
"""


def test_a_failed_result_with_transcript_and_diagnosis_matches_the_document(
    app, api, workers, sandbox, document
):
    files = {"server": UPPERCASE_SERVER, "client": "print('hi'\n"}
    finished = api.wait(api.submit("tcp-echo", files).get_json()["id"])
    validate(document, "Result", finished["result"])
    checks = {check["id"]: check for check in finished["result"]["checks"]}
    short = checks["server-echo-short"]
    assert [(e["from"], e["text"], e["offset"], e["size"]) for e in short["transcript"]] == [
        ("peer", "Hello, echo!", 0, 12),
        ("program", "HELLO, ECHO!", 0, 12),
    ]
    assert short["transcript"][0]["hex"].startswith("48 65 6c")
    assert short["diagnosis"] == {"conditions": ["data_changed"], "crash": None}
    assert [hint["when"] for hint in short["hints"]] == ["data_changed"]
    echo = short["expectations"][0]
    assert echo["diff"]["offset"] == 1 and echo["diff"]["kind"] == "changed"
    client = checks["client-echo"]
    assert client["message"]["en"] == (
        "Your client crashed: SyntaxError on line 1: '(' was never closed"
    )
    assert client["diagnosis"]["crash"]["type"] == "SyntaxError"
    # the large echo is capped at 4 KiB per direction, with the totals
    large = checks["server-echo-large"]["transcript"]
    last_sent = [e for e in large if e["from"] == "peer"][-1]
    assert last_sent["more_after"] and last_sent["total"] == 102400
    kept = sum(len(bytes.fromhex(e["hex"])) for e in large if e["from"] == "peer")
    assert kept == 4096 and last_sent["truncated"]


def test_unknown_api_path_is_a_json_404_pointing_at_the_document(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert "openapi.json" in response.get_json()["error"]
