"""Known-wrong answers in bank files: parsed, checked against the spec, loaded once, kept
apart from the ones instructors add, and a change clears the question's validation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.bank.files import BankFormatError, parse_question
from app.bank.loader import BUILTIN_BANK, load_bank
from app.models import KnownWrongAnswer, Question, db

QUESTION = """---
slug: tiny
topic: sockets
kind: code
roles: [client]
title: {{zh: 小, en: tiny}}
{front}
---
::: prompt.zh
写。（评分项）
::: prompt.en
Write. (graded)
::: reference.client
```python
print("ok")
```
::: spec
```yaml
checks:
  - id: prints
    title: {{en: prints, zh: 打印}}
    role: client
    peer: {{kind: nothing_listening}}
    expect:
      - output_contains: ok
```
{sections}"""

WRONG = '::: wrong.silent.client\n```python\nprint("no")\n```\n'


def test_a_wrong_answer_is_parsed_with_its_check():
    text = QUESTION.format(
        front="wrong_answers:\n  - {name: silent, fails: prints}", sections=WRONG
    )
    (answer,) = parse_question(text, "tiny.md").wrong_answers
    assert (answer.name, answer.fails, answer.files) == (
        "silent",
        "prints",
        {"client": 'print("no")\n'},
    )


@pytest.mark.parametrize(
    ("front", "sections", "problem"),
    [
        ("", WRONG, "not in the front matter's wrong_answers"),
        ("wrong_answers:\n  - {name: silent, fails: nothing}", WRONG, "fails no check 'nothing'"),
        (
            "wrong_answers:\n  - {name: silent}",
            WRONG.replace(".client", ".server"),
            "not in 'roles'",
        ),
        ("wrong_answers:\n  - {name: silent}", "", "has no 'wrong.silent.ROLE' section"),
        ("wrong_answers:\n  - {name: Bad Name}", WRONG, "invalid or repeated"),
        ("wrong_answers: yes", WRONG, "must be a list"),
    ],
)
def test_a_bad_wrong_answer_is_refused_with_its_place(front, sections, problem):
    with pytest.raises(BankFormatError, match=problem):
        parse_question(QUESTION.format(front=front, sections=sections), "tiny.md")


def wrong_answers(slug: str) -> dict[str, KnownWrongAnswer]:
    question = db.session.scalar(sa.select(Question).where(Question.slug == slug))
    rows = db.session.scalars(
        sa.select(KnownWrongAnswer).where(KnownWrongAnswer.question_id == question.id)
    )
    return {row.name: row for row in rows}


def test_loading_again_adds_nothing_and_keeps_the_instructors_answers(app, tmp_path):
    with app.app_context():
        bank = wrong_answers("tcp-echo")
        assert set(bank) == {"read-until-eof", "no-write-buffer", "keeps-connections-open"}
        assert bank["read-until-eof"].failing_check == "server-echo-interactive"
        question = db.session.scalar(sa.select(Question).where(Question.slug == "tcp-echo"))
        mine = KnownWrongAnswer(question=question, name="mine", files={"server": "pass\n"})
        db.session.add(mine)
        question.validation = {"version": question.version, "publishable": True}
        db.session.commit()

        report = load_bank()
        assert "tcp-echo" in report.unchanged
        assert set(wrong_answers("tcp-echo")) == set(bank) | {"mine"}

        # A bank file whose wrong answer changed: updated in place, validation cleared.
        folder = tmp_path / "sockets"
        folder.mkdir()
        for path in BUILTIN_BANK.joinpath("sockets").iterdir():
            text = path.read_text()
            if path.name == "01-tcp-echo.md":
                text = text.replace('received = b""', "received = bytes()")  # only in it
            folder.joinpath(path.name).write_text(text)
        report = load_bank(tmp_path)
        assert "tcp-echo" in report.updated
        question = db.session.scalar(sa.select(Question).where(Question.slug == "tcp-echo"))
        assert question.version == 1  # how it is graded did not change
        assert "bytes()" in wrong_answers("tcp-echo")["read-until-eof"].files["server"]
        assert len(wrong_answers("tcp-echo")) == 4
        assert question.validation is None
