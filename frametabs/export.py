"""Per-framework exports: one plain notebook per framework, with no ``%%tab`` markers.

Each export keeps the prose, the shared code cells and that framework's cells, with the
marker line removed and the stored outputs kept, so it runs in an environment that has
only that framework installed. Its Markdown reads as a single-framework notebook that stands
alone (:mod:`frametabs.export_text`): export texts replace the cells that speak of the tabs,
links to sibling notebooks point at the same framework's exports, images are attachments.

Usage: ``python -m frametabs.export chapters --out exports [--check]``.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import sys
import tempfile
from collections.abc import Collection
from pathlib import Path
from typing import Any

from frametabs.export_text import drop_export_setting, export_markdown_cell, export_setting
from frametabs.frameworks import FRAMEWORKS, parse_marker
from frametabs.magic import OUTPUT_KEY
from frametabs.split import Origin, first_code_line, framework_outputs, has_framework_cells

EXTENSION_LINES = ("%load_ext frametabs", "%reload_ext frametabs")


def export_path(notebook: Path, framework: str, out_dir: Path) -> Path:
    """Where the export of ``notebook`` for ``framework`` lives."""
    return out_dir / f"{notebook.stem}.{framework}.ipynb"


def _strip_extension_lines(source: str) -> str:
    lines = [line for line in source.splitlines() if line.strip() not in EXTENSION_LINES]
    return "\n".join(lines).strip("\n")


def export_notebook(
    notebook: Any,
    framework: str,
    *,
    source_dir: Path | None = None,
    siblings: Collection[str] = (),
) -> Any:
    """A copy of ``notebook`` holding only what ``framework`` needs.

    Cells whose metadata says ``{"frametabs": {"export": false}}`` (notes about the
    three-framework notebook itself) are left out; Markdown cells are adapted by
    :func:`frametabs.export_text.export_markdown_cell`. ``source_dir`` is the notebook's
    folder (for its images) and ``siblings`` the stems of the notebooks that have exports.
    """
    if framework not in FRAMEWORKS:
        raise ValueError(f"unknown framework {framework!r}; expected one of {FRAMEWORKS}")
    exported = copy.deepcopy(notebook)
    cells = []
    for index, cell in enumerate(exported.cells):
        kept = _export_cell(index, cell, framework, source_dir, siblings)
        if kept is not None:
            drop_export_setting(kept)
            cells.append(kept)
    exported.cells = cells
    exported.metadata[OUTPUT_KEY] = {"framework": framework}
    return exported


def _export_cell(
    index: int, cell: Any, framework: str, source_dir: Path | None, siblings: Collection[str]
) -> Any | None:
    """The exported form of one cell, or None when the export leaves it out."""
    if cell.cell_type == "markdown":
        return export_markdown_cell(cell, framework, source_dir=source_dir, siblings=siblings)
    if export_setting(cell, framework) is False:
        return None
    if cell.cell_type != "code":
        return cell
    marker = parse_marker(cell.source)
    if marker is None:
        cell.source = _strip_extension_lines(cell.source)
        return cell if cell.source.strip() else None
    if framework not in marker.frameworks:
        return None
    if len(marker.frameworks) > 1:
        origin = Origin(framework, index, first_code_line(marker.body))
        cell.outputs = framework_outputs(cell, framework, origin)
    cell.source = marker.body.strip("\n")
    return cell


def exported_stems(folder: Path) -> frozenset[str]:
    """The stems of the notebooks in ``folder`` that get per-framework exports."""
    import nbformat

    return frozenset(
        path.stem
        for path in folder.glob("*.ipynb")
        if has_framework_cells(nbformat.read(path, as_version=4))
    )


def export_all(notebooks: list[Path], out_dir: Path) -> list[Path]:
    """Write every export of ``notebooks`` (those with framework cells) into ``out_dir``."""
    import nbformat

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        if not has_framework_cells(notebook):
            continue
        siblings = exported_stems(path.parent)
        for framework in FRAMEWORKS:
            target = export_path(path, framework, out_dir)
            exported = export_notebook(
                notebook, framework, source_dir=path.parent, siblings=siblings
            )
            nbformat.write(exported, target)
            written.append(target)
    return written


def stale_exports(notebooks: list[Path], out_dir: Path) -> list[str]:
    """Describe every export in ``out_dir`` that regenerating would change or create."""
    problems = []
    with tempfile.TemporaryDirectory() as fresh_dir:
        for fresh in export_all(notebooks, Path(fresh_dir)):
            committed = out_dir / fresh.name
            if not committed.exists():
                problems.append(f"{committed}: missing")
                continue
            old, new = committed.read_text().splitlines(), fresh.read_text().splitlines()
            if old != new:
                diff = list(difflib.unified_diff(old, new, str(committed), "regenerated", n=1))
                problems.append("\n".join(diff[:40]))
    return problems


def find_notebooks(paths: list[Path]) -> list[Path]:
    """Notebooks named directly or found (non-recursively) in the given folders."""
    found = []
    for path in paths:
        found.extend(sorted(path.glob("*.ipynb")) if path.is_dir() else [path])
    return found


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help="notebooks or folders of notebooks")
    parser.add_argument("--out", type=Path, default=Path("exports"))
    parser.add_argument("--check", action="store_true", help="fail if the exports are stale")
    args = parser.parse_args(argv)
    notebooks = find_notebooks(args.paths)
    if args.check:
        problems = stale_exports(notebooks, args.out)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("exports are stale: run `make exports`", file=sys.stderr)
        return 1 if problems else 0
    for path in export_all(notebooks, args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
