"""Export questions as bank files (a zip), and import such a zip: the round trip gives the
same questions. Parsing happens before any write, so a bad file imports nothing."""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from typing import Any

import sqlalchemy as sa
import yaml

from app.bank import document
from app.bank.files import (
    SLUG,
    BankFormatError,
    BankQuestion,
    BankTopic,
    BankWrongAnswer,
    parse_question,
    parse_topic,
)
from app.bank.loader import LoadReport, upsert_question, upsert_topic
from app.models import KnownWrongAnswer, Question, Topic, db

# Bounds of an uploaded or imported archive, checked before anything is decompressed (the
# sizes a zip declares are also what zipfile will decompress at most: more fails its CRC).
MAX_ARCHIVE_BYTES = 8 * 1024 * 1024  # the zip itself
MAX_ARCHIVE_FILES = 500  # entries of any kind, folders included
MAX_FILE_BYTES = 512 * 1024  # one entry, uncompressed
MAX_TOTAL_BYTES = 16 * 1024 * 1024  # every entry, uncompressed
MAX_RATIO = 100  # uncompressed / compressed size of an entry (text rarely passes 10)
RATIO_FROM_BYTES = 64 * 1024  # smaller entries may compress better than that: no harm


def _fence(code: str, language: str) -> str:
    longest = max((len(m) for m in re.findall(r"`{3,}", code)), default=2)
    marker = "`" * max(3, longest + 1)
    return f"{marker}{language}\n{code.rstrip(chr(10))}\n{marker}"


def _front_matter(meta: dict[str, Any]) -> str:
    return "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=100) + "---\n"


def render_topic(topic: BankTopic) -> str:
    parts = [_front_matter({"slug": topic.slug, "order": topic.order, "title": topic.title})]
    for lang in ("zh", "en"):
        parts.append(f"::: overview.{lang}\n{topic.overview[lang]}\n")
    return "".join(parts)


def render_question(item: BankQuestion) -> str:
    meta: dict[str, Any] = {
        "slug": item.slug,
        "topic": item.topic,
        "order": item.order,
        "kind": item.kind,
        "difficulty": item.difficulty,
        "tags": item.tags,
        "roles": item.roles,
        "title": item.title,
    }
    if item.wrong_answers:
        meta["wrong_answers"] = [
            {"name": w.name, **({"fails": w.fails} if w.fails else {})} for w in item.wrong_answers
        ]
    parts = [_front_matter(meta)]
    for name in ("prompt", "key_points", "answer", "explanation", "hints"):
        for lang in ("zh", "en"):
            value = item.hints.get(lang) if name == "hints" else getattr(item, name)[lang]
            if name in ("key_points", "hints"):
                if name == "hints" and not value:
                    continue
                value = "\n".join(f"- {point}" for point in value)
            parts.append(f"::: {name}.{lang}\n{value}\n")
    for group, files in (("starter", item.starter_files), ("reference", item.reference_files)):
        for role, code in files.items():
            parts.append(f"::: {group}.{role}\n{_fence(code, 'python')}\n")
    if item.spec:
        dumped = yaml.safe_dump(item.spec, allow_unicode=True, sort_keys=False, width=100)
        parts.append(f"::: spec\n{_fence(dumped, 'yaml')}\n")
    if item.quiz:
        parts.append(f"::: quiz\n{_fence(render_quiz(item.quiz), 'yaml')}\n")
    for wrong in item.wrong_answers:
        for role, code in wrong.files.items():
            parts.append(f"::: wrong.{wrong.name}.{role}\n{_fence(code, 'python')}\n")
    return "".join(parts)


def render_quiz(items: list[dict[str, Any]]) -> str:
    return yaml.safe_dump(items, allow_unicode=True, sort_keys=False, width=100)


def bank_question(question: Question) -> BankQuestion:
    wrong = [
        BankWrongAnswer(row.name, dict(row.files), row.failing_check)
        for row in db.session.scalars(
            sa.select(KnownWrongAnswer)
            .where(KnownWrongAnswer.question_id == question.id)
            .order_by(KnownWrongAnswer.id)
        )
        if SLUG.match(row.name) and set(row.files) <= set(question.roles or [])
    ]
    return document.from_question(question, wrong)


def bank_topic(topic: Topic) -> BankTopic:
    return BankTopic(
        slug=topic.slug,
        order=topic.order,
        title={"zh": topic.title_zh, "en": topic.title_en},
        overview={"zh": topic.overview_zh or "", "en": topic.overview_en or ""},
    )


def select_questions(slug_or_topic: str) -> list[Question]:
    """One question by slug, or every question of a topic."""
    question = db.session.scalar(sa.select(Question).where(Question.slug == slug_or_topic))
    if question is not None:
        return [question]
    topic = db.session.scalar(sa.select(Topic).where(Topic.slug == slug_or_topic))
    if topic is None:
        raise LookupError(f"no question or topic '{slug_or_topic}'")
    return list(
        db.session.scalars(
            sa.select(Question).where(Question.topic_id == topic.id).order_by(Question.order)
        )
    )


def export_zip(questions: list[Question]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        topics = {q.topic.slug: q.topic for q in questions}
        for slug, topic in topics.items():
            archive.writestr(f"{slug}/topic.md", render_topic(bank_topic(topic)))
        for question in questions:
            name = f"{question.topic.slug}/{question.order:02d}-{question.slug}.md"
            archive.writestr(name, render_question(bank_question(question)))
    return buffer.getvalue()


def read_zip(data: bytes) -> tuple[list[BankTopic], list[BankQuestion]]:
    """Parse every bank file of the archive, or raise BankFormatError naming file:line."""
    if len(data) > MAX_ARCHIVE_BYTES:
        raise BankFormatError(
            f"the archive is larger than {MAX_ARCHIVE_BYTES // (1024 * 1024)} MiB", None, "<upload>"
        )
    try:
        return _read_zip(zipfile.ZipFile(io.BytesIO(data)))
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError):
        raise BankFormatError("not a zip archive, or a damaged one", None, "<upload>") from None


def check_bounds(entries: list[zipfile.ZipInfo]) -> None:
    """Refuse an archive over any bound, from its directory alone (nothing decompressed)."""
    if len(entries) > MAX_ARCHIVE_FILES:
        raise BankFormatError(
            f"the archive has {len(entries)} entries, more than {MAX_ARCHIVE_FILES}",
            None,
            "<upload>",
        )
    total = 0
    for info in entries:
        if info.file_size > MAX_FILE_BYTES:
            raise BankFormatError(
                f"larger than {MAX_FILE_BYTES // 1024} KiB uncompressed", None, info.filename
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FROM_BYTES and ratio > MAX_RATIO:
            raise BankFormatError(
                f"compressed {ratio:.0f} to 1, more than {MAX_RATIO} to 1 (a zip bomb?)",
                None,
                info.filename,
            )
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise BankFormatError(
                f"the archive holds more than {MAX_TOTAL_BYTES // (1024 * 1024)} MiB uncompressed",
                None,
                "<upload>",
            )


def _read_zip(archive: zipfile.ZipFile) -> tuple[list[BankTopic], list[BankQuestion]]:
    entries = archive.infolist()
    check_bounds(entries)
    names = [
        info.filename
        for info in entries
        if info.filename.endswith(".md") and not info.filename.startswith("__MACOSX")
    ]
    if not names:
        raise BankFormatError("the archive holds no .md bank files", None, "<upload>")
    topics, questions = [], []
    for name in sorted(names):
        with archive.open(name) as member:
            raw = member.read(MAX_FILE_BYTES + 1)  # declared sizes bound it; so does this
        if len(raw) > MAX_FILE_BYTES:
            raise BankFormatError(
                f"larger than {MAX_FILE_BYTES // 1024} KiB uncompressed", None, name
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise BankFormatError("not valid UTF-8", line, name) from None
        if name.rsplit("/", 1)[-1] == "topic.md":
            topics.append(parse_topic(text, name))
        else:
            questions.append(parse_question(text, name))
    return topics, questions


def import_bank(topics: list[BankTopic], questions: list[BankQuestion]) -> LoadReport:
    """Store parsed bank files: new questions as unpublished drafts, existing ones updated
    (a new version when how they are graded changed). One transaction."""
    report = LoadReport()
    by_slug = {t.slug: upsert_topic(t) for t in topics}
    for item in questions:
        topic = by_slug.get(item.topic) or db.session.scalar(
            sa.select(Topic).where(Topic.slug == item.topic)
        )
        if topic is None:
            db.session.rollback()
            raise BankFormatError(
                f"unknown topic '{item.topic}' (add its topic.md)", None, item.slug
            )
        upsert_question(item, topic, published=False, source="import", report=report)
    db.session.commit()
    return report
