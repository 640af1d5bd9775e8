"""Split each ``%%tab`` cell of a notebook into one plain cell per framework.

The book renders every framework in a tab of its own. A cell such as ``%%tab mxnet,
pytorch`` becomes two cells without the marker line, each holding only the outputs its
framework produced (the ``%%tab`` magic tags them) restored to their plain form: stream
text, rich display or the cell's result. Every new cell records where it came from in
``metadata["frametabs"]["origin"]``, so later stages can name the original cell in an error
(other keys under ``metadata["frametabs"]``, such as the exporter's, are kept).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import nbformat

from frametabs.frameworks import MarkerError, parse_marker
from frametabs.magic import OUTPUT_KEY

CELL_KEY = "frametabs"
ORIGIN_KEY = "origin"


class SplitError(ValueError):
    """A framework cell that cannot be split (bad marker or untagged output)."""


@dataclass(frozen=True)
class Origin:
    """Where a rendered framework cell came from in its notebook."""

    framework: str
    index: int
    first_line: str

    def describe(self) -> str:
        """Name the cell for an error message: its index and first line of code."""
        return f"cell index {self.index} ({self.first_line!r})"

    def as_metadata(self) -> dict[str, object]:
        """The JSON form stored under ``metadata["frametabs"]["origin"]``."""
        return {"framework": self.framework, "index": self.index, "first_line": self.first_line}

    @classmethod
    def from_metadata(cls, metadata: dict) -> Origin | None:
        """Read the origin back from cell metadata; None for a cell without one."""
        data = (metadata.get(CELL_KEY) or {}).get(ORIGIN_KEY)
        if not isinstance(data, dict):
            return None
        return cls(str(data["framework"]), int(data["index"]), str(data["first_line"]))


def first_code_line(body: str) -> str:
    """The first non-blank line of a cell body, stripped (empty for an empty body)."""
    return next((line.strip() for line in body.splitlines() if line.strip()), "")


def has_framework_cells(notebook: nbformat.NotebookNode) -> bool:
    """Whether any code cell of ``notebook`` starts with a ``%%tab`` marker."""
    return any(_marker(cell, index) for index, cell in enumerate(notebook.cells))


def split_notebook(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return a copy of ``notebook`` with every ``%%tab`` cell split per framework."""
    result = copy.deepcopy(notebook)
    cells = []
    for index, cell in enumerate(notebook.cells):
        marker = _marker(cell, index)
        if marker is None:
            cells.append(copy.deepcopy(cell))
            continue
        for framework in marker.frameworks:
            origin = Origin(framework, index, first_code_line(marker.body))
            outputs = (
                cell.get("outputs", [])
                if len(marker.frameworks) == 1
                else framework_outputs(cell, framework, origin)
            )
            cells.append(_framework_cell(cell, marker.body, outputs, origin))
    result.cells = cells
    return result


def framework_outputs(
    cell: nbformat.NotebookNode, framework: str, origin: Origin
) -> list[nbformat.NotebookNode]:
    """One framework's outputs of a multi-framework cell, back in their plain form."""
    outputs = []
    for position, output in enumerate(cell.get("outputs", [])):
        tag = output.get("metadata", {}).get(OUTPUT_KEY)
        if not isinstance(tag, dict) or "framework" not in tag:
            raise SplitError(
                f"{origin.describe()}: output {position} ({output.get('output_type')}) names "
                "no framework; re-run the notebook with %load_ext frametabs so that %%tab "
                "tags each output"
            )
        if tag["framework"] == framework:
            outputs.append(_restore(output, tag.get("kind"), cell.get("execution_count")))
    return outputs


def _marker(cell: nbformat.NotebookNode, index: int):
    """The cell's parsed marker, or None; a bad marker becomes a SplitError."""
    if cell.get("cell_type") != "code":
        return None
    try:
        return parse_marker(cell.source)
    except MarkerError as error:
        first = cell.source.partition("\n")[0]
        raise SplitError(f"cell index {index} ({first!r}): {error}") from error


def _framework_cell(
    cell: nbformat.NotebookNode, body: str, outputs: list, origin: Origin
) -> nbformat.NotebookNode:
    """A copy of ``cell`` for one framework: marker dropped, its own outputs and id."""
    new = copy.deepcopy(cell)
    new.source = body
    new.outputs = copy.deepcopy(outputs)
    new.metadata[CELL_KEY] = {**new.metadata.get(CELL_KEY, {}), ORIGIN_KEY: origin.as_metadata()}
    if "id" in new:
        new.id = f"{cell.id}-{origin.framework}"
    return new


def _restore(output: nbformat.NotebookNode, kind: str | None, count: int | None):
    """Turn a tagged display_data back into the stream, display or result it was."""
    metadata = {
        key: value for key, value in output.get("metadata", {}).items() if key != OUTPUT_KEY
    }
    data = output.get("data", {})
    if kind in ("stdout", "stderr"):
        return nbformat.v4.new_output("stream", name=kind, text=data.get("text/plain", "") + "\n")
    if kind == "result":
        return nbformat.v4.new_output(
            "execute_result", data=data, metadata=metadata, execution_count=count
        )
    if kind == "display":
        return nbformat.v4.new_output("display_data", data=data, metadata=metadata)
    raise SplitError(f"output kind {kind!r} is not one of stdout, stderr, display, result")
