"""The spec reference panel lists what the grader accepts, and its examples are valid."""

from __future__ import annotations

from app.grading.checks import EXPECTATIONS
from app.grading.spec import PEER_PARAMS, parse_spec_yaml
from app.instructor import reference
from tests.instructor.conftest import text_of


def test_every_example_check_is_a_valid_spec():
    for kind, snippet in reference.snippets().items():
        spec, errors = parse_spec_yaml("port: 65432\nchecks:\n" + snippet, ["server", "client"])
        assert not errors, (kind, [str(e) for e in errors])
        assert spec["checks"][0]["peer"]["kind"] == kind
    spec, errors = parse_spec_yaml(reference.WORKED_EXAMPLE, ["client"])
    assert not errors and spec["checks"][0]["peer"]["kind"] == "udp_ack_server"


def test_describe_schemas():
    assert reference.describe({"const": True}) == "true"
    assert reference.describe({"type": "integer", "minimum": 0}) == "integer ≥ 0"
    assert reference.describe({"type": "array", "items": {"type": "string"}}) == "[string]"
    assert reference.describe({"enum": ["program", "peer"]}) == "program | peer"


def test_the_panel_lists_the_catalog_and_the_expectations(instructor):
    text = text_of(instructor.get("/instructor/questions/new"))
    assert "Spec reference" in text
    for kind, params in PEER_PARAMS.items():
        assert kind in text
        for name in params:
            assert name in text
    for name in EXPECTATIONS:
        assert name in text
    assert "datagrams : [string]" in text and "senders : integer 1–8" in text
