"""Quiz items: validation refuses an item without a correct answer; every type is graded."""

from __future__ import annotations

import pytest

from app.bank.files import BankFormatError, parse_question
from app.bank.quiz import QuizAnswerError, QuizFormatError, grade, parse_quiz, public_item

BI = {"zh": "题", "en": "Q"}
CHOICES = [{"id": c, "zh": c.upper(), "en": c.upper()} for c in ("a", "b", "c")]
ITEMS = parse_quiz(
    [
        {"id": "one", "type": "single", "prompt": BI, "choices": CHOICES, "answer": "b",
         "explanation": BI},
        {"id": "many", "type": "multiple", "prompt": BI, "choices": CHOICES,
         "answer": ["a", "c"], "explanation": BI},
        {"id": "order", "type": "ordering", "prompt": BI, "choices": CHOICES,
         "answer": ["c", "a", "b"], "explanation": BI},
        {"id": "fill", "type": "fill", "prompt": BI, "answer": ["p99", "99th percentile"],
         "explanation": BI},
    ]
)  # fmt: skip


@pytest.mark.parametrize(
    ("item", "right", "wrong"),
    [
        ("one", "b", "a"),
        ("many", ["c", "a"], ["a"]),
        ("order", ["c", "a", "b"], ["a", "b", "c"]),
        ("fill", "  P99 ", "p50"),
    ],
)
def test_every_type_is_graded(item, right, wrong):
    assert grade(ITEMS, {item: right})["items"][[i["id"] for i in ITEMS].index(item)]["correct"]
    result = grade(ITEMS, {item: wrong})
    assert not any(r["correct"] for r in result["items"]) and result["score"] == 0


def test_score_counts_unanswered_items_as_wrong():
    result = grade(ITEMS, {"one": "b", "fill": "99th  percentile"})
    assert result["score"] == 0.5
    assert [r["correct"] for r in result["items"]] == [True, False, False, True]
    assert result["items"][0]["explanation"] == BI


@pytest.mark.parametrize(
    "answers",
    [{"one": ["b"]}, {"many": "a"}, {"order": "cab"}, {"fill": ["p99"]}, {"nope": "a"}, []],
)
def test_answers_of_the_wrong_shape_are_refused(answers):
    with pytest.raises(QuizAnswerError):
        grade(ITEMS, answers)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"answer": None}, "no correct answer"),
        ({"answer": []}, "no correct answer"),
        ({"answer": "z"}, "not a choice"),
        ({"type": "essay"}, "'type' must be"),
        ({"explanation": {"en": "only English"}}, "'explanation'"),
        ({"choices": CHOICES[:1]}, "two 'choices'"),
    ],
)
def test_validation_refuses_bad_items(change, message):
    item = {"id": "x", "type": "single", "prompt": BI, "choices": CHOICES, "answer": "a",
            "explanation": BI, **change}  # fmt: skip
    with pytest.raises(QuizFormatError, match=message):
        parse_quiz([item])


def test_a_bank_file_with_an_item_without_answer_is_refused():
    text = (
        "---\nslug: q\ntopic: t\ntitle: {zh: 题, en: Q}\n---\n::: prompt.zh\n问\n"
        "::: prompt.en\nAsk\n::: quiz\n```yaml\n- id: x\n  type: fill\n"
        "  prompt: {zh: 问, en: Ask}\n  explanation: {zh: 解, en: Why}\n```\n"
    )
    with pytest.raises(BankFormatError, match="no correct answer"):
        parse_question(text, "q.md")


def test_learners_see_no_answer_and_ordering_choices_are_not_in_order():
    view = public_item(ITEMS[2])
    assert "answer" not in view and "explanation" not in view
    assert [c["id"] for c in view["choices"]] != ["c", "a", "b"]
    assert public_item(ITEMS[2], with_answer=True)["answer"] == ["c", "a", "b"]
