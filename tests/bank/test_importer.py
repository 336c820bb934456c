"""`flask bank import` stores a chapter as drafts, all or nothing."""

from __future__ import annotations

import sqlalchemy as sa

from app.models import Question, QuestionVersion, db
from tests.helpers import SHARED, require

CHAPTER = SHARED / "seeds" / "ch14-sockets-zh.md"


def drafts(app) -> list[Question]:
    with app.app_context():
        query = sa.select(Question).where(Question.source == "import").order_by(Question.order)
        return list(db.session.scalars(query))


def test_import_shared_chapter_as_drafts(app, runner):
    require(CHAPTER.exists(), f"the shared chapter is missing at {CHAPTER}")
    result = runner.invoke(args=["bank", "import", str(CHAPTER), "--prefix", "ch14"])
    assert result.exit_code == 0, result.output
    assert "imported 12 draft questions" in result.output
    questions = drafts(app)
    assert [q.slug for q in questions] == [f"ch14-q{n}" for n in range(1, 13)]
    assert not any(q.published for q in questions)
    first = questions[0]
    assert "TCP echo" in first.prompt_zh
    assert len(first.key_points_zh) == 4
    assert first.kind == "code" and first.roles == ["server", "client"]
    assert "conn.sendall(data)" in first.reference_files["server"]
    assert questions[4].kind == "concept" and questions[4].reference_files == {}
    assert "settimeout(5)" in questions[9].reference_files["main"]

    again = runner.invoke(args=["bank", "import", str(CHAPTER), "--prefix", "ch14"])
    assert again.exit_code == 0
    assert len(drafts(app)) == 12


def test_malformed_chapter_imports_nothing(app, runner, tmp_path):
    bad = tmp_path / "bad.md"
    bad.write_text(
        "## 第一章\n\n#### 面试题1\n\n面试题目：写一个服务器。\n\n答案或代码：\n\n"
        "```python\nprint(1)\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["bank", "import", str(bad)])
    assert result.exit_code != 0
    assert "bad.md:9" in result.output and "nothing was imported" in result.output
    assert drafts(app) == []


def test_import_refuses_to_overwrite_a_published_question(app, runner, tmp_path):
    chapter = tmp_path / "mine.md"
    chapter.write_text(
        "## 章\n\n#### 面试题1\n\n面试题目：什么是 TCP？\n\n答案或代码解析：\n\n面向连接。\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        args=["bank", "import", str(chapter), "--prefix", "tcp-echo", "--topic", "sockets"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        q = db.session.scalar(sa.select(Question).where(Question.slug == "tcp-echo-q1"))
        q.published = True
        db.session.commit()
    result = runner.invoke(args=["bank", "import", str(chapter), "--prefix", "tcp-echo"])
    assert result.exit_code != 0 and "not an unpublished import" in result.output


def test_reimporting_a_chapter_clears_its_validation_and_keeps_a_version(app, runner, tmp_path):
    chapter = tmp_path / "mine.md"
    text = (
        "## 章\n\n#### 面试题1\n\n面试题目：写一个服务器。\n\n答案或代码：\n\n服务器端：\n\n"
        "```python\nprint('v1')\n```\n"
    )
    chapter.write_text(text, encoding="utf-8")
    assert runner.invoke(args=["bank", "import", str(chapter), "--prefix", "mine"]).exit_code == 0
    with app.app_context():
        draft = db.session.scalar(sa.select(Question).where(Question.slug == "mine-q1"))
        draft.validation = {"version": draft.version, "publishable": True}
        db.session.commit()
    chapter.write_text(text.replace("v1", "v2"), encoding="utf-8")
    assert runner.invoke(args=["bank", "import", str(chapter), "--prefix", "mine"]).exit_code == 0
    with app.app_context():
        draft = db.session.scalar(sa.select(Question).where(Question.slug == "mine-q1"))
        assert draft.validation is None
        assert "v2" in draft.reference_files["server"]
        version = db.session.scalar(
            sa.select(QuestionVersion).where(
                QuestionVersion.question_id == draft.id, QuestionVersion.version == draft.version
            )
        )
        assert "v2" in version.snapshot["reference_files"]["server"]
