"""TensorFlow cases: the solution layers, ``tf.matmul`` and ``tf.signal.rfft``, ``Dense``."""

from __future__ import annotations

import tensorflow as tf

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
from solutions.tensorflow import FourierHalf, TensorReduction

MACHINERY = "Layer.__call__"
# Graph bookkeeping that a traced function holds but that eager execution does not run.
_NOT_OPS = {"Placeholder", "Const", "Identity", "NoOp"}


def setup(threads: int) -> None:
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    tf.random.set_seed(0)


def sync(result) -> None:
    """Eager operations on the CPU return finished tensors (``numpy()`` would copy them)."""


COMPILED = "forward as tf.function(input_signature=..., jit_compile=True)"


def _compiled(call, X):
    """``call`` compiled by XLA for ``X``'s shape and dtype, traced once here."""
    function = tf.function(
        call, input_signature=[tf.TensorSpec(X.shape, X.dtype)], jit_compile=True
    )
    function(X)
    return function


def count_ops(function, X) -> int:
    """Operations of ``function``'s graph, traced on ``X``'s shape (bookkeeping excepted)."""
    graph = tf.function(function).get_concrete_function(tf.TensorSpec(X.shape, X.dtype)).graph
    return sum(op.type not in _NOT_OPS for op in graph.get_operations())


def _reduction(size: str) -> Case:
    batch, in_units, units = REDUCTION_SHAPES[size]
    X = tf.random.normal((batch, in_units))
    A = tf.random.normal((batch, in_units * in_units))
    layer = TensorReduction(units)
    einsum = einsum_class("tensorflow")(units)
    dense = tf.keras.layers.Dense(units, use_bias=False)
    for built, inputs in ((layer, X), (einsum, X), (dense, A)):
        built(inputs)
    B = tf.convert_to_tensor(dense.kernel)

    def parts() -> Parts:
        tiny = tf.ones(1)
        compiled = _compiled(layer.call, X)
        weight = tf.convert_to_tensor(layer.weight)
        Z = tf.einsum("bi,ijk->bjk", X, weight)
        functions = {
            "layer": lambda: layer(X),
            "body": lambda: layer.call(X),
            "builtin": lambda: dense(A),
            "builtin_body": lambda: dense.call(A),
            "one_op": lambda: tiny * 2,
            "read the weight": lambda: tf.convert_to_tensor(layer.weight),
            "einsum bi,ijk->bjk": lambda: tf.einsum("bi,ijk->bjk", X, weight),
            "einsum bj,bjk->bk": lambda: tf.einsum("bj,bjk->bk", X, Z),
            COMPILED: lambda: compiled(X),
        }
        return Parts(
            MACHINERY,
            "Dense",
            ONE_OP,
            functions,
            steps=["read the weight", "einsum bi,ijk->bjk", "einsum bj,bjk->bk"],
            main="einsum bi,ijk->bjk",
            extras=[COMPILED],
            layer_ops=count_ops(layer.call, X),
            builtin_ops=count_ops(dense.call, A),
        )

    return Case(
        "TensorReduction",
        size,
        reduction_label((batch, in_units, units)),
        "tf.matmul (same FLOPs)",
        "Dense (same FLOPs)",
        {
            "layer": lambda: layer(X),
            "bare": lambda: tf.matmul(A, B),
            "builtin": lambda: dense(A),
            "einsum": lambda: einsum(X),
        },
        parts,
    )


def _fourier(size: str) -> Case:
    shape = SIGNAL_SHAPES[size]
    X = tf.random.normal(shape)
    m = (shape[-1] + 1) // 2
    layer = FourierHalf()
    identity = tf.keras.layers.Identity()
    layer(X)
    identity(X)

    def parts() -> Parts:
        tiny = tf.ones(1)
        compiled = _compiled(layer.call, X)
        C = tf.signal.rfft(X)
        functions = {
            "layer": lambda: layer(X),
            "body": lambda: layer.call(X),
            "builtin": lambda: identity(tf.signal.rfft(X)),
            "builtin_body": lambda: identity.call(tf.signal.rfft(X)),
            "one_op": lambda: tiny * 2,
            "tf.signal.rfft": lambda: tf.signal.rfft(X),
            "tf.split: the first m (a copy)": lambda: tf.split(C, [m, -1], axis=-1)[0],
            "indexing [..., :m] (a copy)": lambda: C[..., :m],
            COMPILED: lambda: compiled(X),
        }
        return Parts(
            MACHINERY,
            "Identity after rfft",
            ONE_OP,
            functions,
            steps=["tf.signal.rfft", "tf.split: the first m (a copy)"],
            main="tf.signal.rfft",
            extras=["indexing [..., :m] (a copy)", COMPILED],
            layer_ops=count_ops(layer.call, X),
            builtin_ops=count_ops(lambda X: identity.call(tf.signal.rfft(X)), X),
        )

    return Case(
        "FourierHalf",
        size,
        signal_label(shape),
        "tf.signal.rfft",
        "rfft + keras Identity",
        {
            "layer": lambda: layer(X),
            "bare": lambda: tf.signal.rfft(X),
            # No built-in layer computes an FFT: the built-in Identity layer applied to the
            # rfft pays the same Layer.__call__ as any built-in layer.
            "builtin": lambda: identity(tf.signal.rfft(X)),
        },
        parts,
    )


def cases(exercise: str, size: str) -> Case:
    return _reduction(size) if exercise == "TensorReduction" else _fourier(size)
