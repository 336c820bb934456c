"""Import the book-chapter format (``#### 面试题N`` ...) as unpublished draft questions.

Everything is parsed before anything is written, and written in one transaction: a bad
file imports nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa

from app.bank.chapter import Chapter, ChapterQuestion, parse_chapter
from app.bank.loader import apply_values
from app.models import Question, QuestionKind, Topic, db

ROLE_BY_LABEL = (
    ("服务器", "server"),
    ("server", "server"),
    ("客户端", "client"),
    ("client", "client"),
)


class ImportConflict(ValueError):
    """The import would overwrite a question that is not an unpublished import."""


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "chapter"


def _role_files(question: ChapterQuestion) -> dict[str, str]:
    files: dict[str, str] = {}
    for index, block in enumerate(question.code_blocks, start=1):
        label = block.label.lower()
        role = next((r for key, r in ROLE_BY_LABEL if key in label), None)
        if role is None or role in files:
            role = "main" if "main" not in files else f"file{index}"
        files[role] = block.code
    return files


def _title(question: ChapterQuestion) -> str:
    first = re.split(r"[。？！?.!\n]", question.prompt, maxsplit=1)[0].strip()
    first = re.sub(r"^请", "", first)
    return (first[:60] + "…") if len(first) > 60 else first


def _topic(chapter: Chapter, topic_slug: str) -> Topic:
    topic = db.session.scalar(sa.select(Topic).where(Topic.slug == topic_slug))
    if topic is None:
        topic = Topic(
            slug=topic_slug,
            order=99,
            title_zh=chapter.title,
            title_en=chapter.title,
            overview_zh=chapter.overview,
            overview_en="",
        )
        db.session.add(topic)
    return topic


def import_chapter(
    data: bytes, source: str, topic_slug: str | None = None, prefix: str | None = None
) -> list[Question]:
    """Store each question of the chapter as a draft; returns them (committed)."""
    chapter = parse_chapter(data, source)
    prefix = prefix or slugify(Path(source).stem)
    topic = _topic(chapter, topic_slug or prefix)
    imported = []
    for item in chapter.questions:
        slug = f"{prefix}-q{item.number}"
        question = db.session.scalar(sa.select(Question).where(Question.slug == slug))
        if question is None:
            question = Question(slug=slug, published=False, source="import")
            db.session.add(question)
        elif question.published or question.source != "import":
            db.session.rollback()
            raise ImportConflict(f"question '{slug}' exists and is not an unpublished import")
        files = _role_files(item)
        question.topic = topic
        question.order = item.number
        question.kind = QuestionKind.CODE.value if files else QuestionKind.CONCEPT.value
        question.title_zh, question.title_en = _title(item), ""
        question.prompt_zh, question.prompt_en = item.prompt, ""
        question.key_points_zh, question.key_points_en = item.key_points, []
        question.answer_zh = item.answer or item.explanation
        question.explanation_zh = item.explanation if item.answer else ""
        question.answer_en = question.explanation_en = ""
        question.roles = list(files)
        question.reference_files = files
        question.starter_files = {}
        question.validation = None  # new content: validate again before publishing
        db.session.flush()
        apply_values(question, {}, force=True)  # a draft: its current version follows
        imported.append(question)
    db.session.commit()
    return imported
