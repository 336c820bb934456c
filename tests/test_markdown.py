"""Markdown rendering: safe output, highlighted code, tables."""

from __future__ import annotations

from pathlib import Path

from markupsafe import Markup

from app.markdown import highlight_code, pygments_css, render_inline, render_markdown, sanitize

ROOT = Path(__file__).resolve().parents[1]


def test_script_tag_is_neutralised():
    html = render_markdown("Hello <script>alert('x')</script> world")
    assert isinstance(html, Markup)
    assert "<script" not in html
    assert "&lt;script&gt;" in html  # shown as text, not run
    assert "Hello" in html and "world" in html


def test_img_onerror_is_neutralised():
    html = render_markdown("before <img src=x onerror=alert(1)> after")
    assert "<img" not in html
    assert "onerror=" not in html.replace("&lt;img src=x onerror=alert(1)&gt;", "")
    assert "before" in html and "after" in html


def test_javascript_link_is_neutralised():
    html = render_markdown("[x](javascript:alert(1)) and [ok](https://example.com)")
    assert 'href="javascript' not in html.lower()
    assert '<a href="https://example.com" rel="noopener noreferrer">ok</a>' in html
    assert "x" in html


def test_sanitizer_is_a_second_line_of_defence():
    dirty = (
        '<p onclick="evil()">hi</p><a href="javascript:alert(1)">x</a>'
        '<a href="vbscript:x">v</a><a href="mailto:a@example.com">m</a>'
        '<span class="evil k">t</span><iframe src="https://example.com"></iframe>'
        "<script>alert(1)</script><style>body{}</style>"
    )
    clean = sanitize(dirty)
    for bad in ("onclick", "javascript:", "vbscript:", "<iframe", "<script", "<style", "evil"):
        assert bad not in clean
    assert '<a href="mailto:a@example.com" rel="noopener noreferrer">m</a>' in clean
    assert '<span class="k">t</span>' in clean
    assert "alert(1)" not in clean


def test_code_fence_is_highlighted():
    html = render_markdown("```python\nimport socket\ndef f():\n    return 1\n```\n")
    assert '<pre class="highlight"><code>' in html
    assert '<span class="kn">import</span>' in html
    assert '<span class="k">def</span>' in html


def test_unknown_language_is_escaped_not_highlighted():
    html = render_markdown("```nosuchlang\n<b>bold</b>\n```\n")
    assert '<pre class="highlight"><code>&lt;b&gt;bold&lt;/b&gt;' in html
    assert "<b>" not in html


def test_table_renders():
    html = render_markdown("| Protocol | Reliable |\n|:--|--:|\n| TCP | yes |\n| UDP | no |\n")
    assert "<table>" in html and "<thead>" in html and "<tbody>" in html
    assert "<th" in html and "<td" in html and "UDP" in html
    assert 'style="text-align:right"' in html


def test_headings_can_be_shifted_under_the_page_title():
    html = render_markdown("#### Basics\n\n##### Detail\n", top_level=2)
    assert "<h2>Basics</h2>" in html and "<h3>Detail</h3>" in html


def test_inline_markdown_has_no_paragraph():
    assert render_inline("use `recv()` **carefully**") == (
        "use <code>recv()</code> <strong>carefully</strong>"
    )


def test_empty_input():
    assert render_markdown("") == "" and render_markdown(None) == ""


def test_highlight_code_escapes():
    html = highlight_code("print('<x>')\n", "python")
    assert "<x>" not in html and "&lt;x&gt;" in html


def test_markdown_jinja_filter(app):
    with app.app_context():
        template = app.jinja_env.from_string("{{ text | markdown }}")
        assert template.render(text="*hi* <script>") == "<p><em>hi</em> &lt;script&gt;</p>\n"


def test_committed_pygments_css_is_current():
    css = (ROOT / "static" / "css" / "pygments.css").read_text()
    assert css == pygments_css()
