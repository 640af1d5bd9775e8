"""The solution layers' speed, as ``benchmarks/bench_solutions.py`` measures it.

Timings are not reproducible, so the benchmark writes what it measured to a small committed
data file, ``benchmarks/solutions-speed.json``, and ``solutions.figures`` draws the solutions
page's speed figure from that file alone: the figure can be checked for drift, the data
cannot. This module holds what both sides share: the sizes, the targets, the file's format
and the verdicts. It imports no framework and no third-party package.

Format of the data file (one JSON object)::

    {"command": "...", "threads": 1, "repeats": 31,
     "rows": [{"framework": "pytorch", "exercise": "TensorReduction", "size": "small",
               "shape": "X (8, 16), weight (16, 16, 8)",
               "layer_ms": 0.0123, "bare_ms": 0.00712, "builtin_ms": 0.00981,
               "einsum_ms": 0.0311}, ...]}

``layer_ms`` is the solution layer, ``bare_ms`` the framework's bare operation of the same
work, ``builtin_ms`` a built-in layer doing that work through the framework's layer
machinery, ``einsum_ms`` (``TensorReduction`` only, ``null`` where not timed) the one-line
``einsum`` that a learner writes first; all medians, milliseconds per call.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "solutions-speed.json"

FRAMEWORKS = ("mxnet", "pytorch", "tensorflow")
EXERCISES = ("TensorReduction", "FourierHalf")
SIZES = ("small", "medium", "large")
"""Overhead-bound, the benchmark's historical size, compute-bound (bare op >= 20 ms)."""

BUILTIN_TARGET = 1.1
"""Every layer costs at most this many times the built-in layer, at every size."""
BARE_TARGET = 1.3
"""At the compute-bound size, every layer costs at most this many times the bare op."""
BARE_TARGET_SIZE = "large"
LARGE_BARE_MIN_MS = 20.0
"""The compute-bound size is large enough when its bare op takes at least this long."""


@dataclass(frozen=True)
class Row:
    """One layer at one size: medians in milliseconds per call."""

    framework: str
    exercise: str
    size: str
    shape: str
    layer_ms: float
    bare_ms: float
    builtin_ms: float
    einsum_ms: float | None = None

    @property
    def builtin_ratio(self) -> float:
        return self.layer_ms / self.builtin_ms

    @property
    def bare_ratio(self) -> float:
        return self.layer_ms / self.bare_ms


@dataclass(frozen=True)
class Miss:
    """A target that a row misses: which, the measured ratio and the limit."""

    row: Row
    target: str  # "builtin" or "bare"
    ratio: float
    limit: float


def misses(row: Row) -> list[Miss]:
    """The targets ``row`` misses (none for a row that meets them all)."""
    found = []
    if row.builtin_ratio > BUILTIN_TARGET:
        found.append(Miss(row, "builtin", row.builtin_ratio, BUILTIN_TARGET))
    if row.size == BARE_TARGET_SIZE and row.bare_ratio > BARE_TARGET:
        found.append(Miss(row, "bare", row.bare_ratio, BARE_TARGET))
    return found


def _rounded(value: float | None) -> float | None:
    """Three significant figures: the timings are no more precise than that."""
    return None if value is None else float(f"{value:.3g}")


def dumps(rows: list[Row], *, command: str, threads: int, repeats: int) -> str:
    """The data file's text: stable key order, rounded timings, one row per line."""
    lines = []
    for row in rows:
        record = asdict(row)
        for key in ("layer_ms", "bare_ms", "builtin_ms", "einsum_ms"):
            record[key] = _rounded(record[key])
        lines.append("    " + json.dumps(record, ensure_ascii=False))
    header = json.dumps({"command": command, "threads": threads, "repeats": repeats})
    return header[:-1] + ', "rows": [\n' + ",\n".join(lines) + "\n]}\n"


def loads(text: str) -> list[Row]:
    """The rows of a data file's text, checked against the sizes and names above."""
    rows = [Row(**record) for record in json.loads(text)["rows"]]
    for row in rows:
        if (row.framework, row.exercise, row.size) not in {
            (f, e, s) for f in FRAMEWORKS for e in EXERCISES for s in SIZES
        }:
            raise ValueError(f"unknown row {row.framework} {row.exercise} {row.size}")
    return rows


def load(path: Path = DATA) -> list[Row]:
    return loads(path.read_text(encoding="utf-8"))
