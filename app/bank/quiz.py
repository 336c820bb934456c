"""Quiz items: their format in a bank file, validation, the learner's view and grading.

An item is a mapping: ``id``, ``type`` (single, multiple, ordering, fill), ``prompt`` and
``explanation`` ({zh, en}), ``choices`` (``[{id, zh, en}]``, except fill) and ``answer``:
a choice id (single), a list of choice ids (multiple), every choice id in order
(ordering), or the accepted answers (fill, a list of strings). Pure: no Flask, no database.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any

TYPES = ("single", "multiple", "ordering", "fill")
ITEM_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
MAX_ITEMS = 20
MAX_TEXT = 2000
MAX_FILL_ANSWER = 200


class QuizFormatError(ValueError):
    """An item the bank cannot hold; the message names it."""


class QuizAnswerError(ValueError):
    """An answer of the wrong shape for its item (the API answers 422)."""


def _bilingual(item: dict[str, Any], key: str, where: str) -> dict[str, str]:
    value = item.get(key)
    if not isinstance(value, dict) or not all(isinstance(value.get(k), str) for k in ("zh", "en")):
        raise QuizFormatError(f"{where}: '{key}' needs 'zh' and 'en' text")
    texts = {lang: value[lang].strip() for lang in ("zh", "en")}
    if not all(texts.values()) or any(len(t) > MAX_TEXT for t in texts.values()):
        raise QuizFormatError(f"{where}: '{key}' needs non-empty 'zh' and 'en' text")
    return texts


def _choices(item: dict[str, Any], where: str) -> list[dict[str, str]]:
    raw = item.get("choices")
    if not isinstance(raw, list) or len(raw) < 2:
        raise QuizFormatError(f"{where}: needs at least two 'choices'")
    choices = []
    for number, choice in enumerate(raw, start=1):
        if not isinstance(choice, dict):
            raise QuizFormatError(f"{where}: choice {number} must be a mapping {{id, zh, en}}")
        choice_id = str(choice.get("id") or "")
        if not ITEM_ID.match(choice_id):
            raise QuizFormatError(f"{where}: choice {number} needs an id (a-z, 0-9, -)")
        texts = _bilingual({"text": choice}, "text", f"{where}, choice '{choice_id}'")
        choices.append({"id": choice_id, **texts})
    ids = [c["id"] for c in choices]
    if len(set(ids)) != len(ids):
        raise QuizFormatError(f"{where}: choice ids repeat")
    return choices


def _answer(kind: str, raw: Any, choice_ids: list[str], where: str) -> Any:
    missing = QuizFormatError(f"{where}: no correct answer")
    if kind == "single":
        if not isinstance(raw, str) or not raw:
            raise missing
        if raw not in choice_ids:
            raise QuizFormatError(f"{where}: the answer '{raw}' is not a choice")
        return raw
    if kind == "fill":
        accepted = [raw] if isinstance(raw, str) else raw
        if not isinstance(accepted, list) or not accepted:
            raise missing
        if not all(isinstance(a, str | int | float) and str(a).strip() for a in accepted):
            raise QuizFormatError(f"{where}: accepted answers must be non-empty text")
        return [str(a).strip() for a in accepted]
    if not isinstance(raw, list) or not raw or not all(isinstance(a, str) for a in raw):
        raise missing
    if unknown := [a for a in raw if a not in choice_ids]:
        raise QuizFormatError(f"{where}: the answer names no choice '{unknown[0]}'")
    if len(set(raw)) != len(raw):
        raise QuizFormatError(f"{where}: the answer repeats a choice")
    if kind == "ordering" and len(raw) != len(choice_ids):
        raise QuizFormatError(f"{where}: the order must list every choice once")
    return list(raw)


def parse_item(raw: Any, number: int) -> dict[str, Any]:
    where = f"quiz item {number}"
    if not isinstance(raw, dict):
        raise QuizFormatError(f"{where} must be a mapping")
    item_id = str(raw.get("id") or "")
    if not ITEM_ID.match(item_id):
        raise QuizFormatError(f"{where} needs an id (lowercase letters, digits, -)")
    where = f"quiz item '{item_id}'"
    kind = raw.get("type")
    if kind not in TYPES:
        raise QuizFormatError(f"{where}: 'type' must be one of {', '.join(TYPES)}")
    item: dict[str, Any] = {"id": item_id, "type": kind}
    item["prompt"] = _bilingual(raw, "prompt", where)
    choices = _choices(raw, where) if kind != "fill" else []
    if choices:
        item["choices"] = choices
    if raw.get("answer") is None:
        raise QuizFormatError(f"{where}: no correct answer")
    item["answer"] = _answer(kind, raw["answer"], [c["id"] for c in choices], where)
    item["explanation"] = _bilingual(raw, "explanation", where)
    return item


def parse_quiz(raw: Any) -> list[dict[str, Any]]:
    """Validate a list of items (from YAML or a form); raise QuizFormatError."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise QuizFormatError("the quiz must be a list of items")
    if len(raw) > MAX_ITEMS:
        raise QuizFormatError(f"at most {MAX_ITEMS} quiz items")
    items = [parse_item(entry, number) for number, entry in enumerate(raw, start=1)]
    ids = [item["id"] for item in items]
    if len(set(ids)) != len(ids):
        raise QuizFormatError("quiz item ids repeat")
    return items


def _shuffled(item: dict[str, Any]) -> list[dict[str, str]]:
    """An ordering item's choices in a fixed order that does not give the answer away."""
    choices = item["choices"]
    key = lambda c: hashlib.sha256(f"{item['id']}:{c['id']}".encode()).hexdigest()  # noqa: E731
    mixed = sorted(choices, key=key)
    if [c["id"] for c in mixed] == item["answer"]:
        mixed = mixed[1:] + mixed[:1]
    return mixed


def public_item(item: dict[str, Any], *, with_answer: bool = False) -> dict[str, Any]:
    """What a learner sees before answering (and, for instructors, the answer)."""
    view: dict[str, Any] = {"id": item["id"], "type": item["type"], "prompt": item["prompt"]}
    if item["type"] == "ordering":
        view["choices"] = _shuffled(item)
    else:
        view["choices"] = list(item.get("choices", []))
    if with_answer:
        view["answer"] = item["answer"]
        view["explanation"] = item["explanation"]
    return view


def normalize(text: str) -> str:
    """Fill-in answers compare without case, width or spacing differences."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.split()).strip(" .。")


def check_answer(item: dict[str, Any], answer: Any) -> bool:
    """Whether ``answer`` is right; QuizAnswerError when it has the wrong shape."""
    kind, expected = item["type"], item["answer"]
    if kind == "single":
        if not isinstance(answer, str):
            raise QuizAnswerError(f"item '{item['id']}' takes one choice id (a string)")
        return answer == expected
    if kind == "fill":
        if not isinstance(answer, str) or len(answer) > MAX_FILL_ANSWER:
            raise QuizAnswerError(
                f"item '{item['id']}' takes a string of at most {MAX_FILL_ANSWER} characters"
            )
        return normalize(answer) in {normalize(a) for a in expected}
    if not isinstance(answer, list) or not all(isinstance(a, str) for a in answer):
        raise QuizAnswerError(f"item '{item['id']}' takes a list of choice ids")
    if len(answer) > len(item["choices"]):
        raise QuizAnswerError(f"item '{item['id']}' has only {len(item['choices'])} choices")
    if kind == "multiple":
        return len(set(answer)) == len(answer) and set(answer) == set(expected)
    return answer == expected


def grade(items: list[dict[str, Any]], answers: Any) -> dict[str, Any]:
    """``{score, items: [{id, correct, explanation}]}``; unanswered items count as wrong.
    Raises QuizAnswerError for an unknown item or an answer of the wrong shape."""
    if not isinstance(answers, dict):
        raise QuizAnswerError("'answers' must be an object {item id: answer}")
    by_id = {item["id"]: item for item in items}
    if unknown := sorted(set(answers) - set(by_id)):
        raise QuizAnswerError(f"no quiz item '{unknown[0]}'")
    results = []
    for item in items:
        answered = item["id"] in answers and answers[item["id"]] not in (None, "", [])
        correct = answered and check_answer(item, answers[item["id"]])
        results.append({"id": item["id"], "correct": correct, "explanation": item["explanation"]})
    score = sum(r["correct"] for r in results) / len(results) if results else 0.0
    return {"score": round(score, 4), "items": results}
