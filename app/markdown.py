"""Markdown to safe HTML: markdown-it-py (CommonMark + tables), Pygments, then nh3.

Every piece of Markdown the app shows (question prompts, answers, topic overviews) goes
through :func:`render_markdown`. Raw HTML in the source is not interpreted (``html=False``)
and the output is sanitized with an allow-list as a second line of defence, so a bank file
or an instructor's text can never inject scripts, event handlers or ``javascript:`` links.

Rendering is memoized per source text (an LRU per process): a question page renders each
prompt, answer and explanation once per question version and language, not per request.
The key is the text itself rather than (question, version, language) because a draft is
edited in place without a new version: a key of content can never serve a stale page.

The Pygments CSS lives in ``static/css/pygments.css``; regenerate it with
``python -m app.markdown > static/css/pygments.css``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import nh3
from flask import Flask
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup, escape
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

__all__ = [
    "cache_clear",
    "cache_info",
    "highlight_code",
    "pygments_css",
    "render_inline",
    "render_markdown",
    "sanitize",
]

PYGMENTS_STYLE = "default"
CODE_CLASS = "highlight"

_FORMATTER = HtmlFormatter(nowrap=True, style=PYGMENTS_STYLE)

# What the sanitizer lets through: the tags CommonMark and the table extension produce,
# plus the <span class="..."> of Pygments inside <pre class="highlight">.
ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "img", "li", "ol", "p", "pre", "span", "strong", "table", "tbody", "td", "th",
    "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
ALLOWED_CLASSES = {
    "pre": {CODE_CLASS},
    "span": {name for name in STANDARD_TYPES.values() if name},
}
URL_SCHEMES = {"http", "https", "mailto"}

# Rendered texts kept per process (each a few KB of HTML): the whole bank in both
# languages fits several times over.
CACHE_SIZE = 2048


def _highlight_fence(code: str, lang: str, _attrs: str) -> str:
    return str(highlight_code(code, lang))


_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "highlight": _highlight_fence})
_MD.enable("table")
_MD.enable("strikethrough")


def highlight_code(code: str, lang: str = "python") -> Markup:
    """A ``<pre class="highlight"><code>`` block, coloured by Pygments when ``lang`` is known."""
    return Markup(_highlight(code, lang))


@lru_cache(maxsize=CACHE_SIZE)
def _highlight(code: str, lang: str) -> str:
    try:
        lexer = get_lexer_by_name(lang, stripnl=False, ensurenl=True) if lang else None
    except ClassNotFound:
        lexer = None
    body = highlight(code, lexer, _FORMATTER) if lexer else str(escape(code))
    return f'<pre class="{CODE_CLASS}"><code>{body}</code></pre>'


def sanitize(html: str) -> str:
    """Strip everything not on the allow-list; links get ``rel="noopener noreferrer"``."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        filter_style_properties={"text-align"},
        strip_comments=True,
    )


def _shift_headings(tokens: list[Token], top_level: int) -> None:
    """Renumber headings so the biggest one in the text becomes ``<h{top_level}>``."""
    levels = [int(t.tag[1]) for t in tokens if t.type == "heading_open"]
    if not levels:
        return
    offset = top_level - min(levels)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, max(1, int(token.tag[1]) + offset))}"


def render_markdown(text: str | None, top_level: int | None = None) -> Markup:
    """Render Markdown to sanitized HTML.

    ``top_level`` (1-6) renumbers the text's headings so they fit under the page's own
    headings (e.g. ``2`` on a page whose ``<h1>`` is the title).
    """
    if not text:
        return Markup("")
    return Markup(_render_block(text, top_level))


@lru_cache(maxsize=CACHE_SIZE)
def _render_block(text: str, top_level: int | None) -> str:
    env: dict[str, Any] = {}
    tokens = _MD.parse(text, env)
    if top_level:
        _shift_headings(tokens, top_level)
    html = _MD.renderer.render(tokens, _MD.options, env)
    return sanitize(html)


def render_inline(text: str | None) -> Markup:
    """Render one line of inline Markdown (emphasis, code, links) without a ``<p>``."""
    if not text:
        return Markup("")
    return Markup(_render_inline(text))


@lru_cache(maxsize=CACHE_SIZE)
def _render_inline(text: str) -> str:
    return sanitize(_MD.renderInline(text))


_CACHES = (_render_block, _render_inline, _highlight)


def cache_info() -> dict[str, Any]:
    """Hits and misses of each memoized renderer (tests, benchmarks)."""
    return {cache.__name__.lstrip("_"): cache.cache_info() for cache in _CACHES}


def cache_clear() -> None:
    for cache in _CACHES:
        cache.cache_clear()


def pygments_css() -> str:
    """The stylesheet for highlighted code, scoped to ``pre.highlight``."""
    header = "/* Generated by `python -m app.markdown > static/css/pygments.css`. Do not edit. */\n"
    return header + HtmlFormatter(style=PYGMENTS_STYLE).get_style_defs(f".{CODE_CLASS}") + "\n"


def init_app(app: Flask) -> None:
    """Jinja filters: ``markdown`` (blocks), ``markdown_inline`` and ``highlight``."""
    app.add_template_filter(render_markdown, "markdown")
    app.add_template_filter(render_inline, "markdown_inline")
    app.add_template_filter(highlight_code, "highlight")


if __name__ == "__main__":
    print(pygments_css(), end="")
