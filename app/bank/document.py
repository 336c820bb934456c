"""One mapping between a question (a row, or a version's snapshot) and its bank document
(:class:`BankQuestion`), and one rule for when an edit makes a new version.

Every path that reads or writes a question goes through here: loading and importing bank
files, exporting them, version snapshots and diffs, and the studio's form. A field added
to the document (quiz items, hints) is added once, in the lists below.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from app.bank.files import BankQuestion, BankWrongAnswer

LANGS = ("zh", "en")
# Bilingual fields: ``NAME_zh`` / ``NAME_en`` columns, ``{zh, en}`` in the document.
BILINGUAL_TEXT = ("title", "prompt", "answer", "explanation")
BILINGUAL_LISTS = ("key_points", "hints")
# Fields stored as they are (lists and dicts copied, so rows and documents never share).
PLAIN = (
    "order",
    "kind",
    "difficulty",
    "tags",
    "roles",
    "starter_files",
    "reference_files",
    "spec",
    "quiz",
)
DEFAULTS: dict[str, Any] = {
    "order": 0,
    "kind": "concept",
    "difficulty": "medium",
    "tags": [],
    "roles": [],
    "starter_files": {},
    "reference_files": {},
    "spec": None,
    "quiz": [],
}
# What a submission or a quiz attempt is graded against. Changing one of these on a
# published question (learners may have answered it) makes a new version; on a draft the
# current version is edited in place. Either way the last validation no longer holds.
GRADED_FIELDS = ("roles", "reference_files", "spec", "quiz")


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def to_columns(item: BankQuestion) -> dict[str, Any]:
    """The document as the question's column values (and a version's snapshot)."""
    values = {name: _copy(getattr(item, name)) for name in PLAIN}
    for name in BILINGUAL_TEXT:
        for lang in LANGS:
            values[f"{name}_{lang}"] = getattr(item, name).get(lang) or ""
    for name in BILINGUAL_LISTS:
        for lang in LANGS:
            values[f"{name}_{lang}"] = list(getattr(item, name).get(lang) or [])
    return values


def from_columns(
    source: Mapping[str, Any] | object,
    slug: str,
    topic: str,
    wrong_answers: Iterable[BankWrongAnswer] = (),
) -> BankQuestion:
    """The document of a question row or of a snapshot dict (older snapshots lack the
    newer fields: they get the defaults)."""
    if isinstance(source, Mapping):
        get = lambda name: source.get(name)  # noqa: E731
    else:
        get = lambda name: getattr(source, name, None)  # noqa: E731
    plain = {}
    for name in PLAIN:
        value = get(name)
        plain[name] = _copy(DEFAULTS[name] if value is None else value)
    return BankQuestion(
        slug=slug,
        topic=topic,
        **plain,
        **{name: {lang: get(f"{name}_{lang}") or "" for lang in LANGS} for name in BILINGUAL_TEXT},
        **{
            name: {lang: list(get(f"{name}_{lang}") or []) for lang in LANGS}
            for name in BILINGUAL_LISTS
        },
        wrong_answers=list(wrong_answers),
    )


def from_question(question: Any, wrong_answers: Iterable[BankWrongAnswer] = ()) -> BankQuestion:
    return from_columns(question, question.slug, question.topic.slug, wrong_answers)


def snapshot(question: Any) -> dict[str, Any]:
    """What each version stores: the question's document as column values."""
    return to_columns(from_question(question))


def changed_fields(question: Any, values: Mapping[str, Any]) -> set[str]:
    return {name for name, value in values.items() if getattr(question, name) != value}


def needs_new_version(question: Any, changed: set[str]) -> bool:
    """The versioning rule (see GRADED_FIELDS)."""
    return bool(question.published and changed & set(GRADED_FIELDS))
