"""Assemble, execute and write the student and instructor copies of the exercise notebook."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from exercises import statements
from exercises.examples import write_fourier_figure
from exercises.exercises import EXERCISES
from exercises.stubs import check_source, stub_source, tab_cell
from frametabs.execute import run_in_kernel
from frametabs.export_text import EXPORT_KEY
from frametabs.frameworks import FRAMEWORKS
from frametabs.magic import OUTPUT_KEY
from frametabs.setup_cell import SETUP_SOURCE

STUDENT_PATH = Path("chapters/exercises.ipynb")
INSTRUCTOR_PATH = Path("instructor/exercises-solutions.ipynb")
FIGURE_PATH = Path("chapters/images/exercise-fourier-half.png")
ARTEFACTS: tuple[Path, ...] = (STUDENT_PATH, INSTRUCTOR_PATH, FIGURE_PATH)

UPDATE_COMMAND = "python -m exercises"
CHECK_TAG = "check"
SETUP_TAGS = ["remove-cell"]
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}

INSTRUCTOR_NOTE = """\
> **Cópia do instrutor** (fora do livro): as soluções de referência de `solutions/` no lugar
> dos esboços, executadas, com todas as verificações passando. Não a distribua aos alunos.
> Gerada por `{command}`; não a edite à mão."""

SourceFunction = Callable[[str, str], str]


def reference_source(class_name: str, framework: str) -> str:
    """The reference solution's source for one exercise and framework, with its imports."""
    from solutions.catalogue import reference_source as catalogue_source

    return catalogue_source(class_name, framework)


def _figure_link(notebook_path: Path) -> str:
    return Path(os.path.relpath(FIGURE_PATH, notebook_path.parent)).as_posix()


def _markdown_cell(cell_id: str, source: str, export: str | None = None) -> NotebookNode:
    """A Markdown cell; ``export`` is its text in the per-framework exports, if different."""
    cell = new_markdown_cell(source, id=cell_id)
    if export is not None:
        cell.metadata[OUTPUT_KEY] = {EXPORT_KEY: export}
    return cell


def _code_cell(cell_id: str, source: str, tags: list[str] | None = None) -> NotebookNode:
    cell = new_code_cell(source, id=cell_id)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def _exercise_cells(notebook_path: Path, code: SourceFunction) -> list[NotebookNode]:
    cells = []
    for exercise in EXERCISES:
        slug = exercise.slug
        cells.append(new_markdown_cell(exercise.statement, id=f"{slug}-statement"))
        example = exercise.example(_figure_link(notebook_path))
        cells.append(new_markdown_cell(example, id=f"{slug}-example"))
        name = exercise.class_name
        intros = statements.code_intro(name), statements.code_intro(name, export=True)
        cells.append(_markdown_cell(f"{slug}-code-intro", *intros))
        for framework in FRAMEWORKS:
            source = tab_cell(framework, code(exercise.class_name, framework))
            cells.append(_code_cell(f"{slug}-code-{framework}", source))
        intros = statements.check_intro(name), statements.check_intro(name, export=True)
        cells.append(_markdown_cell(f"{slug}-check-intro", *intros))
        for framework in FRAMEWORKS:
            source = tab_cell(framework, check_source(exercise.class_name))
            cells.append(_code_cell(f"{slug}-check-{framework}", source, [CHECK_TAG]))
    return cells


def build_notebook(instructor: bool = False, code: SourceFunction | None = None) -> NotebookNode:
    """The unexecuted notebook: stubs for students, reference solutions for instructors.

    ``code(class_name, framework)`` supplies the class cells' code; by default the stubs, or
    :func:`reference_source` for the instructor copy.
    """
    if code is None:
        code = reference_source if instructor else stub_source
    path = INSTRUCTOR_PATH if instructor else STUDENT_PATH
    title = statements.TITLE
    if instructor:
        title = title.replace("\n", " (soluções)\n", 1)
        title += "\n\n" + INSTRUCTOR_NOTE.format(command=UPDATE_COMMAND)
    notebook = new_notebook(
        metadata={
            "kernelspec": dict(KERNELSPEC),
            "frametabs": {"generated_by": UPDATE_COMMAND},
        }
    )
    notebook.cells = [
        new_markdown_cell(title, id="title"),
        _markdown_cell("how-to-work", statements.HOW_TO_WORK, statements.EXPORT_HOW_TO_WORK),
        _code_cell("setup", SETUP_SOURCE, SETUP_TAGS),
        *_exercise_cells(path, code),
    ]
    return notebook


def generate(out_root: Path, repo_root: Path, instructor_code: SourceFunction | None = None):
    """Write the three artefacts under ``out_root``, executing in ``repo_root``'s folders."""
    for instructor, path in ((False, STUDENT_PATH), (True, INSTRUCTOR_PATH)):
        code = instructor_code if instructor else None
        notebook = build_notebook(instructor=instructor, code=code)
        cwd = repo_root / path.parent
        cwd.mkdir(parents=True, exist_ok=True)
        run_in_kernel(notebook, cwd)
        target = out_root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.validate(notebook)
        nbformat.write(notebook, target)
    write_fourier_figure(out_root / FIGURE_PATH)
