"""A d2l code cell in this book's terms: the frameworks it is for and its code.

d2l-book marks a cell's frameworks on its first line, in one of two dialects:

* the current one (d2l-en 1.x): ``%%tab pytorch``, ``%%tab mxnet, tensorflow`` or
  ``%%tab all``; a cell without it runs for every framework. The section starts with
  d2l-book's own cell, ``%load_ext d2lbook.tab`` and ``tab.interact_select(...)``;
* the older one (d2l-pt, early d2l-en): ``#@tab pytorch`` (or ``# @tab``, ``#@tab all``);
  a cell without it is MXNet's.

The code loses d2l's ``#@save`` marks (they feed d2l's own library), and a cell that
branches on ``tab.selected(...)`` becomes one cell per framework
(:mod:`frametabs.d2l_selected`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from frametabs.d2l_selected import resolve_selected, uses_selected
from frametabs.frameworks import FRAMEWORKS, MARKER, parse_targets

LOAD_EXTENSION = re.compile(r"^%load_ext\s+d2lbook\.tab\s*$")
TAB_COMMENT = re.compile(r"^#\s*@tab\s+(.*)$")
SAVE_MARK = re.compile(r"\s*#\s*@save\s*$")
CURRENT_DEFAULT = "all"
OLDER_DEFAULT = "mxnet"


@dataclass(frozen=True)
class D2lCode:
    """A d2l cell read: the book's frameworks, d2l's others (``jax``...) and the code."""

    frameworks: tuple[str, ...]
    others: tuple[str, ...]
    body: str

    def cells(self) -> list[tuple[tuple[str, ...], str]]:
        """(frameworks, code) of the cells it becomes: one per framework if it branches."""
        if not self.frameworks:
            return []
        if not uses_selected(self.body):
            return [(self.frameworks, self.body)]
        return [((fw,), resolve_selected(self.body, fw).strip("\n")) for fw in self.frameworks]


def _first_line(source: str) -> tuple[str, str]:
    """The first non-blank line of ``source`` (stripped) and the lines after it."""
    lines = source.split("\n")
    for index, line in enumerate(lines):
        if line.strip():
            return line.strip(), "\n".join(lines[index + 1 :])
    return "", ""


def is_load_cell(source: str) -> bool:
    """Whether this is d2l-book's ``%load_ext d2lbook.tab`` cell."""
    return any(LOAD_EXTENSION.match(line.strip()) for line in source.split("\n"))


def is_current_dialect(sources: list[str]) -> bool:
    """Whether a section's code cells use ``%%tab`` (else ``#@tab``, unmarked = MXNet)."""
    return any(
        is_load_cell(source) or _first_line(source)[0].split(maxsplit=1)[:1] == [MARKER]
        for source in sources
    )


def strip_save_marks(code: str) -> str:
    """``code`` without d2l's ``#@save`` comments (a line holding only one goes)."""
    kept = []
    for line in code.split("\n"):
        stripped = SAVE_MARK.sub("", line)
        if stripped.strip() or not line.strip():
            kept.append(stripped)
    return "\n".join(kept)


def read_code(source: str, current: bool) -> D2lCode:
    """The cell's frameworks (``MarkerError`` for an unknown name) and its code."""
    first, rest = _first_line(source)
    words = first.split(maxsplit=1)
    comment = TAB_COMMENT.match(first)
    if words[:1] == [MARKER]:
        spec, body = (words[1] if len(words) > 1 else ""), rest
    elif comment:
        spec, body = comment[1], rest
    else:
        spec, body = (CURRENT_DEFAULT if current else OLDER_DEFAULT), source
    frameworks, others = parse_targets(spec)
    return D2lCode(frameworks, others, strip_save_marks(body).strip("\n"))


def marker_line(frameworks: tuple[str, ...]) -> str:
    """This book's marker for ``frameworks``: ``%%tab all`` when it is all of them."""
    spec = "all" if frameworks == FRAMEWORKS else ", ".join(frameworks)
    return f"{MARKER} {spec}"
