"""Bank YAML is plain data: aliases, anchors, odd tags and deep nesting are refused with
their line, quickly, through the CLI import too (the studio's upload: tests/instructor)."""

from __future__ import annotations

import io
import time
import zipfile

import pytest
import yaml

from app.bank import safe_yaml
from app.bank.files import BankFormatError, parse_question, parse_spec_text

HEADER = "---\nslug: bomb\ntopic: sockets\nkind: concept\ntitle: {zh: 炸弹, en: Bomb}\n"
BODY = "---\n::: prompt.zh\n题目\n::: prompt.en\nPrompt\n"


def laughs(levels: int = 9, width: int = 9) -> str:
    """The classic billion laughs: each level lists the previous one ``width`` times."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    lines.append(f"tags: *l{levels - 1}")
    return "\n".join(lines) + "\n"


def alias_bomb_file() -> str:
    return HEADER + laughs() + BODY


def alias_bomb_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("sockets/99-bomb.md", alias_bomb_file())
    return buffer.getvalue()


def expanded_items(node, seen=None) -> int:
    """How many leaves ``node`` has once its aliases are expanded (without expanding)."""
    seen = {} if seen is None else seen
    if id(node) in seen:
        return seen[id(node)]
    if isinstance(node, list):
        count = sum(expanded_items(item, seen) for item in node)
    elif isinstance(node, dict):
        count = sum(expanded_items(item, seen) for item in node.values())
    else:
        count = 1
    seen[id(node)] = count
    return count


def test_the_bomb_is_a_real_one():
    """The fixture is small and would expand to 387 million strings under safe_load."""
    assert len(alias_bomb_zip()) < 1024
    tags = yaml.safe_load(laughs())["tags"]
    assert expanded_items(tags) == 9**9


def test_alias_bomb_refused_at_its_first_anchor_in_well_under_a_second():
    started = time.monotonic()
    with pytest.raises(BankFormatError) as error:
        parse_question(alias_bomb_file(), "sockets/99-bomb.md")
    assert time.monotonic() - started < 1
    assert str(error.value).startswith("sockets/99-bomb.md:6: invalid front matter")
    assert "anchors (&l0) are not allowed" in str(error.value)


def test_cli_import_refuses_the_bomb_quickly_and_imports_nothing(app, runner, tmp_path):
    path = tmp_path / "bomb.zip"
    path.write_bytes(alias_bomb_zip())
    started = time.monotonic()
    result = runner.invoke(args=["bank", "import", str(path)])
    assert time.monotonic() - started < 1
    assert result.exit_code == 1
    assert "sockets/99-bomb.md:6" in result.output
    assert "anchors (&l0) are not allowed" in result.output
    assert "nothing was imported" in result.output
    with app.app_context():
        from app.bank.archive import select_questions

        assert all(q.slug != "bomb" for q in select_questions("sockets"))


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("a: &x 1\nb: 2\n", "anchors (&x) are not allowed", 0),
        ("a: [1, 2]\nb: *x\n", "aliases (*x) are not allowed", 1),
        ("a: !!binary aGVsbG8=\n", "the tag !!binary is not allowed", 0),
        ("a: !!python/name:os.system\n", "the tag !!python/name:os.system is not allowed", 0),
        ("when: 2024-01-01\n", "the tag !!timestamp is not allowed", 0),
        ("a: !!set {x, y}\n", "the tag !!set is not allowed", 0),
        ("base: {x: 1}\nmerged:\n  <<: {y: 2}\n", "the tag !!merge is not allowed", 2),
        ("a: !custom thing\n", "the tag !custom is not allowed", 0),
        ("x: " + "[" * 40 + "]" * 40 + "\n", "nested deeper than 32 levels", 0),
    ],
)
def test_refused_yaml(text, message, line):
    with pytest.raises(safe_yaml.RefusedYaml) as error:
        safe_yaml.load(text)
    assert message in error.value.problem
    assert error.value.problem_mark.line == line
    with pytest.raises(safe_yaml.RefusedYaml):
        safe_yaml.check(text)


def test_plain_data_loads_as_before():
    text = (
        "slug: tcp-echo\norder: 3\nratio: 0.5\nflag: true\nnothing: null\nempty:\n"
        "title: {zh: 回显, en: Echo}\ntags: [tcp, '2024-01-01', !!str 12]\n"
        "nested: [[1, [2, [3]]]]\n"
    )
    assert safe_yaml.load(text) == yaml.safe_load(text)


def test_spec_with_an_alias_is_refused_with_its_line():
    spec = "port: 65432\nchecks:\n  - &check\n    id: a\n  - *check\n"
    parsed, errors = parse_spec_text(spec, ["client"])
    assert parsed is None
    assert [str(e) for e in errors] == [
        "line 3: YAML: anchors (&check) are not allowed: write the value out"
    ]
