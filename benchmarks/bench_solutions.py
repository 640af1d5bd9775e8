"""Time the reference layers against their framework's bare operation.

    python benchmarks/bench_solutions.py [--frameworks pytorch,tensorflow] [--device cuda]

For each framework: ``TensorReduction`` (batch 256, in_units 64, units 32) against the
framework's own matrix product of the equivalent (256, 4096) x (4096, 32) shapes, and
``FourierHalf`` on a (256, 1024) float32 input against the framework's bare ``rfft`` (for
MXNet, which has no CPU FFT, its bare product with the (1024, 1024) DFT matrix). Each
figure is the median of repeated timings, after a warm-up; the two sides of a ratio are
timed in alternation so that drift in the machine's speed hits both. Target: ratio <= 1.3.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from frametabs.frameworks import FRAMEWORKS, IMPORT_NAMES

BATCH, IN_UNITS, UNITS = 256, 64, 32
SIGNAL = (256, 1024)


def median_seconds(
    pairs: list[tuple[Callable[[], object], Callable[[], object]]],
    sync: Callable[[object], None],
    *,
    warmup: int = 10,
    repeats: int = 31,
    inner: int = 10,
) -> list[list[float]]:
    """Median seconds per call of each function, the functions timed in alternation."""
    functions = [f for pair in pairs for f in pair]
    for function in functions:
        for _ in range(warmup):
            sync(function())
    samples: list[list[float]] = [[] for _ in functions]
    for _ in range(repeats):
        for index, function in enumerate(functions):
            start = time.perf_counter()
            for _ in range(inner):
                result = function()
            sync(result)
            samples[index].append((time.perf_counter() - start) / inner)
    medians = [statistics.median(s) for s in samples]
    return [medians[i : i + 2] for i in range(0, len(medians), 2)]


def pytorch_cases(device: str):
    import torch

    from solutions.pytorch import FourierHalf, TensorReduction

    torch.manual_seed(0)
    layer = TensorReduction(IN_UNITS, UNITS).to(device)
    X = torch.randn(BATCH, IN_UNITS, device=device)
    A = torch.randn(BATCH, IN_UNITS * IN_UNITS, device=device)
    B = layer.weight.detach().reshape(-1, UNITS)
    fourier = FourierHalf()
    S = torch.randn(*SIGNAL, device=device)

    def sync(_):
        if device != "cpu":
            torch.cuda.synchronize()

    def no_grad(f):
        def run():
            with torch.no_grad():
                return f()

        return run

    pairs = [
        (no_grad(lambda: layer(X)), no_grad(lambda: A @ B)),
        (no_grad(lambda: fourier(S)), no_grad(lambda: torch.fft.rfft(S))),
    ]
    return pairs, sync, "torch.matmul", "torch.fft.rfft"


def tensorflow_cases(device: str):
    import tensorflow as tf

    from solutions.tensorflow import FourierHalf, TensorReduction

    tf.random.set_seed(0)
    layer = TensorReduction(UNITS)
    X = tf.random.normal((BATCH, IN_UNITS))
    layer(X)
    A = tf.random.normal((BATCH, IN_UNITS * IN_UNITS))
    B = tf.reshape(layer.weight, (-1, UNITS))
    fourier = FourierHalf()
    S = tf.random.normal(SIGNAL)
    pairs = [
        (lambda: layer(X), lambda: tf.matmul(A, B)),
        (lambda: fourier(S), lambda: tf.signal.rfft(S)),
    ]
    return pairs, lambda result: result.numpy(), "tf.matmul", "tf.signal.rfft"


def mxnet_cases(device: str):
    import mxnet as mx
    from mxnet import np as mnp
    from mxnet import npx

    from solutions.mxnet import FourierHalf, TensorReduction

    npx.set_np()
    ctx = mx.cpu() if device == "cpu" else mx.gpu()
    mx.random.seed(0)
    layer = TensorReduction(UNITS, IN_UNITS)
    layer.initialize(ctx=ctx)
    X = mnp.random.normal(size=(BATCH, IN_UNITS), ctx=ctx)
    A = mnp.random.normal(size=(BATCH, IN_UNITS * IN_UNITS), ctx=ctx)
    B = layer.weight.data(ctx).reshape(-1, UNITS)
    fourier = FourierHalf()
    S = mnp.random.normal(size=SIGNAL, ctx=ctx)
    matrix = fourier.dft_matrix(SIGNAL[-1], ctx, S.dtype)
    pairs = [
        (lambda: layer(X), lambda: mnp.dot(A, B)),
        (lambda: fourier(S), lambda: mnp.dot(S, matrix)),
    ]
    return pairs, lambda result: result.wait_to_read(), "np.dot", "np.dot with the DFT matrix"


CASES = {"mxnet": mxnet_cases, "pytorch": pytorch_cases, "tensorflow": tensorflow_cases}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    parser.add_argument("--device", default="cpu", help="cpu, or cuda (PyTorch, MXNet)")
    parser.add_argument("--repeats", type=int, default=31)
    arguments = parser.parse_args(argv)
    chosen = [name for name in FRAMEWORKS if name in arguments.frameworks.split(",")]
    rows = []
    for name in chosen:
        if importlib.util.find_spec(IMPORT_NAMES[name]) is None:
            print(f"{name}: not installed, skipped")
            continue
        pairs, sync, matmul, fft = CASES[name](arguments.device)
        (reduction, product), (fourier, transform) = median_seconds(
            pairs, sync, repeats=arguments.repeats
        )
        rows.append((name, "TensorReduction", reduction, matmul, product))
        rows.append((name, "FourierHalf", fourier, fft, transform))
    print(f"device: {arguments.device}; medians of {arguments.repeats} timings, ms per call")
    header = (
        f"{'framework':<11} {'layer':<16} {'layer ms':>9}  "
        f"{'baseline':<27} {'base ms':>8} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    for name, layer, seconds, baseline, base_seconds in rows:
        ratio = seconds / base_seconds
        flag = "" if ratio <= 1.3 else "  > 1.3"
        print(
            f"{name:<11} {layer:<16} {seconds * 1e3:>9.3f}  {baseline:<27} "
            f"{base_seconds * 1e3:>8.3f} {ratio:>6.2f}{flag}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
