"""The spec reference panel lists what the grader accepts, and its examples are valid."""

from __future__ import annotations

from app.grading.checks import EXPECTATIONS
from app.grading.diagnosis import CONDITIONS
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
    pattern = EXPECTATIONS["output_matches"].schema
    assert reference.describe(pattern) == "string | {pattern, describe}"


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
    # the conditions a targeted hint may name, each explained
    assert "Hint conditions" in text
    for name in CONDITIONS:
        assert name in text
    assert "UDP: the first sender got replies, another sender did not" in text
    assert "output_matches : string | {pattern, describe}" in text


def test_the_panel_explains_hint_conditions_in_chinese(instructor):
    text = text_of(instructor.get("/instructor/questions/new", headers={"Accept-Language": "zh"}))
    assert "提示条件" in text and "UDP：第一个发送方收到了回复，另一个发送方没有" in text
