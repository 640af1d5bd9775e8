"""PyTorch cases: the solution layers, ``A @ B`` and ``torch.fft.rfft``, ``nn.Linear``."""

from __future__ import annotations

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from solution_cases import (
    ONE_OP,
    REDUCTION_SHAPES,
    SIGNAL_SHAPES,
    Case,
    Parts,
    einsum_class,
    reduction_label,
    signal_label,
)
from solutions.pytorch import FourierHalf, TensorReduction

MACHINERY = "nn.Module.__call__"


def setup(threads: int) -> None:
    torch.set_num_threads(threads)
    torch.manual_seed(0)


def sync(result) -> None:
    """PyTorch on the CPU returns finished tensors."""


class _Counter(TorchFunctionMode):
    """Counts the torch functions and tensor methods called (attribute reads excepted)."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if not getattr(func, "__name__", "").startswith("__get__"):
            self.count += 1
        return func(*args, **(kwargs or {}))


def count_ops(function) -> int:
    with torch.no_grad(), _Counter() as counter:
        function()
    return counter.count


def _no_grad(function):
    def run():
        with torch.no_grad():
            return function()

    return run


def _reduction(size: str) -> Case:
    batch, in_units, units = REDUCTION_SHAPES[size]
    layer = TensorReduction(in_units, units)
    einsum = einsum_class("pytorch")(in_units, units)
    linear = nn.Linear(in_units * in_units, units, bias=False)
    X = torch.randn(batch, in_units)
    A = torch.randn(batch, in_units * in_units)
    B = linear.weight.detach().T.contiguous()

    def parts() -> Parts:
        tiny = torch.ones(1)
        weight = layer.weight.detach()
        W = weight.reshape(in_units, in_units * units)
        Z = (X @ W).reshape(-1, in_units, units)
        functions = {
            "layer": lambda: layer(X),
            "body": lambda: layer.forward(X),
            "builtin": lambda: linear(A),
            "builtin_body": lambda: linear.forward(A),
            "one_op": lambda: tiny * 2,
            "X @ weight (in, in*units)": lambda: X @ W,
            "bmm with X": lambda: torch.bmm(X.unsqueeze(1), Z),
        }
        return Parts(
            MACHINERY,
            "nn.Linear",
            ONE_OP,
            {name: _no_grad(f) for name, f in functions.items()},
            steps=["X @ weight (in, in*units)", "bmm with X"],
            main="X @ weight (in, in*units)",
            layer_ops=count_ops(lambda: layer.forward(X)),
            builtin_ops=count_ops(lambda: linear.forward(A)),
        )

    functions = {
        "layer": lambda: layer(X),
        "bare": lambda: A @ B,
        "builtin": lambda: linear(A),
        "einsum": lambda: einsum(X),
    }
    return Case(
        "TensorReduction",
        size,
        reduction_label((batch, in_units, units)),
        "A @ B (same FLOPs)",
        "nn.Linear (same FLOPs)",
        {name: _no_grad(f) for name, f in functions.items()},
        parts,
    )


def _fourier(size: str) -> Case:
    shape = SIGNAL_SHAPES[size]
    layer = FourierHalf()
    identity = nn.Identity()
    X = torch.randn(*shape)
    m = (shape[-1] + 1) // 2

    def parts() -> Parts:
        tiny = torch.ones(1)
        C = torch.fft.rfft(X)
        functions = {
            "layer": lambda: layer(X),
            "body": lambda: layer.forward(X),
            "builtin": lambda: identity(torch.fft.rfft(X)),
            "builtin_body": lambda: identity.forward(torch.fft.rfft(X)),
            "one_op": lambda: tiny * 2,
            "torch.fft.rfft": lambda: torch.fft.rfft(X),
            "[..., :m] (a view)": lambda: C[..., :m],
            "narrow(-1, 0, m) (a view)": lambda: C.narrow(-1, 0, m),
        }
        return Parts(
            MACHINERY,
            "nn.Identity after rfft",
            ONE_OP,
            {name: _no_grad(f) for name, f in functions.items()},
            steps=["torch.fft.rfft", "[..., :m] (a view)"],
            main="torch.fft.rfft",
            extras=["narrow(-1, 0, m) (a view)"],
            layer_ops=count_ops(lambda: layer.forward(X)),
            builtin_ops=count_ops(lambda: identity.forward(torch.fft.rfft(X))),
        )

    functions = {
        "layer": lambda: layer(X),
        "bare": lambda: torch.fft.rfft(X),
        # PyTorch has no built-in FFT layer, nor a Lambda one: the built-in nn.Identity
        # applied to the rfft pays the same nn.Module call as any built-in layer.
        "builtin": lambda: identity(torch.fft.rfft(X)),
    }
    return Case(
        "FourierHalf",
        size,
        signal_label(shape),
        "torch.fft.rfft",
        "rfft + nn.Identity",
        {name: _no_grad(f) for name, f in functions.items()},
        parts,
    )


def cases(exercise: str, size: str) -> Case:
    return _reduction(size) if exercise == "TensorReduction" else _fourier(size)
