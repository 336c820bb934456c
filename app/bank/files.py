"""Read and write the bank's own file format.

A bank file is YAML front matter between ``---`` lines, then sections, each opened by a
line ``::: NAME`` (``prompt.zh``, ``key_points.en``, ``starter.server``, ``spec``,
``wrong.NAME.ROLE``, ``hints.en``, ``quiz``...). Code, spec and quiz sections hold one fenced
block (the quiz: a YAML list of items, see app/bank/quiz.py). Known-wrong answers
are listed in the front matter (``wrong_answers: [{name, fails}]``: the check that must
fail, if one) with one ``wrong.NAME.ROLE`` section per file. Parsing is pure: no Flask, no
database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from app.bank import safe_yaml

SECTION = re.compile(r"^::: ([a-z_]+(?:\.[a-z0-9_-]+){0,2})\s*$")
FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w+-]*)\s*$")
BULLET = re.compile(r"^\s*[-*]\s+(.*)$")

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
ROLE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
RESERVED_SLUGS = {"new"}  # /instructor/questions/new
TEXT_FIELDS = ("prompt", "answer", "explanation")
KINDS = ("code", "concept")
DIFFICULTIES = ("easy", "medium", "hard")


class BankFormatError(ValueError):
    def __init__(self, message: str, line: int | None = None, source: str = "<input>"):
        self.message, self.line, self.source = message, line, source
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {message}")


@dataclass
class BankTopic:
    slug: str
    order: int
    title: dict[str, str]
    overview: dict[str, str]


@dataclass
class BankWrongAnswer:
    """An answer known to be wrong: validation requires that it fails (``fails``, if set,
    names the check that must be the one to fail)."""

    name: str
    files: dict[str, str]
    fails: str | None = None


@dataclass
class BankQuestion:
    slug: str
    topic: str
    order: int
    kind: str
    difficulty: str
    tags: list[str]
    title: dict[str, str]
    prompt: dict[str, str] = field(default_factory=dict)
    key_points: dict[str, list[str]] = field(default_factory=dict)
    answer: dict[str, str] = field(default_factory=dict)
    explanation: dict[str, str] = field(default_factory=dict)
    roles: list[str] = field(default_factory=list)
    starter_files: dict[str, str] = field(default_factory=dict)
    reference_files: dict[str, str] = field(default_factory=dict)
    spec: dict[str, Any] | None = None
    wrong_answers: list[BankWrongAnswer] = field(default_factory=list)
    hints: dict[str, list[str]] = field(default_factory=lambda: {"zh": [], "en": []})
    quiz: list[dict[str, Any]] = field(default_factory=list)


def _split(text: str, source: str) -> tuple[dict[str, Any], dict[str, tuple[int, str]]]:
    """Return the front matter and {section name: (first line number, body)}."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        raise BankFormatError("the file must start with '---' front matter", 1, source)
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise BankFormatError("the front matter is not closed by '---'", 1, source) from None
    try:
        meta = safe_yaml.load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        raise BankFormatError(f"invalid front matter: {exc}", line, source) from None
    if not isinstance(meta, dict):
        raise BankFormatError("the front matter must be a mapping", 2, source)

    sections: dict[str, tuple[int, str]] = {}
    current: str | None = None
    body: list[str] = []
    start = 0
    in_fence: str | None = None
    for number, line in enumerate(lines[end + 1 :], start=end + 2):
        fence = FENCE.match(line)
        if fence and in_fence is None:
            in_fence = fence.group(1)
        elif fence and _closes(fence, in_fence):
            in_fence = None
        match = SECTION.match(line) if in_fence is None else None
        if match:
            if current:
                sections[current] = (start, "\n".join(body).strip("\n"))
            current, body, start = match.group(1), [], number
            if current in sections:
                raise BankFormatError(f"section '{current}' appears twice", number, source)
        elif current is None:
            if line.strip():
                raise BankFormatError("text before the first '::: section' line", number, source)
        else:
            body.append(line)
    if in_fence:
        raise BankFormatError("a code fence is not closed", len(lines), source)
    if current:
        sections[current] = (start, "\n".join(body).strip("\n"))
    return meta, sections


def _closes(fence: re.Match, opened: str | None) -> bool:
    """A closing fence: same character, at least as long, no info string (CommonMark)."""
    marker, info = fence.group(1), fence.group(2)
    return bool(opened) and marker[0] == opened[0] and len(marker) >= len(opened) and not info


def _code_block(section: str, line: int, body: str, source: str) -> str:
    lines = body.split("\n")
    if len(lines) < 2 or not FENCE.match(lines[0]) or not FENCE.match(lines[-1]):
        raise BankFormatError(f"section '{section}' must hold one fenced code block", line, source)
    return "\n".join(lines[1:-1]) + "\n"


def _bullets(body: str) -> list[str]:
    return [m.group(1).strip() for m in map(BULLET.match, body.split("\n")) if m]


def _bilingual(meta: dict[str, Any], key: str, source: str) -> dict[str, str]:
    value = meta.get(key)
    if not isinstance(value, dict) or not all(isinstance(value.get(k), str) for k in ("zh", "en")):
        raise BankFormatError(f"front matter '{key}' needs 'zh' and 'en' strings", 2, source)
    return {"zh": value["zh"].strip(), "en": value["en"].strip()}


def _slug(meta: dict[str, Any], key: str, source: str) -> str:
    value = str(meta.get(key) or "")
    if not value:
        raise BankFormatError(f"front matter needs a '{key}'", 2, source)
    if not SLUG.match(value) or value in RESERVED_SLUGS:
        raise BankFormatError(
            f"'{key}' must be lowercase letters, digits and hyphens (and not '{value}')", 2, source
        )
    return value


def _order(meta: dict[str, Any], source: str) -> int:
    try:
        return int(meta.get("order", 0))
    except (TypeError, ValueError):
        raise BankFormatError("'order' must be a whole number", 2, source) from None


def parse_topic(text: str, source: str = "<input>") -> BankTopic:
    meta, sections = _split(text, source)
    return BankTopic(
        slug=_slug(meta, "slug", source),
        order=_order(meta, source),
        title=_bilingual(meta, "title", source),
        overview={lang: sections.get(f"overview.{lang}", (0, ""))[1] for lang in ("zh", "en")},
    )


def parse_question(text: str, source: str = "<input>") -> BankQuestion:
    meta, sections = _split(text, source)
    slug, topic = _slug(meta, "slug", source), _slug(meta, "topic", source)
    roles = [str(r) for r in meta.get("roles") or []]
    if bad := [r for r in roles if not ROLE.match(r)]:
        raise BankFormatError(f"invalid role name(s): {', '.join(bad)}", 2, source)
    kind = meta.get("kind", "concept")
    if kind not in KINDS:
        raise BankFormatError(f"kind must be one of {', '.join(KINDS)}", 2, source)
    difficulty = meta.get("difficulty", "medium")
    if difficulty not in DIFFICULTIES:
        raise BankFormatError(f"difficulty must be one of {', '.join(DIFFICULTIES)}", 2, source)
    question = BankQuestion(
        slug=slug,
        topic=topic,
        order=_order(meta, source),
        kind=kind,
        difficulty=difficulty,
        tags=[str(t) for t in meta.get("tags") or []],
        title=_bilingual(meta, "title", source),
        roles=roles,
    )
    for lang in ("zh", "en"):
        for name in TEXT_FIELDS:
            getattr(question, name)[lang] = sections.get(f"{name}.{lang}", (0, ""))[1]
        question.key_points[lang] = _bullets(sections.get(f"key_points.{lang}", (0, ""))[1])
        question.hints[lang] = _bullets(sections.get(f"hints.{lang}", (0, ""))[1])
        if not question.prompt[lang]:
            raise BankFormatError(f"section 'prompt.{lang}' is missing or empty", None, source)
    for name, (line, body) in sections.items():
        group, _, role = name.partition(".")
        if group in ("starter", "reference"):
            if role not in question.roles:
                raise BankFormatError(f"'{name}' names a role not in 'roles'", line, source)
            target = question.starter_files if group == "starter" else question.reference_files
            target[role] = _code_block(name, line, body, source)
        elif name == "spec":
            question.spec = _parse_spec_block(line, body, source, question.roles)
        elif name == "quiz":
            question.quiz = _parse_quiz_block(line, body, source)
    question.wrong_answers = _wrong_answers(meta, sections, question, source)
    if kind == "code":
        missing = [r for r in question.roles if r not in question.reference_files]
        if not question.roles or missing:
            raise BankFormatError(
                "a code question needs 'roles' and a 'reference.ROLE' section for each role",
                None,
                source,
            )
    return question


def _wrong_answers(
    meta: dict[str, Any], sections: dict[str, tuple[int, str]], question: BankQuestion, source: str
) -> list[BankWrongAnswer]:
    listed = meta.get("wrong_answers") or []
    if not isinstance(listed, list) or not all(isinstance(w, dict) for w in listed):
        raise BankFormatError("'wrong_answers' must be a list of {name, fails}", 2, source)
    check_ids = {c["id"] for c in (question.spec or {}).get("checks", [])}
    answers: dict[str, BankWrongAnswer] = {}
    for entry in listed:
        name, fails = str(entry.get("name") or ""), entry.get("fails")
        if not SLUG.match(name) or name in answers:
            raise BankFormatError(f"wrong answer name '{name}' is invalid or repeated", 2, source)
        if fails is not None and fails not in check_ids:
            raise BankFormatError(f"wrong answer '{name}' fails no check '{fails}'", 2, source)
        answers[name] = BankWrongAnswer(name, {}, fails)
    for section, (line, body) in sections.items():
        group, _, rest = section.partition(".")
        if group != "wrong":
            continue
        name, _, role = rest.rpartition(".")
        if name not in answers:
            raise BankFormatError(
                f"'{section}' is not in the front matter's wrong_answers", line, source
            )
        if role not in question.roles:
            raise BankFormatError(f"'{section}' names a role not in 'roles'", line, source)
        answers[name].files[role] = _code_block(section, line, body, source)
    if empty := [name for name, answer in answers.items() if not answer.files]:
        raise BankFormatError(
            f"wrong answer '{empty[0]}' has no 'wrong.{empty[0]}.ROLE' section", 2, source
        )
    return list(answers.values())


def parse_spec_text(
    text: str, roles: list[str] | None = None
) -> tuple[dict[str, Any] | None, list]:
    """``app.grading.spec.parse_spec_yaml`` for text from outside: aliases, anchors and
    odd tags are refused (with their line) before the spec's own parser sees the text."""
    from app.grading.spec import SpecSyntaxError, parse_spec_yaml

    try:
        safe_yaml.check(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [SpecSyntaxError(f"YAML: {problem}", mark.line + 1 if mark else None)]
    return parse_spec_yaml(text, roles)


def _parse_spec_block(line: int, body: str, source: str, roles: list[str]) -> dict[str, Any]:
    """The spec, valid against the schema and the question's roles, or the first problem
    with the line it is on in the file."""
    spec, errors = parse_spec_text(_code_block("spec", line, body, source), roles)
    if errors:
        first = errors[0]
        at = line + 1 + first.line if first.line else line
        raise BankFormatError(f"invalid spec: {first.args[0].split(': ', 1)[-1]}", at, source)
    return spec


def parse_quiz_text(text: str) -> list[dict[str, Any]]:
    """Quiz items from YAML text (a bank file's ``quiz`` block, the studio's box); raises
    yaml.YAMLError or QuizFormatError."""
    from app.bank.quiz import parse_quiz

    return parse_quiz(safe_yaml.load(text) if text.strip() else None)


def _parse_quiz_block(line: int, body: str, source: str) -> list[dict[str, Any]]:
    from app.bank.quiz import QuizFormatError

    try:
        return parse_quiz_text(_code_block("quiz", line, body, source))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = line + 1 + mark.line + 1 if mark else line
        raise BankFormatError(f"invalid quiz YAML: {exc}", at, source) from None
    except QuizFormatError as exc:
        raise BankFormatError(str(exc), line, source) from None


def read_directory(folder: Path) -> tuple[list[BankTopic], list[BankQuestion]]:
    """Parse every bank file below ``folder`` (``topic.md`` files and question files)."""
    topics, questions = [], []
    for path in sorted(folder.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        if path.name == "topic.md":
            topics.append(parse_topic(text, str(path)))
        else:
            questions.append(parse_question(text, str(path)))
    return topics, questions
