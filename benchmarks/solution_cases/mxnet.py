"""MXNet cases: the solution layers, ``np.dot`` (for the DFT too), ``gluon.nn.Dense``.

MXNet reads ``OMP_NUM_THREADS`` when its library loads: the benchmark sets it before it
imports this module.
"""

from __future__ import annotations

import json

import mxnet as mx
from mxnet import autograd, npx
from mxnet import np as mnp
from mxnet.gluon import nn

from solution_cases import (
    MXNET_SIGNAL_SHAPES,
    ONE_OP,
    REDUCTION_SHAPES,
    Case,
    Parts,
    einsum_class,
    reduction_label,
    signal_label,
)
from solutions.mxnet import FourierHalf, TensorReduction

MACHINERY = "Block.__call__"
FULLY_CONNECTED = "the tensordot's product with Dense's kernel (npx.fully_connected)"
TENSORDOT = "np.tensordot with the (n, m, 2) array (the layer)"


def setup(threads: int) -> None:
    npx.set_np()
    mx.random.seed(0)


def sync(result) -> None:
    result.wait_to_read()


def count_ops(function, X) -> int:
    """Operations that autograd records for ``function(X)`` (MXNet's own count)."""
    X = X.copy()
    X.attach_grad()
    with autograd.record():
        output = function(X)
    nodes = json.loads(autograd.get_symbol(output).tojson())["nodes"]
    return sum(node["op"] != "null" for node in nodes)


def _reduction(size: str) -> Case:
    batch, in_units, units = REDUCTION_SHAPES[size]
    layer = TensorReduction(units, in_units)
    einsum = einsum_class("mxnet")(units, in_units)
    dense = nn.Dense(units, in_units=in_units * in_units, use_bias=False)
    for block in (layer, einsum, dense):
        block.initialize()
    X = mnp.random.normal(size=(batch, in_units))
    A = mnp.random.normal(size=(batch, in_units * in_units))
    B = dense.weight.data().T.copy()

    def parts() -> Parts:
        tiny = mnp.ones(1)
        weight = layer.weight.data()
        Z = mnp.tensordot(X, weight, axes=1)
        X1 = mnp.expand_dims(X, 1)
        Y = mnp.matmul(X1, Z)
        X1_first, Z_first = X1[:1], Z[:1]
        # Dense's kernel needs the weight as (in_units * units, in_units): copied here, once.
        kernel = weight.reshape(in_units, in_units * units).T.copy()
        functions = {
            "layer": lambda: layer(X),
            "body": lambda: layer.forward(X),
            "builtin": lambda: dense(A),
            "builtin_body": lambda: dense.forward(A),
            "one_op": lambda: tiny * 2,
            "weight.data()": lambda: layer.weight.data(X.ctx),
            "np.tensordot(X, weight)": lambda: mnp.tensordot(X, weight, axes=1),
            "np.expand_dims(X, 1)": lambda: mnp.expand_dims(X, 1),
            "np.matmul with X": lambda: mnp.matmul(X1, Z),
            f"np.matmul, 1 example of {batch}": lambda: mnp.matmul(X1_first, Z_first),
            "npx.batch_dot instead": lambda: npx.batch_dot(X1, Z),
            FULLY_CONNECTED: lambda: npx.fully_connected(
                X, kernel, no_bias=True, num_hidden=in_units * units
            ),
            "reshape to (batch, units)": lambda: Y.reshape(-1, units),
        }
        return Parts(
            MACHINERY,
            "gluon.nn.Dense",
            ONE_OP,
            functions,
            steps=[
                "weight.data()",
                "np.tensordot(X, weight)",
                "np.expand_dims(X, 1)",
                "np.matmul with X",
                "reshape to (batch, units)",
            ],
            main="np.tensordot(X, weight)",
            extras=[f"np.matmul, 1 example of {batch}", "npx.batch_dot instead", FULLY_CONNECTED],
            layer_ops=count_ops(layer.forward, X),
            builtin_ops=count_ops(dense.forward, A),
        )

    return Case(
        "TensorReduction",
        size,
        reduction_label((batch, in_units, units)),
        "np.dot (same FLOPs)",
        "gluon.nn.Dense (same FLOPs)",
        {
            "layer": lambda: layer(X),
            "bare": lambda: mnp.dot(A, B),
            "builtin": lambda: dense(A),
            "einsum": lambda: einsum(X),
        },
        parts,
    )


def _fourier(size: str) -> Case:
    shape = MXNET_SIGNAL_SHAPES[size]
    n = shape[-1]
    layer = FourierHalf()
    X = mnp.random.normal(size=shape)
    cube = layer.dft_matrix(n, X.ctx, X.dtype)  # (n, m, 2)
    matrix = cube.reshape(n, -1)  # (n, 2m): the same numbers as one matrix
    # The same matrix product through the built-in layer: Dense(2m) holding the DFT matrix.
    dense = nn.Dense(matrix.shape[1], in_units=n, use_bias=False, flatten=False)
    dense.initialize()
    dense.weight.set_data(matrix.T.copy())

    def parts() -> Parts:
        tiny = mnp.ones(1)
        C = mnp.dot(X, matrix)
        functions = {
            "layer": lambda: layer(X),
            "body": lambda: layer.forward(X),
            "builtin": lambda: dense(X),
            "builtin_body": lambda: dense.forward(X),
            "one_op": lambda: tiny * 2,
            "dft_matrix (cached)": lambda: layer.dft_matrix(n, X.ctx, X.dtype),
            TENSORDOT: lambda: mnp.tensordot(X, cube, axes=1),
            "np.dot with the (n, 2m) matrix": lambda: mnp.dot(X, matrix),
            "then reshape to (..., m, 2)": lambda: C.reshape((*shape[:-1], -1, 2)),
        }
        return Parts(
            MACHINERY,
            "gluon.nn.Dense",
            ONE_OP,
            functions,
            steps=["dft_matrix (cached)", TENSORDOT],
            main=TENSORDOT,
            extras=["np.dot with the (n, 2m) matrix", "then reshape to (..., m, 2)"],
            layer_ops=count_ops(layer.forward, X),
            builtin_ops=count_ops(dense.forward, X),
        )

    return Case(
        "FourierHalf",
        size,
        signal_label(shape),
        "np.dot with the DFT matrix",
        "gluon.nn.Dense (DFT weight)",
        {
            "layer": lambda: layer(X),
            "bare": lambda: mnp.dot(X, matrix),
            "builtin": lambda: dense(X),
        },
        parts,
    )


def cases(exercise: str, size: str) -> Case:
    return _reduction(size) if exercise == "TensorReduction" else _fourier(size)
