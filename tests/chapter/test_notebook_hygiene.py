"""Rules every notebook in chapters/ follows: justified output skips, complete tab groups."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from frametabs.frameworks import FRAMEWORKS, parse_marker
from frametabs.groups import consecutive_runs

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted([*(ROOT / "chapters").glob("*.ipynb"), *(ROOT / "instructor").glob("*.ipynb")])
SKIP_TAGS = {"nbval-ignore-output", "nbval-skip", "nbval-raises-exception"}
REASON_KEY = "nbval_ignore_output_reason"


def unjustified_skips(notebook):
    """Indices of cells that skip nbval's comparison without a written reason."""
    return [
        index
        for index, cell in enumerate(notebook.cells)
        if SKIP_TAGS & set(cell.metadata.get("tags", []))
        and len(str(cell.metadata.get(REASON_KEY, "")).strip()) < 20
    ]


def incomplete_groups(notebook):
    """(first cell index, frameworks) of each run of framework cells lacking one framework."""

    def framework_of(indexed):
        _, cell = indexed
        marker = parse_marker(cell.source) if cell.cell_type == "code" else None
        return None if marker is None else marker.frameworks

    problems = []
    for group in consecutive_runs(enumerate(notebook.cells), framework_of):
        covered = {fw for frameworks, _ in group.members for fw in frameworks}
        if covered != set(FRAMEWORKS):
            problems.append((group.members[0][1][0], sorted(covered)))
    return problems


def test_there_are_notebooks_to_check():
    assert ROOT / "chapters" / "custom-layers.ipynb" in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_output_skip_has_a_reason(path):
    assert unjustified_skips(nbformat.read(path, as_version=4)) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_framework_group_has_all_three(path):
    assert incomplete_groups(nbformat.read(path, as_version=4)) == []


def test_rules_catch_violations():
    cell = nbformat.v4.new_code_cell("%%tab pytorch\nx", metadata={"tags": ["nbval-ignore-output"]})
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("a"), cell])
    assert unjustified_skips(notebook) == [1]
    assert incomplete_groups(notebook) == [(1, ["pytorch"])]
