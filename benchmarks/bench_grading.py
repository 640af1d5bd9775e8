"""Benchmark the autograder: a batch of 24 submissions (correct, wrong, broken).

Run: ``.venv/bin/python benchmarks/bench_grading.py [--jobs N]``. Prints submissions per
minute, the median time per submission and the share of the sandboxed processes' time (the
student process and the evaluator) spent starting interpreters and importing frameworks
(timestamps both processes report).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import nbformat

from grading.cli import main as grade
from solutions import catalogue


def _notebook(path: Path, cells: list[str]) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(cell) for cell in cells]
    nbformat.write(notebook, str(path))


def _reference(exercise: str, framework: str) -> str:
    return f"%%tab {framework}\n{catalogue.reference_source(exercise, framework)}"


def build_batch(folder: Path) -> None:
    """12 correct (3 of them in all frameworks), 8 wrong, 4 broken notebooks."""
    for i in range(9):
        framework = ("pytorch", "tensorflow", "mxnet")[i % 3]
        cells = [_reference(e, framework) for e in catalogue.EXERCISES]
        _notebook(folder / f"correto-{i:02d}.ipynb", cells)
    for i in range(3):
        cells = [
            _reference(e, f)
            for f in ("mxnet", "pytorch", "tensorflow")
            for e in catalogue.EXERCISES
        ]
        _notebook(folder / f"tres-{i:02d}.ipynb", cells)
    wrong = [impl for impl in catalogue.WRONG if impl.framework == "pytorch"][:8]
    for i, impl in enumerate(wrong):
        _notebook(folder / f"errado-{i:02d}.ipynb", [f"%%tab pytorch\n{impl.source}"])
    broken = {
        "quebrado-00.ipynb": None,
        "quebrado-01.ipynb": ["%%tab pytorch\ndef f(:\n    pass"],
        "quebrado-02.ipynb": ["%%tab pytorch\nimport os\nos._exit(3)"],
        "quebrado-03.ipynb": [
            _reference("TensorReduction", "pytorch"),
            "%%tab pytorch\nraise ValueError",
        ],
    }
    for name, cells in broken.items():
        if cells is None:
            (folder / name).write_text("{não é json", encoding="utf-8")
        else:
            _notebook(folder / name, cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder, out = Path(scratch, "entregas"), Path(scratch, "notas")
        folder.mkdir()
        build_batch(folder)
        count = len(list(folder.glob("*.ipynb")))
        started = time.perf_counter()
        code = grade(
            [str(folder), "--out", str(out), "--jobs", str(args.jobs), "--seed", "1", "--quiet"]
        )
        wall = time.perf_counter() - started
        results = [json.loads(p.read_text()) for p in out.glob("*/results.json")]
    per_submission = [r["execution_time"] for r in results]
    timings = [r["extra_data"]["timings"] for r in results]
    child = sum(sum(t.values()) for t in timings)
    start = sum(t.get("child_start", 0.0) + t.get("evaluator_start", 0.0) for t in timings)
    imports = sum(t.get("framework_import", 0.0) + t.get("evaluator_import", 0.0) for t in timings)
    print(f"exit code: {code}; jobs: {args.jobs}; submissions: {count}")
    print(f"wall time: {wall:.1f} s; submissions per minute: {60 * count / wall:.1f}")
    print(f"median time per submission: {statistics.median(per_submission):.2f} s")
    print(
        f"sandboxed time: {child:.1f} s, of which interpreter starts {start:.1f} s "
        f"({100 * start / child:.0f}%) and framework imports {imports:.1f} s "
        f"({100 * imports / child:.0f}%)"
    )


if __name__ == "__main__":
    main()
