"""Turn a d2l-book markdown section into a notebook of this book.

Usage: ``python -m frametabs.convert SECTION.md --out chapters/NAME.ipynb``.

The notebook starts with the book's set-up cell (in place of d2l-book's ``%load_ext
d2lbook.tab`` cell), has one Markdown cell per stretch of prose (:mod:`frametabs.d2l_markup`)
and a ``%%tab`` cell per d2l code cell, in either of d2l's dialects
(:mod:`frametabs.d2l_code`). It holds no outputs: run ``python -m frametabs.execute`` on it.
Prose for some frameworks shows as tabs in the book; a cell holding such tabs gives each
export its own framework's text instead (``metadata["frametabs"]["export"]``).

Two things differ from d2l, and the converter says so on stderr, one line each:

* cells and prose only for frameworks the book does not run (JAX, PaddlePaddle) are left
  out; a cell shared with them (``%%tab pytorch, jax``) keeps the book's frameworks;
* each run of framework cells must offer every framework (the build fails otherwise):
  where d2l has no code for one, a cell whose only line, a comment, says so is added at
  the end of the run.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from frametabs.d2l_code import is_current_dialect, is_load_cell, marker_line, read_code
from frametabs.d2l_markup import Targets, find_targets, tab_set, to_myst
from frametabs.d2l_source import CodeBlock, D2lSourceError, FrameworkProse, Prose, read_blocks
from frametabs.frameworks import (
    FRAMEWORKS,
    LABELS,
    OTHER_FRAMEWORKS,
    MarkerError,
    parse_marker,
    parse_targets,
)
from frametabs.setup_cell import SETUP_SOURCE
from frametabs.split import first_code_line

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
SETUP_METADATA = {"frametabs": {"export": False}, "tags": ["remove-cell"]}
PLACEHOLDER = "# O d2l não tem código em {label} para este trecho."
IMAGE = re.compile(r"!\[[^\]]*\]\((?!https?:)([^)\s]+)")
D2L_IMPORT = re.compile(r"^\s*(from d2l import|import d2l\b)", re.MULTILINE)


class ConversionError(ValueError):
    """A section that cannot be converted; the message starts with its line number."""


@dataclass
class Conversion:
    """The converted notebook and the notes for whoever converts it (English, one line each)."""

    notebook: nbformat.NotebookNode
    notes: list[str] = field(default_factory=list)


class _Builder:
    """Collects cells: prose waits until a code cell (or the end) closes its Markdown cell.

    A part of the pending Markdown is shared text or, for framework prose, a mapping from
    framework to its text: the book shows it as tabs, each export only its own text.
    """

    def __init__(self, targets: Targets):
        self.targets = targets
        self.cells = [new_code_cell(SETUP_SOURCE, metadata=SETUP_METADATA)]
        self.markdown: list[str | dict[str, str]] = []
        self.tabs: dict[str, list[str]] = {}
        self.dropped: Counter[str] = Counter()
        self.others: set[str] = set()

    def prose(self, block: Prose) -> None:
        self._close_tabs()
        self.markdown.append(to_myst(block.text, self.targets))

    def framework_prose(self, block: FrameworkProse) -> None:
        try:
            kept, others = parse_targets(", ".join(block.names))
        except MarkerError as error:
            raise ConversionError(f"line {block.line}: :begin_tab: {error}") from error
        self.others.update(others)
        if not kept:
            self.dropped["text block"] += 1
            return
        for framework in kept:
            self.tabs.setdefault(framework, []).append(to_myst(block.text, self.targets))

    def code(self, block: CodeBlock, current: bool) -> None:
        if is_load_cell(block.source):
            return
        try:
            code = read_code(block.source, current)
        except MarkerError as error:
            raise ConversionError(f"line {block.line}: {error}") from error
        self.others.update(code.others)
        if not code.frameworks:
            self.dropped["code cell"] += 1
            return
        cells = [(fws, body) for fws, body in code.cells() if body.strip()]
        if cells:
            self._close_markdown()
        for frameworks, body in cells:
            self.cells.append(new_code_cell(f"{marker_line(frameworks)}\n{body}"))

    def _close_tabs(self) -> None:
        if self.tabs:
            self.markdown.append({fw: "\n\n".join(texts) for fw, texts in self.tabs.items()})
            self.tabs = {}

    def _close_markdown(self) -> None:
        self._close_tabs()
        parts = [
            part for part in self.markdown if part and (isinstance(part, dict) or part.strip())
        ]
        self.markdown = []
        if not parts:
            return
        text = "\n\n".join(tab_set(part) if isinstance(part, dict) else part for part in parts)
        cell = new_markdown_cell(text)
        if any(isinstance(part, dict) for part in parts):
            cell.metadata["frametabs"] = {"export": _export_texts(parts)}
        self.cells.append(cell)

    def finish(self) -> list[nbformat.NotebookNode]:
        self._close_markdown()
        return self.cells


def _export_texts(parts: list[str | dict[str, str]]) -> dict[str, str | bool]:
    """Each export's text for a cell with framework prose: its own prose, no tabs."""
    texts: dict[str, str | bool] = {}
    for framework in FRAMEWORKS:
        own = [part.get(framework, "") if isinstance(part, dict) else part for part in parts]
        texts[framework] = "\n\n".join(text for text in own if text.strip()) or False
    return texts


def complete_groups(cells: list[nbformat.NotebookNode]) -> list[str]:
    """Add a placeholder cell for each framework a run of framework cells lacks; say where."""
    notes = []
    runs: list[list[int]] = [[]]
    for index, cell in enumerate(cells):
        marker = parse_marker(cell.source) if cell.cell_type == "code" else None
        if marker is None:
            runs.append([])
        else:
            runs[-1].append(index)
    for run in reversed([run for run in runs if run]):
        covered = {fw for i in run for fw in parse_marker(cells[i].source).frameworks}
        missing = [fw for fw in FRAMEWORKS if fw not in covered]
        for offset, framework in enumerate(missing, start=1):
            source = PLACEHOLDER.format(label=LABELS[framework])
            cells.insert(run[-1] + offset, new_code_cell(f"{marker_line((framework,))}\n{source}"))
        if missing:
            names = ", ".join(LABELS[fw] for fw in missing)
            first = first_code_line(parse_marker(cells[run[0]].source).body)
            notes.append(
                f"the code cells from {first!r} have no {names} code in d2l: "
                "added a cell saying so, as each tab group needs every framework"
            )
    return list(reversed(notes))


def _source_notes(cells: list[nbformat.NotebookNode]) -> list[str]:
    """What the notebook needs besides itself: d2l's library, the section's images."""
    notes = []
    if any(cell.cell_type == "code" and D2L_IMPORT.search(cell.source) for cell in cells):
        notes.append("the code imports d2l's library: install `d2l` where the notebook runs")
    for cell in cells:
        if cell.cell_type == "markdown":
            notes.extend(
                f"image {path}: copy it next to the notebook (or fix the path)"
                for path in IMAGE.findall(cell.source)
            )
    return notes


def _dropped_note(dropped: Counter[str], others: set[str]) -> list[str]:
    """The one line saying what was left out for d2l's other frameworks."""
    if not others:
        return []
    counts = " and ".join(f"{n} {kind}{'s' if n > 1 else ''}" for kind, n in dropped.items())
    names = ", ".join(label for name, label in OTHER_FRAMEWORKS.items() if name in others)
    book = ", ".join(LABELS[fw] for fw in FRAMEWORKS)
    left = f"left out {counts} for {names}" if counts else f"dropped {names} from shared cells"
    return [f"{left}: this book runs only {book}"]


def convert(text: str) -> Conversion:
    """The notebook for a d2l section's markdown ``text``; ``ConversionError`` if unreadable."""
    try:
        blocks = read_blocks(text)
    except D2lSourceError as error:
        raise ConversionError(str(error)) from error
    current = is_current_dialect([b.source for b in blocks if isinstance(b, CodeBlock)])
    builder = _Builder(find_targets(b.text for b in blocks if not isinstance(b, CodeBlock)))
    for block in blocks:
        if isinstance(block, Prose):
            builder.prose(block)
        elif isinstance(block, FrameworkProse):
            builder.framework_prose(block)
        else:
            builder.code(block, current)
    cells = builder.finish()
    notes = _dropped_note(builder.dropped, builder.others) + complete_groups(cells)
    notes += _source_notes(cells)
    for index, cell in enumerate(cells):
        cell.id = f"cell-{index:02d}"
    notebook = new_notebook(
        cells=cells, metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    )
    return Conversion(notebook, notes)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("section", type=Path, help="a d2l-book markdown section (.md)")
    parser.add_argument("--out", type=Path, required=True, help="the notebook to write")
    args = parser.parse_args(argv)
    try:
        conversion = convert(args.section.read_text(encoding="utf-8"))
    except ConversionError as error:
        print(f"{args.section}: {error}", file=sys.stderr)
        return 1
    for note in conversion.notes:
        print(f"{args.section}: {note}", file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(conversion.notebook, args.out)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
