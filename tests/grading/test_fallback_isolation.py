"""Without namespaces the grader still grades, limits resources and cleans up."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from grading.grader import GradeOptions, grade_submission
from grading.sandbox import Limits
from solutions import catalogue

pytestmark = pytest.mark.slow


def test_the_fallback_grades_and_kills_background_processes(tmp_path, helpers):
    marker = f"grading-fallback-{uuid.uuid4().hex}"
    cells = [
        f"%%tab pytorch\n{catalogue.reference_source(e, 'pytorch')}" for e in catalogue.EXERCISES
    ]
    cells.append(
        f"%%tab pytorch\nimport os\nos.system('setsid sh -c \"sleep 122; echo {marker}\" &')"
    )
    notebook = helpers.write_notebook(tmp_path / "aluno.ipynb", cells)
    options = GradeOptions(seed=1, limits=Limits(check_timeout=10), isolation="none")
    report = grade_submission(notebook, options)
    assert report.isolation == "none"
    assert report.score == 20.0, report.notes
    assert report.elapsed < 60  # nothing left behind holds the grader up
    survivors = [
        p
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and _cmdline(p).count(marker.encode()) and int(p.name) != os.getpid()
    ]
    assert survivors == []


def _cmdline(entry: Path) -> bytes:
    try:
        return (entry / "cmdline").read_bytes()
    except OSError:
        return b""
