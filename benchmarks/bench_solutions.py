"""Time the solution layers against the framework's bare operation and a built-in layer.

    python benchmarks/bench_solutions.py [--frameworks pytorch,tensorflow] [--repeats 31]
                                         [--threads 1] [--no-save]

Each solution layer runs at three sizes (``solution_cases.REDUCTION_SHAPES`` and
``SIGNAL_SHAPES``): a small one, where the cost is the framework's per-call overhead; the
benchmark's historical size; a large one, compute-bound (its bare operation takes at least
20 ms). Each is timed against two baselines doing the same work:

- the bare framework operation: for ``TensorReduction`` the matrix product
  ``(batch, in_units**2) x (in_units**2, units)``, which has the same FLOPs as the layer's
  main product; for ``FourierHalf`` the framework's ``rfft`` (MXNet, which has no CPU FFT:
  its product with the ``(n, 2m)`` DFT matrix);
- a built-in layer doing that work through the framework's layer machinery: ``nn.Linear``,
  ``tf.keras.layers.Dense`` or ``gluon.nn.Dense`` on that same product (for MXNet's
  ``FourierHalf``, a ``Dense`` holding the DFT matrix); no built-in PyTorch or Keras layer
  computes an FFT, so there it is the ``rfft`` followed by the built-in ``Identity`` layer,
  which pays the same call machinery as any built-in layer.

``TensorReduction`` is also timed in its one-line ``einsum`` version (from
``solutions.catalogue``), the one a learner writes first, at each size until it costs more
than 20 times the solution (MXNet's takes seconds at the large size).

Figures are medians of ``--repeats`` timings (each of enough calls to last 5 ms), after a
warm-up, all the functions of one case timed in alternation so that drift in the machine's
speed hits them alike. Frameworks run on ``--threads`` threads (1 by default: on a shared
machine a single thread is disturbed least, and every baseline gets the same).

Targets: every layer at most 1.1x the built-in layer at every size, and at most 1.3x the
bare operation at the large size. A row that misses one is timed a second time, together
with the layer's parts (the framework's call machinery, its forward pass, each of its
operations, one bare operation's dispatch, the operations each forward pass runs); the
row's figures become the medians of both runs' timings (a burst of load from another
process then weighs half as much), and for each target still missed the benchmark prints
the decomposition.

A full run writes its figures to ``benchmarks/solutions-speed.json`` and redraws the
solutions page's figure from it (``python -m solutions.figures``); ``--no-save`` only prints.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from frametabs.frameworks import FRAMEWORKS, IMPORT_NAMES, LABELS  # noqa: E402
from solutions import speed  # noqa: E402

SAMPLE_SECONDS = 0.005  # each timing lasts at least this long (several calls if need be)
MAX_INNER = 2000
EINSUM_LIMIT = 20.0  # the einsum runs at the next size only if within this factor here


def timings(
    functions: dict[str, Callable[[], object]],
    sync: Callable[[object], None],
    repeats: int,
    *,
    warmup: int = 3,
) -> dict[str, list[float]]:
    """``repeats`` timings (seconds per call) of each function, timed in alternation."""
    inner = {}
    for name, function in functions.items():
        for _ in range(warmup):
            sync(function())
        count = 1
        while True:
            start = time.perf_counter()
            for _ in range(count):
                result = function()
            sync(result)
            elapsed = time.perf_counter() - start
            if elapsed >= SAMPLE_SECONDS or count >= MAX_INNER:
                break
            count = min(MAX_INNER, max(2 * count, math.ceil(count * SAMPLE_SECONDS / elapsed)))
        inner[name] = count
    samples: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            for _ in range(inner[name]):
                result = function()
            sync(result)
            samples[name].append((time.perf_counter() - start) / inner[name])
    return samples


def medians(samples: dict[str, list[float]]) -> dict[str, float]:
    return {name: statistics.median(values) for name, values in samples.items()}


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g}"


def _operations(count: int | None) -> str:
    return "operations uncounted" if count is None else f"{count} operation" + "s" * (count != 1)


def _ratio(miss: speed.Miss, times: dict[str, float]) -> float:
    return times["layer"] / times["builtin" if miss.target == "builtin" else "bare"]


def decomposition(
    label: str, miss: speed.Miss, first: float, parts, times: dict[str, float]
) -> list[str]:
    """The measured decomposition of one target missed by both runs together, as lines."""
    row = miss.row
    baseline = "the built-in layer" if miss.target == "builtin" else "the bare op"
    layer, body = times["layer"], times["body"]
    builtin, builtin_body = times["builtin"], times["builtin_body"]
    lines = [
        f"{label} {row.exercise} {row.size}: {miss.ratio:.2f}x {baseline} (target "
        f"{miss.limit}x; first run {first:.2f}x, second {_ratio(miss, times):.2f}x). "
        "Second run, ms per call:",
        f"  {row.exercise} {_ms(layer)} = {parts.machinery} {_ms(layer - body)} "
        f"+ forward {_ms(body)} ({_operations(parts.layer_ops)}):",
    ]
    for step in parts.steps:
        lines.append(f"      {step:<40} {_ms(times[step]):>8}")
    steps = sum(times[step] for step in parts.steps)
    lines.append(f"      {'rest of forward (Python, dispatch)':<40} {_ms(body - steps):>8}")
    lines.append(
        f"  {parts.builtin_name} {_ms(builtin)} = {parts.machinery} "
        f"{_ms(builtin - builtin_body)} + forward {_ms(builtin_body)} "
        f"({_operations(parts.builtin_ops)})"
    )
    lines.append(f"  bare op {_ms(times['bare'])}")
    compared = [f"{extra} {_ms(times[extra])}" for extra in parts.extras]
    compared.append(f"one operation alone ({parts.one_op_name}) {_ms(times['one_op'])}")
    lines.append("  for comparison: " + "; ".join(compared))
    more = (parts.layer_ops or 0) - (parts.builtin_ops or 0)
    main = parts.main
    lines.append(
        f"  so: the forward passes differ by {_ms(body - builtin_body)}; the layer runs {more} "
        f"more operations; its main step ({main}) takes {_ms(times[main])} against "
        f"{_ms(builtin_body)} for the whole built-in forward, its other steps "
        f"{_ms(steps - times[main])}"
    )
    return lines


def _row(name: str, case, times: dict[str, float]) -> speed.Row:
    einsum = times.get("einsum")
    return speed.Row(
        name,
        case.exercise,
        case.size,
        case.shape,
        times["layer"] * 1e3,
        times["bare"] * 1e3,
        times["builtin"] * 1e3,
        None if einsum is None else einsum * 1e3,
    )


def measure(name: str, threads: int, repeats: int, sizes: list[str]):
    """One framework's rows, the decompositions of its misses, the misses that did not hold."""
    module = importlib.import_module(f"solution_cases.{name}")
    module.setup(threads)
    rows, notes, cleared = [], [], []
    for exercise in speed.EXERCISES:
        einsum_allowed = True
        for size in sizes:
            case = module.cases(exercise, size)
            functions = dict(case.functions)
            if not einsum_allowed:
                functions.pop("einsum", None)
            print(f"  {name} {exercise} {size}...", file=sys.stderr, flush=True)
            samples = timings(functions, module.sync, repeats)
            times = medians(samples)
            einsum = times.get("einsum")
            if einsum is not None and einsum > EINSUM_LIMIT * times["layer"]:
                einsum_allowed = False
            row = _row(name, case, times)
            first = {miss.target: miss.ratio for miss in speed.misses(row)}
            if first:
                # A miss is timed again, with the layer's parts: the row's figures become the
                # medians of both runs' timings, and the decomposition shows the second run.
                parts = case.parts()
                functions = {**parts.functions, "bare": case.functions["bare"]}
                second = timings(functions, module.sync, repeats)
                for key in ("layer", "bare", "builtin"):
                    samples[key] = samples[key] + second[key]
                row = _row(name, case, medians(samples))
                second_times = medians(second)
                for miss in speed.misses(row):
                    first_ratio = _ratio(miss, times)
                    lines = decomposition(LABELS[name], miss, first_ratio, parts, second_times)
                    notes.append((miss, lines))
                for target in set(first) - {miss.target for miss in speed.misses(row)}:
                    cleared.append((row, target, first[target]))
            rows.append((row, case.bare_name, case.builtin_name))
            del case
    return rows, notes, cleared


def print_table(rows, threads: int, repeats: int) -> None:
    print(
        f"\nthreads: {threads}; medians of {repeats} timings ({2 * repeats} for a row timed "
        "twice), ms per call"
    )
    header = (
        f"{'framework':<11} {'exercise':<16} {'size':<7} {'layer':>8} {'bare':>8} "
        f"{'built-in':>8} {'/bare':>6} {'/built-in':>9}  {'einsum':>8} {'/built-in':>9}"
    )
    print(header)
    print("-" * len(header))
    for row, _, _ in rows:
        einsum = "-" if row.einsum_ms is None else f"{row.einsum_ms:.3g}"
        einsum_ratio = "" if row.einsum_ms is None else f"{row.einsum_ms / row.builtin_ms:.2f}"
        flags = "".join(f"  <- over the {m.target} target" for m in speed.misses(row))
        print(
            f"{row.framework:<11} {row.exercise:<16} {row.size:<7} {row.layer_ms:>8.3g} "
            f"{row.bare_ms:>8.3g} {row.builtin_ms:>8.3g} {row.bare_ratio:>6.2f} "
            f"{row.builtin_ratio:>9.2f}  {einsum:>8} {einsum_ratio:>9}{flags}"
        )
    print("\nshapes and baselines:")
    seen = set()
    for row, bare, builtin in rows:
        print(f"  {row.framework} {row.exercise} {row.size}: {row.shape}", end="")
        if (row.framework, row.exercise) not in seen:
            seen.add((row.framework, row.exercise))
            print(f"; bare op: {bare}; built-in: {builtin}", end="")
        print()


def print_targets(rows, notes, cleared) -> None:
    flat = [row for row, _, _ in rows]
    missed = [miss for row in flat for miss in speed.misses(row)]
    print(
        f"\ntargets: every layer <= {speed.BUILTIN_TARGET}x the built-in layer at every size; "
        f"<= {speed.BARE_TARGET}x the bare op at the {speed.BARE_TARGET_SIZE} size "
        "(a row that misses one is timed twice, and judged on both runs together)"
    )
    for row in flat:
        if row.size == speed.BARE_TARGET_SIZE and row.bare_ms < speed.LARGE_BARE_MIN_MS:
            print(
                f"  note: {row.framework} {row.exercise} {row.size}: the bare op takes "
                f"{row.bare_ms:.3g} ms, under {speed.LARGE_BARE_MIN_MS} ms"
            )
    for row, target, ratio in cleared:
        what = "built-in layer" if target == "builtin" else "bare op"
        print(
            f"  {row.framework} {row.exercise} {row.size}: {ratio:.2f}x the {what} in the "
            "first run, within the target over both runs"
        )
    checked = len(flat) + sum(row.size == speed.BARE_TARGET_SIZE for row in flat)
    if not missed:
        print(f"  all targets met ({checked} checks)")
    else:
        print(f"  met {checked - len(missed)} of {checked}; missed (decompositions below):")
        for miss in missed:
            what = "built-in layer" if miss.target == "builtin" else "bare op"
            print(
                f"    {miss.row.framework} {miss.row.exercise} {miss.row.size}: "
                f"{miss.ratio:.2f}x the {what} (target {miss.limit}x)"
            )
    einsums = [row for row in flat if row.einsum_ms is not None]
    late = [row for row in einsums if row.einsum_ms / row.builtin_ms > speed.BUILTIN_TARGET]
    if einsums:
        print(
            f"  the one-line einsum would miss the built-in target in {len(late)} of "
            f"{len(einsums)} timed cases"
        )
    for _, lines in notes:
        print()
        print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    parser.add_argument("--sizes", default=",".join(speed.SIZES))
    parser.add_argument("--repeats", type=int, default=31)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-save", action="store_true", help="print only")
    arguments = parser.parse_args(argv)
    chosen = [name for name in FRAMEWORKS if name in arguments.frameworks.split(",")]
    sizes = [size for size in speed.SIZES if size in arguments.sizes.split(",")]
    # Read when each library loads: before any framework is imported (MXNet first).
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(arguments.threads)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    rows, notes, cleared = [], [], []
    for name in chosen:
        if importlib.util.find_spec(IMPORT_NAMES[name]) is None:
            print(f"{name}: not installed, skipped")
            continue
        framework = measure(name, arguments.threads, arguments.repeats, sizes)
        rows += framework[0]
        notes += framework[1]
        cleared += framework[2]
    print_table(rows, arguments.threads, arguments.repeats)
    print_targets(rows, notes, cleared)
    complete = len(rows) == len(speed.FRAMEWORKS) * len(speed.EXERCISES) * len(speed.SIZES)
    if arguments.no_save or not complete:
        why = "--no-save" if arguments.no_save else "a partial run"
        print(f"\n{speed.DATA.relative_to(ROOT)} not written ({why})")
        return 0
    text = speed.dumps(
        [row for row, _, _ in rows],
        command="python benchmarks/bench_solutions.py",
        threads=arguments.threads,
        repeats=arguments.repeats,
    )
    speed.DATA.write_text(text, encoding="utf-8")
    from solutions import figures

    print(f"\nwrote {speed.DATA.relative_to(ROOT)}")
    return figures.main([])


if __name__ == "__main__":
    sys.exit(main())
