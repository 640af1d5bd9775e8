"""What ``bench_solutions.py`` times, one module per framework (each imports only its own).

Each framework module has ``setup(threads)`` (call before anything else of it), ``sync``
(waits for an asynchronous result) and ``cases(exercise, size)``, which builds a
:class:`Case`: the solution layer, the framework's bare operation of the same work, a
built-in layer doing that work, and, for ``TensorReduction``, the one-line ``einsum`` of
``solutions.catalogue``; plus, built only when a target is missed, the :class:`Parts` that
decompose the layer's time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# (batch, in_units, units) and (batch, n): overhead-bound, the historical size, compute-bound.
REDUCTION_SHAPES = {"small": (8, 16, 8), "medium": (256, 64, 32), "large": (256, 256, 64)}
SIGNAL_SHAPES = {"small": (8, 64), "medium": (256, 1024), "large": (6144, 4096)}
# MXNet's FourierHalf is a matrix DFT, O(n^2) per signal: its compute-bound size is smaller.
MXNET_SIGNAL_SHAPES = {**SIGNAL_SHAPES, "large": (512, 2048)}
ONE_OP = "x * 2, x of one element"  # on one element, an operation's cost is all dispatch


def reduction_label(shape: tuple[int, int, int]) -> str:
    batch, in_units, units = shape
    return f"X ({batch}, {in_units}), weight ({in_units}, {in_units}, {units})"


def signal_label(shape: tuple[int, int]) -> str:
    return f"X {shape}"


@dataclass
class Parts:
    """The pieces of one layer's time, each timed alone, for a decomposition.

    ``functions`` holds ``layer`` (the call), ``body`` (its forward pass called directly,
    without the framework's call machinery), ``builtin`` and ``builtin_body`` (the same for
    the built-in layer), ``one_op`` (the cheapest operation on the input, to show what
    dispatching one operation costs) and ``steps``' entries: the layer's forward pass
    split into its operations, run on precomputed inputs; ``extras``' entries are timed
    and shown beside them (a measured comparison, not a part). ``layer_ops`` and
    ``builtin_ops`` are the operations each forward pass dispatches, as the framework
    counts them.
    """

    machinery: str  # "nn.Module.__call__", "Layer.__call__", "Block.__call__"
    builtin_name: str
    one_op_name: str
    functions: dict[str, Callable[[], object]]
    steps: list[str] = field(default_factory=list)
    main: str = ""  # the step doing the built-in layer's work (the big product, the rfft)
    extras: list[str] = field(default_factory=list)  # timed and shown, not part of the sum
    layer_ops: int | None = None
    builtin_ops: int | None = None


@dataclass
class Case:
    """One exercise at one size: the functions to time, by role, and the decomposition."""

    exercise: str
    size: str
    shape: str
    bare_name: str
    builtin_name: str
    functions: dict[str, Callable[[], object]]  # "layer", "bare", "builtin"[, "einsum"]
    parts: Callable[[], Parts]


def einsum_class(framework: str) -> type:
    """The catalogue's one-line ``einsum`` TensorReduction for ``framework``, exec'd."""
    from solutions.catalogue import CORRECT_STYLES

    (style,) = [
        style
        for style in CORRECT_STYLES
        if (style.framework, style.exercise, style.name) == (framework, "TensorReduction", "einsum")
    ]
    namespace: dict[str, object] = {}
    exec(compile(style.source, f"<catalogue: {framework} einsum>", "exec"), namespace)
    return namespace["TensorReduction"]
