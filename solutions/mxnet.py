"""MXNet (Gluon, NumPy interface) reference solutions to the chapter's two exercises.

Imports MXNet only. ``@use_np`` gives each class the NumPy semantics of ``npx.set_np()``
without switching them on for the whole process at import time.
The contract is in ``solutions/reference.py`` (NumPy ground truth).
"""

import math

from mxnet import autograd, init, np
from mxnet.gluon import nn
from mxnet.util import use_np

__all__ = ["FourierHalf", "TensorReduction"]


@use_np
class TensorReduction(nn.Block):
    """``Y[b, k] = sum_ij weight[i, j, k] * X[b, i] * X[b, j]``, no bias, no activation."""

    def __init__(self, units, in_units, **kwargs):
        super().__init__(**kwargs)
        self.weight = self.params.get(
            "weight", shape=(in_units, in_units, units), init=init.Normal(sigma=1.0)
        )

    def forward(self, X):
        # Two contractions, in the order that keeps them cheap: first i, in one product with
        # the weight, Z[b, j, k] = sum_i X[b, i] weight[i, j, k] (tensordot contracts the
        # last axis of X with the first of the weight); then j, example by example,
        # Y[b, k] = sum_j X[b, j] Z[b, j, k], a batch of (1, in_units) x (in_units, units)
        # products. The (batch, in_units, in_units) outer product is never built.
        Z = np.tensordot(X, self.weight.data(X.ctx), axes=1)
        Y = np.matmul(np.expand_dims(X, 1), Z)  # (batch, 1, units)
        return Y.reshape(-1, Z.shape[-1])


@use_np
class FourierHalf(nn.Block):
    """The first ``ceil(n / 2)`` DFT coefficients along the last axis, as ``(..., m, 2)``.

    MXNet 1.x has no complex dtype and its FFT operator runs only on GPU, so this is a
    matrix DFT: one product with a ``(n, m, 2)`` array holding ``cos(2 pi k t / n)`` and
    ``-sin(2 pi k t / n)``, built once per (n, context, dtype).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._dft_matrices = {}

    def dft_matrix(self, n, ctx, dtype):
        """The ``(n, m, 2)`` array: real part then imaginary part of each coefficient."""
        key = (n, ctx, dtype)
        if key not in self._dft_matrices:
            m = (n + 1) // 2
            with autograd.pause():  # a constant: keep it out of any recorded graph
                t = np.arange(n, dtype="float64", ctx=ctx).reshape(n, 1)
                k = np.arange(m, dtype="float64", ctx=ctx).reshape(1, m)
                # k * t mod n keeps the angle in [0, 2 pi), so sines stay exact for large n.
                angle = (2 * math.pi / n) * np.mod(t * k, n)
                matrix = np.stack([np.cos(angle), -np.sin(angle)], axis=-1)
                self._dft_matrices[key] = matrix.astype(dtype)
        return self._dft_matrices[key]

    def forward(self, X):
        # One contraction of the last axis of X with the first of the (n, m, 2) array gives
        # the (..., m, 2) pairs directly: no reshape afterwards (each op costs an engine step).
        return np.tensordot(X, self.dft_matrix(X.shape[-1], X.ctx, X.dtype), axes=1)
