"""Export as bank files and import again: the same questions; bad archives import nothing."""

from __future__ import annotations

import io
import zipfile

import pytest
import sqlalchemy as sa

from app.bank.archive import bank_question, export_zip, import_bank, read_zip, select_questions
from app.bank.files import BankFormatError
from app.models import Question, QuestionVersion, Topic, db


def all_questions() -> list:
    return [
        bank_question(q) for q in db.session.scalars(sa.select(Question).order_by(Question.order))
    ]


def test_round_trip_gives_equal_questions(app):
    with app.app_context():
        original = all_questions()
        assert sum(len(q.wrong_answers) for q in original) == 8  # the bank's known-wrong ones
        data = export_zip(select_questions("sockets"))
        topics, parsed = read_zip(data)
        assert [t.slug for t in topics] == ["sockets"]
        assert parsed == original  # every field, through render and parse

        db.session.execute(sa.delete(QuestionVersion))
        db.session.execute(sa.delete(Question))
        db.session.execute(sa.delete(Topic))
        db.session.commit()
        report = import_bank(topics, parsed)
        assert len(report.created) == 12
        assert all_questions() == original
        assert not any(q.published for q in db.session.scalars(sa.select(Question)))

        again = import_bank(*read_zip(data))
        assert len(again.unchanged) == 12 and not again.updated


def test_export_one_question(app):
    with app.app_context():
        data = export_zip(select_questions("udp-echo"))
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert names == ["sockets/topic.md", "sockets/04-udp-echo.md"]
    with app.app_context(), pytest.raises(LookupError):
        select_questions("nothing-like-this")


def archive(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("files", "where"),
    [
        (
            {
                "t/q.md": b"---\nslug: x\ntopic: sockets\ntitle: {zh: a, en: b}\n---\n"
                b"::: prompt.zh\nx\n::: prompt.en\ny\n::: starter.ghost\n```python\nprint(1)\n```\n"
            },
            "t/q.md:10",
        ),
        ({"t/q.md": b"---\nslug: x\n\xff\n---\n"}, "t/q.md:3"),
        ({"t/q.md": b"no front matter\n"}, "t/q.md:1"),
        ({"readme.txt": b"hello"}, "no .md bank files"),
        ({"t/q.md": b"---\nslug: new\ntopic: sockets\ntitle: {zh: a, en: b}\n---\n"}, "t/q.md:2"),
        (
            {"t/q.md": b"---\nslug: x\ntopic: sockets\norder: abc\ntitle: {zh: a, en: b}\n---\n"},
            "'order' must be a whole number",
        ),
        (
            {
                "t/q.md": b"---\nslug: x\ntopic: sockets\nkind: code\nroles: [client]\n"
                b"title: {zh: a, en: b}\n---\n::: prompt.zh\nx\n::: prompt.en\ny\n"
                b"::: reference.client\n```python\nprint(1)\n```\n"
                b"::: spec\n```yaml\nchecks:\n  - id: a\n    role: client\n```\n"
            },
            "t/q.md:19",
        ),  # the check missing its title
    ],
)
def test_bad_archives_name_the_place_and_import_nothing(app, files, where):
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(Question))
        with pytest.raises(BankFormatError) as error:
            import_bank(*read_zip(archive(files)))
        assert where in str(error.value)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Question)) == before


def test_not_a_zip(app):
    with pytest.raises(BankFormatError, match="not a zip"):
        read_zip(b"plain text")
    damaged = bytearray(archive({"t/q.md": b"x" * 2000}))
    damaged[60] ^= 0xFF  # inside the compressed data: the CRC no longer matches
    with pytest.raises(BankFormatError, match="damaged"):
        read_zip(bytes(damaged))


def test_cli_export_then_import(app, runner, tmp_path):
    out = tmp_path / "sockets.zip"
    result = runner.invoke(args=["bank", "export", "sockets", str(out)])
    assert result.exit_code == 0 and "exported 12 questions" in result.output
    result = runner.invoke(args=["bank", "import", str(out)])
    assert result.exit_code == 0, result.output
    assert "0 created, 0 updated, 12 unchanged" in result.output
    bad = tmp_path / "bad.zip"
    bad.write_bytes(archive({"t/q.md": b"no front matter\n"}))
    result = runner.invoke(args=["bank", "import", str(bad)])
    assert result.exit_code == 1 and "t/q.md:1" in result.output
    assert "nothing was imported" in result.output
    assert runner.invoke(args=["bank", "export", "nope", str(out)]).exit_code == 1
