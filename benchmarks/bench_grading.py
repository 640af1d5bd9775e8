"""Benchmark the autograder: a batch of 24 submissions (correct, wrong, broken).

Run: ``.venv/bin/python benchmarks/bench_grading.py [--jobs N] [--large 200]``. Grades the
mix with fresh processes (the baseline) and with pre-imported templates and long-lived
evaluators, then a large batch of copies of the mix; prints for each the wall time, the
median time per submission, the core-seconds per submission (this process and every process
it started, counted by ``CoreClock``) against the targets, and the share of the sandboxed
processes' time spent starting processes and importing frameworks (timestamps both
processes report; waiting for a new template counts as importing).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


MIX_SIZE = 24


def build_batch(folder: Path, prefix: str = "") -> None:
    """The mix: 12 correct (3 of them in all frameworks), 8 wrong, 4 broken notebooks."""
    for i in range(9):
        framework = ("pytorch", "tensorflow", "mxnet")[i % 3]
        cells = [_reference(e, framework) for e in catalogue.EXERCISES]
        _notebook(folder / f"{prefix}correto-{i:02d}.ipynb", cells)
    for i in range(3):
        cells = [
            _reference(e, f)
            for f in ("mxnet", "pytorch", "tensorflow")
            for e in catalogue.EXERCISES
        ]
        _notebook(folder / f"{prefix}tres-{i:02d}.ipynb", cells)
    wrong = [impl for impl in catalogue.WRONG if impl.framework == "pytorch"][:8]
    for i, impl in enumerate(wrong):
        _notebook(folder / f"{prefix}errado-{i:02d}.ipynb", [f"%%tab pytorch\n{impl.source}"])
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
            (folder / f"{prefix}{name}").write_text("{não é json", encoding="utf-8")
        else:
            _notebook(folder / f"{prefix}{name}", cells)


MEDIAN_TARGET = 0.5  # seconds of wall time per submission
CORE_TARGET = 0.6  # core-seconds per submission


CPUACCT = Path("/sys/fs/cgroup/cpuacct")  # cgroup v1's CPU accounting, where mounted


class CoreClock:
    """Core-seconds used by this process and every process it starts, orphans included.

    A template's forks (student processes, evaluators) are killed with it and never waited
    for, so ``getrusage(RUSAGE_CHILDREN)`` misses them. Where cgroup v1's ``cpuacct`` is
    writable (root), this process moves into a cgroup of its own, whose counter every
    descendant adds to; elsewhere it falls back to ``getrusage`` and says so.
    """

    def __init__(self) -> None:
        self.group: Path | None = None
        try:
            group = CPUACCT / f"bench-grading-{os.getpid()}"
            group.mkdir()
            (group / "cgroup.procs").write_text(f"{os.getpid()}\n")
            self.group = group
        except OSError:
            pass
        self.method = "cgroup cpuacct" if self.group else "getrusage (misses orphans)"

    def read(self) -> float:
        if self.group is not None:
            return int((self.group / "cpuacct.usage").read_text()) / 1e9
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    def close(self) -> None:
        if self.group is not None:
            (CPUACCT / "cgroup.procs").write_text(f"{os.getpid()}\n")
            for _ in range(50):  # the last descendants may take a moment to leave
                try:
                    self.group.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)


def run_batch(copies: int, jobs: int, fresh: bool, clock: CoreClock) -> dict[str, float]:
    """Grade ``copies`` copies of the mix; the figures of that run."""
    with tempfile.TemporaryDirectory() as scratch:
        folder, out = Path(scratch, "entregas"), Path(scratch, "notas")
        folder.mkdir()
        for copy in range(copies):
            build_batch(folder, prefix=f"{copy:03d}-" if copies > 1 else "")
        count = len(list(folder.glob("*.ipynb")))
        argv = [str(folder), "--out", str(out), "--jobs", str(jobs), "--seed", "1", "--quiet"]
        cpu, started = clock.read(), time.perf_counter()
        code = grade(argv + (["--fresh-processes"] if fresh else []))
        wall, cpu = time.perf_counter() - started, clock.read() - cpu
        results = [json.loads(p.read_text()) for p in out.glob("*/results.json")]
    timings = [r["extra_data"]["timings"] for r in results]
    sandboxed = sum(sum(t.values()) for t in timings) or 1.0
    starts = sum(t.get("child_start", 0.0) + t.get("evaluator_start", 0.0) for t in timings)
    imports = sum(
        t.get("template_import", 0.0)
        + t.get("framework_import", 0.0)
        + t.get("evaluator_import", 0.0)
        for t in timings
    )
    return {
        "code": code,
        "count": count,
        "wall": wall,
        "median": statistics.median(r["execution_time"] for r in results),
        "core": cpu / count,
        "starts": 100 * starts / sandboxed,
        "imports": 100 * imports / sandboxed,
    }


def _verdict(value: float, target: float) -> str:
    return f"target <= {target}: {'met' if value <= target else 'MISSED'}"


def _report(name: str, figures: dict[str, float]) -> None:
    count, wall = figures["count"], figures["wall"]
    print(
        f"{name}: {count:.0f} submissions, exit code {figures['code']:.0f}, "
        f"wall {wall:.1f} s ({60 * count / wall:.0f}/min), "
        f"median {figures['median']:.2f} s per submission "
        f"({_verdict(figures['median'], MEDIAN_TARGET)}), "
        f"{figures['core']:.2f} core-s per submission ({_verdict(figures['core'], CORE_TARGET)}); "
        f"of the sandboxed time, process starts {figures['starts']:.0f}% and framework "
        f"imports {figures['imports']:.0f}%"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--large", type=int, default=200, help="submissions in the large batch (0: skip it)"
    )
    args = parser.parse_args()
    clock = CoreClock()
    try:
        _run(args, clock)
    finally:
        clock.close()


def _run(args: argparse.Namespace, clock: CoreClock) -> None:
    print(f"core-seconds measured with {clock.method}")
    fresh = run_batch(1, args.jobs, fresh=True, clock=clock)
    _report("fresh processes (baseline), the mix", fresh)
    pooled = run_batch(1, args.jobs, fresh=False, clock=clock)
    _report("templates and long-lived evaluators, the mix", pooled)
    print(
        f"speed-up on the mix: {fresh['wall'] / pooled['wall']:.1f}x wall, "
        f"{fresh['core'] / pooled['core']:.1f}x core-seconds"
    )
    if args.large:
        copies = -(-args.large // MIX_SIZE)
        _report(
            f"templates and long-lived evaluators, {copies} copies of the mix",
            run_batch(copies, args.jobs, fresh=False, clock=clock),
        )


if __name__ == "__main__":
    main()
