"""Parser for book-chapter Markdown files of interview questions.

The format (see ``shared/seeds/ch14-sockets-zh.md``) is an opening part -- a chapter
heading ``## ...``, a section heading ``### ...`` and overview text -- followed by
questions, each introduced by a line ``#### 面试题N``.  Inside a question, labelled parts
begin with the lines ``面试题目：`` (prompt, text may follow on the same line),
``面试题考点：`` (a bullet list of key points), ``答案或代码：`` (answer, optional) and
``答案或代码解析：`` (explanation).  Full-width ``：`` and ASCII ``:`` are both accepted.

The module is pure standard library: it knows nothing about Flask or the database.  The
whole input is parsed and validated before anything is returned, so a caller can import
all or nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "Chapter",
    "ChapterFormatError",
    "ChapterQuestion",
    "CodeBlock",
    "parse_chapter",
]


@dataclass(frozen=True)
class CodeBlock:
    language: str  # first word of the fence's info string ("python"), "" when none
    code: str  # the lines between the fences, trailing newline kept
    label: str  # preceding "服务器端：" style line without its colon, else ""
    line: int  # 1-based line of the opening fence


@dataclass(frozen=True)
class ChapterQuestion:
    number: int  # N from "#### 面试题N"
    line: int  # 1-based line of the question heading
    prompt: str  # Markdown
    key_points: list[str]  # each bullet's text, Markdown inline, stripped
    answer: str  # Markdown of the 答案或代码 part, "" if absent
    explanation: str  # Markdown of the 答案或代码解析 part, "" if absent
    code_blocks: list[CodeBlock]  # every fenced block of the question, in order


@dataclass(frozen=True)
class Chapter:
    title: str  # the "###" section heading, else the "##" chapter heading, else ""
    overview: str  # Markdown between the title heading and the first question
    questions: list[ChapterQuestion]


class ChapterFormatError(ValueError):
    """The input is not a well-formed chapter; ``line`` is 1-based or ``None``."""

    def __init__(self, message: str, line: int | None, source: str = "<input>") -> None:
        self.message = message
        self.line = line
        self.source = source
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {message}")

    def __reduce__(self) -> tuple[type[ChapterFormatError], tuple[str, int | None, str]]:
        # Keep the exception picklable (e.g. when it crosses a job-queue boundary).
        return (type(self), (self.message, self.line, self.source))


# --- labels and line patterns ------------------------------------------------------------

PROMPT = "面试题目"
KEY_POINTS = "面试题考点"
ANSWER = "答案或代码"
EXPLANATION = "答案或代码解析"

_LABEL_RE = re.compile(
    r"^ {0,3}(?P<label>面试题目|面试题考点|答案或代码解析|答案或代码)[ \t]*[：:][ \t]*(?P<rest>.*)$"
)
_ATX_RE = re.compile(r"^ {0,3}(?P<hashes>#{1,6})(?:[ \t]+(?P<text>.*?))?[ \t]*$")
_CLOSING_HASHES_RE = re.compile(r"(?:^|[ \t]+)#+$")
_QUESTION_RE = re.compile(r"面试题[ \t]*(?P<number>\d+)[ \t]*[：:.]?")
_QUESTION_PREFIX_RE = re.compile(r"面试题[ \t]*\d")
_FENCE_OPEN_RE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_BULLET_RE = re.compile(r"^ {0,3}(?:[*+-]|\d{1,9}[.)])(?:[ \t]+(?P<text>.*))?$")
_STAR_BULLET_RE = re.compile(r"^ {0,3}\*[ \t]+(?=\S)")
_THEMATIC_BREAK_RE = re.compile(r"^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")
_NEWLINE_RE = re.compile(r"\r\n|\r|\n")
_TOC_MARKER = ("* TOC", "{:toc}")


@dataclass
class _Fence:
    start: int  # 0-based index of the opening fence line
    end: int  # 0-based index of the closing fence line
    language: str
    code: str


@dataclass
class _Part:
    label: str
    index: int  # 0-based index of the label line
    rest: str  # text after the label's colon on the same line
    lines: list[int]  # 0-based indices of the following lines that belong to the part


# --- public entry point --------------------------------------------------------------------


def parse_chapter(data: bytes | str, source: str = "<input>") -> Chapter:
    """Parse a whole chapter, raising ChapterFormatError (with a line) if it is malformed."""
    text = _decode(data, source)
    lines = _NEWLINE_RE.split(text)
    if lines and lines[-1] == "":
        lines.pop()  # the final newline does not start another line
    in_code, fences = _scan_fences(lines, source)

    headings = _question_headings(lines, in_code, source)
    if not headings:
        raise ChapterFormatError(
            "no questions found (expected '#### 面试题N' headings)", None, source
        )
    first_seen: dict[int, int] = {}
    for index, number in headings:
        if number in first_seen:
            raise ChapterFormatError(
                f"duplicate question number {number} (first at line {first_seen[number] + 1})",
                index + 1,
                source,
            )
        first_seen[number] = index

    title, overview = _opening(lines, in_code, headings[0][0])

    questions = []
    bounds = [index for index, _ in headings] + [len(lines)]
    for (index, number), stop in zip(headings, bounds[1:], strict=False):
        questions.append(_question(lines, in_code, fences, index, stop, number, source))
    return Chapter(title=title, overview=overview, questions=questions)


# --- decoding and fences -------------------------------------------------------------------


def _decode(data: bytes | str, source: str) -> str:
    if isinstance(data, str):
        text = data
    elif isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            prefix = raw[: exc.start].decode("utf-8")  # valid up to the first bad byte
            line = len(_NEWLINE_RE.split(prefix))
            raise ChapterFormatError(
                f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
                line,
                source,
            ) from None
    else:
        raise TypeError(f"parse_chapter() needs bytes or str, not {type(data).__name__}")
    return text.removeprefix("\ufeff")


def _scan_fences(lines: list[str], source: str) -> tuple[list[bool], dict[int, _Fence]]:
    """Mark the lines of fenced code blocks (fences included) and collect the blocks."""
    in_code = [False] * len(lines)
    fences: dict[int, _Fence] = {}
    i = 0
    while i < len(lines):
        match = _FENCE_OPEN_RE.match(lines[i])
        if not match or (match["fence"][0] == "`" and "`" in match["info"]):
            i += 1
            continue
        indent = len(match["indent"])
        marker = match["fence"]
        closing = re.compile(rf"^ *{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$")
        end = next((j for j in range(i + 1, len(lines)) if closing.match(lines[j])), None)
        if end is None:
            raise ChapterFormatError(f"unclosed code fence {marker!r}", i + 1, source)
        body = [_strip_indent(line, indent) for line in lines[i + 1 : end]]
        info = match["info"].strip()
        fences[i] = _Fence(
            start=i,
            end=end,
            language=info.split()[0] if info else "",
            code="".join(line + "\n" for line in body),
        )
        for j in range(i, end + 1):
            in_code[j] = True
        i = end + 1
    return in_code, fences


def _strip_indent(line: str, indent: int) -> str:
    """Remove up to ``indent`` leading spaces, as CommonMark does for indented fences."""
    width = len(line) - len(line.lstrip(" "))
    return line[min(width, indent) :]


# --- headings and the opening part ---------------------------------------------------------


def _heading(line: str) -> tuple[int, str] | None:
    match = _ATX_RE.match(line)
    if not match:
        return None
    text = _CLOSING_HASHES_RE.sub("", match["text"] or "").strip()
    return len(match["hashes"]), text


def _question_headings(lines: list[str], in_code: list[bool], source: str) -> list[tuple[int, int]]:
    found = []
    for index, line in enumerate(lines):
        if in_code[index]:
            continue
        heading = _heading(line)
        if heading is None or heading[0] != 4:
            continue
        match = _QUESTION_RE.fullmatch(heading[1])
        if match:
            found.append((index, int(match["number"])))
        elif _QUESTION_PREFIX_RE.match(heading[1]):
            raise ChapterFormatError(
                f"malformed question heading {heading[1]!r} (expected '#### 面试题N')",
                index + 1,
                source,
            )
    return found


def _opening(lines: list[str], in_code: list[bool], stop: int) -> tuple[str, str]:
    """Title and overview Markdown from the lines before the first question."""
    firsts: dict[int, tuple[int, str]] = {}
    for index in range(stop):
        if in_code[index]:
            continue
        heading = _heading(lines[index])
        if heading and heading[0] in (2, 3) and heading[0] not in firsts:
            firsts[heading[0]] = (index, heading[1])
    chosen = firsts.get(3) or firsts.get(2)
    if chosen is not None:
        title, start = chosen[1], chosen[0] + 1
    else:
        title, start = "", 0
        first = next((i for i in range(stop) if lines[i].strip()), stop)
        if first + 1 < stop and tuple(s.strip() for s in lines[first : first + 2]) == _TOC_MARKER:
            start = first + 2  # kramdown's "* TOC / {:toc}" marker is not prose
    return title, _markdown(lines, in_code, list(range(start, stop)))


# --- questions -----------------------------------------------------------------------------


def _question(
    lines: list[str],
    in_code: list[bool],
    fences: dict[int, _Fence],
    heading: int,
    stop: int,
    number: int,
    source: str,
) -> ChapterQuestion:
    name = f"面试题{number}"
    parts: dict[str, _Part] = {}
    current: _Part | None = None
    for index in range(heading + 1, stop):
        line = lines[index]
        if not in_code[index]:
            nested = _heading(line)
            if nested is not None and nested[0] <= 4:
                raise ChapterFormatError(
                    f"unexpected heading {line.strip()!r} inside {name} "
                    "(only '#####' and deeper may appear inside a question)",
                    index + 1,
                    source,
                )
            match = _LABEL_RE.match(line)
            if match:
                label = match["label"]
                if label in parts:
                    raise ChapterFormatError(
                        f"{name} has a second '{label}：' part "
                        f"(first at line {parts[label].index + 1})",
                        index + 1,
                        source,
                    )
                current = _Part(label, index, match["rest"].rstrip(), [])
                parts[label] = current
                continue
        if current is None:
            if line.strip():
                raise ChapterFormatError(
                    f"text before the first labelled part of {name} (expected '{PROMPT}：')",
                    index + 1,
                    source,
                )
            continue
        current.lines.append(index)

    prompt_part = parts.get(PROMPT)
    prompt = _part_markdown(lines, in_code, prompt_part)
    if not prompt:
        what = "an empty" if prompt_part else "no"
        raise ChapterFormatError(f"{name} has {what} '{PROMPT}：' prompt", heading + 1, source)

    key_points: list[str] = []
    if KEY_POINTS in parts:
        key_points = _key_points(lines, in_code, parts[KEY_POINTS], name, source)

    answer = _part_markdown(lines, in_code, parts.get(ANSWER))
    explanation = _part_markdown(lines, in_code, parts.get(EXPLANATION))
    if not answer and not explanation:
        raise ChapterFormatError(
            f"{name} has no answer (neither '{ANSWER}：' nor '{EXPLANATION}：' has content)",
            heading + 1,
            source,
        )

    blocks = []
    for part in sorted(parts.values(), key=lambda p: p.index):
        for position, index in enumerate(part.lines):
            fence = fences.get(index)
            if fence is None:
                continue
            blocks.append(
                CodeBlock(
                    language=fence.language,
                    code=fence.code,
                    label=_code_label(lines, in_code, part, position),
                    line=index + 1,
                )
            )
    blocks.sort(key=lambda block: block.line)

    return ChapterQuestion(
        number=number,
        line=heading + 1,
        prompt=prompt,
        key_points=key_points,
        answer=answer,
        explanation=explanation,
        code_blocks=blocks,
    )


def _key_points(
    lines: list[str], in_code: list[bool], part: _Part, name: str, source: str
) -> list[str]:
    """The bullet texts of a 面试题考点 part; continuation lines are joined with a space."""
    entries = ([(part.index, part.rest)] if part.rest else []) + [
        (index, lines[index]) for index in part.lines
    ]
    items: list[list[str]] = []
    after_blank = False
    for index, line in entries:
        if not line.strip():
            after_blank = True
            continue
        match = None if in_code[index] else _BULLET_RE.match(line)
        if match:
            text = (match["text"] or "").strip()
            if not text:
                raise ChapterFormatError(
                    f"empty bullet in '{KEY_POINTS}' of {name}", index + 1, source
                )
            items.append([text])
        elif items and not in_code[index] and (not after_blank or line.startswith("  ")):
            items[-1].append(line.strip())  # continuation of the previous bullet
        else:
            raise ChapterFormatError(
                f"'{KEY_POINTS}' of {name} must be a bullet list; unexpected line {line.strip()!r}",
                index + 1,
                source,
            )
        after_blank = False
    if not items:
        raise ChapterFormatError(f"'{KEY_POINTS}' of {name} has no bullets", part.index + 1, source)
    return [" ".join(item) for item in items]


def _code_label(lines: list[str], in_code: list[bool], part: _Part, position: int) -> str:
    """The label of the fence at ``part.lines[position]``: the nearest preceding non-empty
    line of the same part, if it is text ending with a colon (e.g. ``服务器端：``)."""
    previous = None
    for index in reversed(part.lines[:position]):
        if lines[index].strip():
            if in_code[index]:
                return ""  # directly after another code block
            previous = lines[index]
            break
    if previous is None:
        previous = part.rest
    text = previous.strip()
    bullet = _BULLET_RE.match(text)
    if bullet and not _THEMATIC_BREAK_RE.match(text):
        text = (bullet["text"] or "").strip()
    text = _unwrap_emphasis(text)  # tolerate **服务器端：**
    if text.endswith(("：", ":")) and not _heading(text):
        return _unwrap_emphasis(text[:-1])  # and **服务器端**：
    return ""


def _unwrap_emphasis(text: str) -> str:
    text = text.strip()
    for mark in ("**", "__", "*", "_"):
        if len(text) > 2 * len(mark) and text.startswith(mark) and text.endswith(mark):
            return text[len(mark) : -len(mark)].strip()
    return text


# --- Markdown rendering --------------------------------------------------------------------


def _part_markdown(lines: list[str], in_code: list[bool], part: _Part | None) -> str:
    if part is None:
        return ""
    head = [part.rest] if part.rest else []
    return _markdown(lines, in_code, part.lines, head)


def _markdown(
    lines: list[str], in_code: list[bool], indices: list[int], head: list[str] | None = None
) -> str:
    """Markdown of the given lines: code fences verbatim; elsewhere trailing whitespace is
    dropped (but a two-space hard break before a following line is kept) and ``*`` bullets
    become ``-``.  Leading and trailing blank lines are removed."""
    rows: list[tuple[str, bool]] = [(text, False) for text in head or []]
    rows += [(lines[index], in_code[index]) for index in indices]
    out: list[str] = []
    for position, (text, code) in enumerate(rows):
        if code:
            out.append(text)
            continue
        stripped = text.rstrip()
        following = rows[position + 1][0] if position + 1 < len(rows) else ""
        if stripped and text.endswith("  ") and following.strip() and not _heading(stripped):
            stripped += "  "  # Markdown hard line break
        if not _THEMATIC_BREAK_RE.match(stripped):
            stripped = _STAR_BULLET_RE.sub("- ", stripped)
        out.append(stripped)
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out)
