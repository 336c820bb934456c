"""YAML for files from outside (bank archives, imported questions): plain data only.

``yaml.safe_load`` already refuses Python objects, but it still expands aliases: a few
hundred bytes of nested ``&a [*b, *b, ...]`` anchors become billions of list items once
something walks them (a 575-byte zip reached 2.2 GB). :class:`StrictLoader` refuses, with
the line, every anchor and alias, every tag but plain strings, numbers, booleans, null,
lists and mappings (so no ``!!binary``, ``!!set``, dates, ``<<`` merge keys), and nesting
deeper than :data:`MAX_DEPTH`. Nothing here needs Flask: the grading engine may use it.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_DEPTH = 32
_CORE = "tag:yaml.org,2002:"
ALLOWED_TAGS = {f"{_CORE}{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map")}


class RefusedYaml(yaml.MarkedYAMLError):
    """Valid YAML that we do not accept; ``problem_mark`` locates it (0-based line)."""

    def __init__(self, problem: str, mark: yaml.Mark | None):
        super().__init__(problem=problem, problem_mark=mark)


class StrictLoader(yaml.SafeLoader):
    """A SafeLoader that composes plain data only (see the module's docstring)."""

    def __init__(self, stream: Any):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:  # type: ignore[override]
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise RefusedYaml(
                f"aliases (*{event.anchor}) are not allowed: write the value out",
                event.start_mark,
            )
        if getattr(event, "anchor", None) is not None:
            raise RefusedYaml(
                f"anchors (&{event.anchor}) are not allowed: write the value out",
                event.start_mark,
            )
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise RefusedYaml(f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node.tag not in ALLOWED_TAGS:
            shown = node.tag.replace(_CORE, "!!")
            raise RefusedYaml(
                f"the tag {shown} is not allowed: only strings, numbers, booleans, null, "
                "lists and mappings (quote the value to make it a string)",
                node.start_mark,
            )
        return node


def load(text: str) -> Any:
    """Parse ``text`` as plain data; raises ``yaml.YAMLError`` (``RefusedYaml`` included)."""
    loader = StrictLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def check(text: str) -> None:
    """Raise ``yaml.YAMLError`` unless :func:`load` would accept ``text``, without building
    any Python object (for text another function parses afterwards)."""
    loader = StrictLoader(text)
    try:
        loader.get_single_node()
    finally:
        loader.dispose()
