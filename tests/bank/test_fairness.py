"""The fairness rule, tested: what a prompt asks, a required check tests; what it doesn't
ask, no required check demands. README's table per code question ties each stated
requirement to its checks; the bank's specs must agree with it, and each prompt says
apart what is graded and what is advice."""

from __future__ import annotations

import re

import pytest

from tests.helpers import ROOT

ROW = re.compile(r"^\| (?P<what>[^|]+) \| (?P<checks>[^|]+) \| (?P<kind>graded|advice) \|$")


def readme_tables() -> dict[str, list[tuple[str, list[str], str]]]:
    """slug -> [(requirement, check ids, graded|advice)] from README's tables."""
    tables: dict[str, list[tuple[str, list[str], str]]] = {}
    current = None
    for line in (ROOT / "README.md").read_text().splitlines():
        if match := re.match(r"^\| ([a-z0-9-]+): the prompt says \|", line):
            current = tables.setdefault(match.group(1), [])
        elif current is not None and (row := ROW.match(line)):
            ids = re.findall(r"`([a-z0-9-]+)`", row.group("checks"))
            current.append((row.group("what").strip(), ids, row.group("kind")))
        elif not line.startswith("|"):
            current = None
    return tables


def code_questions(bank) -> list[str]:
    return sorted(slug for slug, q in bank.items() if q.kind == "code")


def test_every_code_question_has_a_table(bank):
    assert sorted(readme_tables()) == code_questions(bank)


@pytest.mark.parametrize(
    "slug",
    ["tcp-echo", "tcp-handshake", "tcp-teardown", "udp-echo", "socket-timeout", "threaded-client"],
)
def test_the_table_and_the_spec_agree(bank, slug):
    rows = readme_tables()[slug]
    assert all(ids for _, ids, _ in rows), "every stated requirement names its checks"
    checks = {c["id"]: c.get("required", True) for c in bank[slug].spec["checks"]}
    graded = [i for _, ids, kind in rows if kind == "graded" for i in ids]
    advice = [i for _, ids, kind in rows if kind == "advice" for i in ids]
    assert sorted(graded) == sorted(i for i, required in checks.items() if required)
    assert sorted(advice) == sorted(i for i, required in checks.items() if not required)


@pytest.mark.parametrize(
    "slug",
    ["tcp-echo", "tcp-handshake", "tcp-teardown", "udp-echo", "socket-timeout", "threaded-client"],
)
def test_each_prompt_says_what_is_graded_and_what_is_advice(bank, slug):
    question = bank[slug]
    has_advice = any(not c.get("required", True) for c in question.spec["checks"])
    assert "graded" in question.prompt["en"].lower() and "评分项" in question.prompt["zh"]
    assert ("**Advice**" in question.prompt["en"]) == has_advice
    assert ("**建议**" in question.prompt["zh"]) == has_advice
