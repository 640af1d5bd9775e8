"""Read a d2l-book markdown section into blocks: prose, framework prose and code cells.

d2l-book keeps a section's code cells in fences whose info string is a class list:
``{.python .input}``, ``{.python .input  n=1}`` or ``{.python .input #some-id}``. Fences of
stored outputs (``{.json .output n=1}``) are dropped: the converted notebook is run again.
Prose written for some frameworks only sits between a ``:begin_tab:`pytorch``` line and an
``:end_tab:`` line. Any other fence (```` ```python ````, ```` ```eval_rst ````) is prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FENCE = re.compile(r"^(`{3,}|~{3,})\s*(.*?)\s*$")
BEGIN_TAB = re.compile(r"^:begin_tab:`([^`]*)`$")
END_TAB = ":end_tab:"


class D2lSourceError(ValueError):
    """A section d2l-book itself could not read: an unclosed fence or framework block."""


@dataclass(frozen=True)
class Prose:
    """Markdown shown to every reader; ``line`` is where it starts (1-based)."""

    text: str
    line: int


@dataclass(frozen=True)
class FrameworkProse:
    """Markdown for the frameworks named by its ``:begin_tab:`` line (lower case, d2l's)."""

    names: tuple[str, ...]
    text: str
    line: int


@dataclass(frozen=True)
class CodeBlock:
    """The source of one ``{.python .input}`` fence; ``line`` is the fence's line."""

    source: str
    line: int


Block = Prose | FrameworkProse | CodeBlock


def fence_classes(info: str) -> frozenset[str] | None:
    """The classes of a ``{.python .input  n=1}`` info string; None for a plain one."""
    if not (info.startswith("{") and info.endswith("}")):
        return None
    return frozenset(word[1:] for word in info[1:-1].split() if word.startswith("."))


def _closing_fence(lines: list[str], start: int, opening: str) -> int:
    """Index of the line closing the fence opened at ``start`` by ``opening`` (``` or ~~~)."""
    for index in range(start + 1, len(lines)):
        stripped = lines[index].strip()
        if stripped and set(stripped) == {opening[0]} and len(stripped) >= len(opening):
            return index
    raise D2lSourceError(f"line {start + 1}: the code fence is never closed")


class _Reader:
    """Accumulates prose lines and emits blocks as code cells and framework blocks end it."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.lines: list[str] = []
        self.start = 1
        self.tab: tuple[tuple[str, ...], int] | None = None

    def add(self, lines: list[str], number: int) -> None:
        if not self.lines:
            self.start = number
        self.lines.extend(lines)

    def flush(self) -> None:
        text = "\n".join(self.lines).strip("\n")
        if self.tab is not None:
            names, line = self.tab
            self.blocks.append(FrameworkProse(names, text, line))
        elif text.strip():
            self.blocks.append(Prose(text, self.start))
        self.lines = []


def read_blocks(text: str) -> list[Block]:
    """The section's blocks in page order (whitespace-only prose is left out)."""
    lines = text.splitlines()
    reader = _Reader()
    index = 0
    while index < len(lines):
        line, number = lines[index], index + 1
        fence = FENCE.match(line)
        if fence:
            end = _closing_fence(lines, index, fence[1])
            classes = fence_classes(fence[2]) or frozenset()
            if "input" in classes:
                if reader.tab is not None:
                    raise D2lSourceError(f"line {number}: a code cell inside :begin_tab:")
                reader.flush()
                reader.blocks.append(CodeBlock("\n".join(lines[index + 1 : end]), number))
            elif "output" not in classes:
                reader.add(lines[index : end + 1], number)
            index = end + 1
            continue
        begin = BEGIN_TAB.match(line.strip())
        if begin:
            if reader.tab is not None:
                raise D2lSourceError(f"line {number}: :begin_tab: before the last :end_tab:")
            reader.flush()
            names = tuple(name.strip().lower() for name in begin[1].split(",") if name.strip())
            reader.tab = (names, number)
        elif line.strip() == END_TAB:
            if reader.tab is None:
                raise D2lSourceError(f"line {number}: :end_tab: without :begin_tab:")
            reader.flush()
            reader.tab = None
        else:
            reader.add([line], number)
        index += 1
    if reader.tab is not None:
        raise D2lSourceError(f"line {reader.tab[1]}: :begin_tab: is never closed by :end_tab:")
    reader.flush()
    return reader.blocks
