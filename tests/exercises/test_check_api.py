"""The notebook's ``check`` on the very classes its cells define, called directly.

The instructor copy's class cells (the reference solutions) pass every check in all three
frameworks for several seeds, and the student copy's stubs are reported as not attempted.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from exercises import EXERCISES, INSTRUCTOR_PATH, STUDENT_PATH
from frametabs.frameworks import FRAMEWORKS, parse_marker

ROOT = Path(__file__).resolve().parents[2]
SEEDS = (0, 1, 12345)

pytestmark = pytest.mark.slow


def defined_class(notebook_path: Path, exercise, framework: str) -> type:
    """Run the class cell of ``exercise`` for ``framework`` as the ``%%tab`` magic would."""
    notebook = nbformat.read(notebook_path, as_version=4)
    cell = next(c for c in notebook.cells if c.id == f"{exercise.slug}-code-{framework}")
    namespace: dict = {"__name__": "__main__"}
    exec(compile(parse_marker(cell.source).body, cell.id, "exec"), namespace)
    return namespace[exercise.class_name]


@pytest.fixture
def restore_mxnet_semantics():
    """The MXNet stubs call ``npx.set_np()``; switch it back off for later tests."""
    yield
    from mxnet import npx

    npx.reset_np()


def cases():
    for exercise in EXERCISES:
        for framework in FRAMEWORKS:
            yield pytest.param(exercise, framework, id=f"{exercise.class_name}-{framework}")


@pytest.mark.parametrize(("exercise", "framework"), list(cases()))
def test_instructor_solution_passes_every_check(exercise, framework):
    from grading.notebook import check

    layer_class = defined_class(ROOT / INSTRUCTOR_PATH, exercise, framework)
    for seed in SEEDS:
        report = check(layer_class, seed=seed)
        assert report.passed, repr(report)
        assert report.score == report.max_score == 10


@pytest.mark.parametrize(("exercise", "framework"), list(cases()))
def test_student_stub_is_not_attempted(exercise, framework, restore_mxnet_semantics):
    from grading.notebook import check

    report = check(defined_class(ROOT / STUDENT_PATH, exercise, framework), seed=0)
    assert report.result.not_implemented, repr(report)
    assert report.score == 0
