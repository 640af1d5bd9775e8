"""The exercise notebooks' shape: tab groups, check cells, stubs and stable cell ids."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from exercises import (
    EXERCISES,
    FIGURE_PATH,
    INSTRUCTOR_PATH,
    STUDENT_PATH,
    build_notebook,
)
from exercises.build import CHECK_TAG
from exercises.stubs import TODO
from frametabs.frameworks import FRAMEWORKS, parse_marker

ROOT = Path(__file__).resolve().parents[2]
COPIES = {"student": ROOT / STUDENT_PATH, "instructor": ROOT / INSTRUCTOR_PATH}


def tab_groups(notebook):
    """Runs of consecutive ``%%tab`` cells, each as a list of (cell, frameworks)."""
    groups, current = [], []
    for cell in [*notebook.cells, None]:
        marker = None if cell is None or cell.cell_type != "code" else parse_marker(cell.source)
        if marker is not None:
            current.append((cell, marker.frameworks))
        elif current:
            groups.append(current)
            current = []
    return groups


def is_check_cell(cell) -> bool:
    return cell.cell_type == "code" and CHECK_TAG in cell.metadata.get("tags", [])


@pytest.fixture(params=["student", "instructor", "student-built"])
def notebook(request):
    """Both committed copies, plus the unexecuted student build."""
    if request.param == "student-built":
        return build_notebook()
    return nbformat.read(COPIES[request.param], as_version=4)


def test_committed_copies_exist():
    for path in COPIES.values():
        assert path.is_file(), f"{path} is missing: run python -m exercises"


def test_every_group_is_mxnet_pytorch_tensorflow_in_order(notebook):
    groups = tab_groups(notebook)
    assert len(groups) == 2 * len(EXERCISES)  # one code group and one check group each
    for group in groups:
        assert [frameworks for _, frameworks in group] == [(fw,) for fw in FRAMEWORKS]


def test_groups_alternate_code_and_check(notebook):
    for index, group in enumerate(tab_groups(notebook)):
        expect_check = index % 2 == 1
        assert [is_check_cell(cell) for cell, _ in group] == [expect_check] * len(FRAMEWORKS)


def test_check_cells_are_tagged_and_call_check_on_their_exercise(notebook):
    groups = tab_groups(notebook)
    for exercise, group in zip(EXERCISES, groups[1::2], strict=True):
        for cell, _ in group:
            assert cell.metadata["tags"] == [CHECK_TAG]
            assert cell.source.rstrip().endswith(f"check({exercise.class_name})")
    tagged = [cell for cell in notebook.cells if is_check_cell(cell)]
    assert len(tagged) == len(FRAMEWORKS) * len(EXERCISES)


def test_class_cells_define_their_exercise_class(notebook):
    groups = tab_groups(notebook)
    for exercise, group in zip(EXERCISES, groups[0::2], strict=True):
        for cell, _ in group:
            assert f"class {exercise.class_name}(" in cell.source
            assert "check" not in cell.metadata.get("tags", [])


def test_setup_cell_loads_the_magic_and_is_hidden(notebook):
    setup = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert setup.id == "setup"
    assert setup.source.splitlines()[-1] == "%load_ext frametabs"
    assert {"remove-cell", "remove-input"} & set(setup.metadata.get("tags", []))


def test_cell_ids_are_stable_and_shared_by_both_copies():
    student = nbformat.read(COPIES["student"], as_version=4)
    instructor = nbformat.read(COPIES["instructor"], as_version=4)
    ids = [cell.id for cell in student.cells]
    assert ids == [cell.id for cell in instructor.cells]
    assert ids == [cell.id for cell in build_notebook().cells]
    assert len(set(ids)) == len(ids)
    for exercise in EXERCISES:
        for framework in FRAMEWORKS:
            assert f"{exercise.slug}-code-{framework}" in ids
            assert f"{exercise.slug}-check-{framework}" in ids


def test_student_copy_has_stubs_and_instructor_copy_has_none():
    for name, path in COPIES.items():
        notebook = nbformat.read(path, as_version=4)
        code_cells = [cell for group in tab_groups(notebook)[0::2] for cell, _ in group]
        for cell in code_cells:
            is_stub = TODO in cell.source and "raise NotImplementedError" in cell.source
            assert is_stub == (name == "student"), f"{name}: {cell.id}"


def test_student_copy_only_differs_from_instructor_copy_in_class_cells_and_links():
    student = nbformat.read(COPIES["student"], as_version=4)
    instructor = nbformat.read(COPIES["instructor"], as_version=4)
    differing = [
        old.id
        for old, new in zip(student.cells, instructor.cells, strict=True)
        if old.source != new.source
    ]
    class_cells = [
        f"{exercise.slug}-code-{framework}" for exercise in EXERCISES for framework in FRAMEWORKS
    ]
    # The title says "soluções"; the figure is linked from each copy's own folder.
    assert sorted(differing) == sorted(["title", "exercise-2-example", *class_cells])


def test_figure_links_resolve_from_both_copies():
    for path in COPIES.values():
        notebook = nbformat.read(path, as_version=4)
        links = re.findall(r"!\[[^]]*\]\(([^)]+)\)", "\n".join(c.source for c in notebook.cells))
        assert links, path
        for link in links:
            assert (path.parent / link).resolve() == (ROOT / FIGURE_PATH).resolve()


def test_stored_copies_are_executed_in_order():
    for path in COPIES.values():
        notebook = nbformat.read(path, as_version=4)
        counts = [cell.execution_count for cell in notebook.cells if cell.cell_type == "code"]
        assert counts == list(range(1, len(counts) + 1)), path
        for cell in notebook.cells:
            assert "execution" not in cell.metadata, "timings make the copies nondeterministic"
