"""Fixtures for the grader's tests: notebooks built with nbformat, graded batches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]


def write_notebook(path: Path, cells: list, outputs: list | None = None) -> Path:
    """Write a notebook of code cells; a cell is a source string or ``(source, tags)``."""
    notebook = nbformat.v4.new_notebook()
    for cell in cells:
        source, tags = cell if isinstance(cell, tuple) else (cell, [])
        code = nbformat.v4.new_code_cell(source)
        if tags:
            code.metadata["tags"] = tags
        notebook.cells.append(code)
    if outputs:
        notebook.cells[0].outputs = [nbformat.from_dict(output) for output in outputs]
    nbformat.write(notebook, str(path))
    return path


def tab(framework: str, source: str) -> str:
    return f"%%tab {framework}\n{source}"


def run_cli(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m grading ARGS`` in a fresh interpreter (the real entry point)."""
    return subprocess.run(
        [sys.executable, "-m", "grading", *args, "--quiet"],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, **(env or {})},
        cwd=REPO,
    )


def read_results(out: Path, name: str) -> dict:
    return json.loads((out / name / "results.json").read_text(encoding="utf-8"))


def exercise_scores(results: dict) -> dict[str, float]:
    """Per-exercise score from a results.json's tests."""
    scores: dict[str, float] = {}
    for test in results["tests"]:
        exercise = test["name"].split(" · ")[0]
        scores[exercise] = scores.get(exercise, 0.0) + test["score"]
    return scores


class Helpers:
    """The helpers above, handed to tests as a fixture (test files cannot import conftest)."""

    repo = REPO
    write_notebook = staticmethod(write_notebook)
    tab = staticmethod(tab)
    run_cli = staticmethod(run_cli)
    read_results = staticmethod(read_results)
    exercise_scores = staticmethod(exercise_scores)


@pytest.fixture(scope="session")
def helpers() -> type[Helpers]:
    return Helpers
