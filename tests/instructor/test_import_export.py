"""Import a chapter or a bank archive through the page; export questions and topics."""

from __future__ import annotations

import io
import re
import time
import zipfile

import sqlalchemy as sa

from app.models import Question, db
from tests.instructor.conftest import form_values, question, text_of

BAD_CHAPTER = (
    "## 第一章\n\n#### 面试题1\n\n面试题目：写一个服务器。\n\n答案或代码：\n\n```python\nprint(1)\n"
)
GOOD_CHAPTER = (
    "## 第九章\n\n### 套接字\n\n概述。\n\n#### 面试题1\n\n面试题目：什么是 TCP？\n\n"
    "面试题考点：\n\n- 面向连接\n- 可靠\n\n答案或代码解析：\n\n面向连接的字节流。\n\n"
    "#### 面试题2\n\n面试题目：写一个 UDP 客户端。\n\n答案或代码：\n\n客户端：\n\n"
    "```python\nimport socket\n```\n\n答案或代码解析：\n\n无连接。\n"
)


def imported(app) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(Question.slug).where(Question.source == "import").order_by(Question.slug)
            )
        )


def upload(studio, name: str, data: bytes, **options):
    return studio.post(
        "/instructor/import",
        data={"file": (io.BytesIO(data), name), **options},
        content_type="multipart/form-data",
    )


def test_a_bad_chapter_names_its_line_and_imports_nothing(app, instructor):
    response = upload(instructor, "bad.md", BAD_CHAPTER.encode(), prefix="ch9")
    assert response.status_code == 422
    text = text_of(response)
    assert "Nothing was imported." in text and "bad.md:9:" in text
    assert imported(app) == []


def test_a_good_chapter_becomes_drafts(app, instructor):
    response = upload(
        instructor, "第九章.md", GOOD_CHAPTER.encode(), prefix="ch9", topic="sockets-more"
    )
    assert response.status_code == 200, text_of(response)[:1500]
    text = text_of(response)
    assert "2 draft questions from the chapter" in text and "ch9-q1" in text and "ch9-q2" in text
    assert imported(app) == ["ch9-q1", "ch9-q2"]
    with app.app_context():
        first, second = question("ch9-q1"), question("ch9-q2")
        assert not first.published and first.topic.slug == "sockets-more"
        assert first.key_points_zh == ["面向连接", "可靠"]
        assert second.kind == "code" and second.reference_files == {"client": "import socket\n"}
    # The new topic and its drafts are on the dashboard.
    dashboard = text_of(instructor.get("/instructor/"))
    assert "sockets-more" in dashboard and "ch9-q2" in dashboard


def test_options_are_validated(app, instructor):
    response = upload(instructor, "x.md", GOOD_CHAPTER.encode(), prefix="Not A Slug")
    assert response.status_code == 422 and "Lowercase letters" in text_of(response)
    missing = instructor.post("/instructor/import", data={})
    assert missing.status_code == 422 and "Choose a file to import." in text_of(missing)
    assert imported(app) == []


def test_export_a_question_then_import_it_back(app, instructor):
    response = instructor.get("/instructor/questions/tcp-echo/export.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"] == "attachment; filename=tcp-echo.zip"
    data = response.get_data()
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert names == ["sockets/topic.md", "sockets/01-tcp-echo.md"]

    same = upload(instructor, "tcp-echo.zip", data)
    assert same.status_code == 200
    assert "Unchanged (1)" in text_of(same) and "Updated (0)" in text_of(same)

    # Edit the file as an instructor would, and import it again.
    archive = zipfile.ZipFile(io.BytesIO(data))
    text = archive.read("sockets/01-tcp-echo.md").decode()
    assert "en: TCP echo server and client" in text
    changed = io.BytesIO()
    with zipfile.ZipFile(changed, "w") as out:
        out.writestr("sockets/topic.md", archive.read("sockets/topic.md"))
        out.writestr(
            "sockets/01-tcp-echo.md",
            text.replace("en: TCP echo server and client", "en: Echo, imported"),
        )
    response = upload(instructor, "edited.zip", changed.getvalue())
    assert response.status_code == 200 and "Updated (1)" in text_of(response)
    with app.app_context():
        assert question("tcp-echo").title_en == "Echo, imported"


def test_a_bad_archive_names_file_and_line_and_imports_nothing(app, instructor):
    data = instructor.get("/instructor/topics/sockets/export.zip").get_data()
    archive = zipfile.ZipFile(io.BytesIO(data))
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as out:
        for name in archive.namelist():
            text = archive.read(name).decode()
            if name.endswith("04-udp-echo.md"):
                text = text.replace("title:", "title: [", 1)
            elif name.endswith("01-tcp-echo.md"):
                text = text.replace("en: TCP echo server and client", "en: Must not be stored")
            out.writestr(name, text)
    response = upload(instructor, "broken.zip", broken.getvalue())
    assert response.status_code == 422
    text = text_of(response)
    assert "Nothing was imported." in text
    assert re.search(r"sockets/04-udp-echo\.md:\d+: invalid front matter", text), text[:2000]
    with app.app_context():
        assert question("tcp-echo").title_en == "TCP echo server and client"


def test_export_a_topic(instructor):
    response = instructor.get("/instructor/topics/sockets/export.zip")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == "attachment; filename=sockets.zip"
    names = zipfile.ZipFile(io.BytesIO(response.get_data())).namelist()
    assert names[0] == "sockets/topic.md" and len(names) == 13
    assert instructor.get("/instructor/topics/nope/export.zip").status_code == 404


def test_an_alias_bomb_upload_is_refused_quickly(app, instructor):
    """The web importer runs the same parser: refused at the first anchor, nothing stored."""
    from tests.bank.test_safe_yaml import alias_bomb_zip

    started = time.monotonic()
    response = upload(instructor, "bomb.zip", alias_bomb_zip())
    assert time.monotonic() - started < 1
    assert response.status_code == 422
    text = text_of(response)
    assert "sockets/99-bomb.md:6" in text and "anchors (&l0) are not allowed" in text
    assert "Nothing was imported." in text
    with app.app_context():
        assert question("bomb") is None


def test_a_spec_with_an_alias_is_refused_by_the_editor(app, instructor):
    """The studio's spec box goes through the same refusal, with the line."""
    page = instructor.get("/instructor/questions/tcp-echo/edit")
    values = form_values(page, "question-form")
    values["spec"] = "port: 65432\nchecks:\n  - &check\n    id: a\n  - *check\n"
    response = instructor.post("/instructor/questions/tcp-echo/edit", data=values)
    assert response.status_code == 422
    assert "line 3: YAML: anchors (&check) are not allowed" in text_of(response)
