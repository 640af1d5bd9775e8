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
    """``Y[b, k] = sum_ij weight[i, j, k] * X[b, i] * X[b, j]``.

    No bias, no activation.
    """

    def __init__(self, units, in_units, **kwargs):
        super().__init__(**kwargs)
        self.weight = self.params.get(
            "weight",
            shape=(in_units, in_units, units),
            init=init.Normal(sigma=1.0),
        )

    def forward(self, X):
        # Two contractions, in the order that keeps them cheap. First
        # i, in one product with the weight (tensordot contracts the
        # last axis of X with the first of the weight):
        #   Z[b, j, k] = sum_i X[b, i] weight[i, j, k];
        # then j, example by example, a batch of (1, in_units) x
        # (in_units, units) products:
        #   Y[b, k] = sum_j X[b, j] Z[b, j, k].
        # The (batch, in_units, in_units) outer product is never
        # built.
        Z = np.tensordot(X, self.weight.data(X.ctx), axes=1)
        Y = np.matmul(np.expand_dims(X, 1), Z)  # (batch, 1, units)
        return Y.reshape(-1, Z.shape[-1])


@use_np
class FourierHalf(nn.Block):
    """The first ``ceil(n / 2)`` DFT coefficients of the last axis.

    Returned as ``(..., m, 2)`` pairs: MXNet 1.x has no complex
    dtype and its FFT operator runs only on GPU, so this is a matrix
    DFT, one product with a ``(n, m, 2)`` array holding
    ``cos(2 pi k t / n)`` and ``-sin(2 pi k t / n)``, built once per
    (n, context, dtype).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._dft_matrices = {}

    def dft_matrix(self, n, ctx, dtype):
        """The ``(n, m, 2)`` array: real, then imaginary parts."""
        key = (n, ctx, dtype)
        if key not in self._dft_matrices:
            m = (n + 1) // 2
            with autograd.pause():  # a constant, out of any graph
                t = np.arange(n, dtype="float64", ctx=ctx)
                k = np.arange(m, dtype="float64", ctx=ctx)
                # k * t mod n keeps the angle in [0, 2 pi): the sines
                # stay exact for large n.
                tk = t.reshape(n, 1) * k.reshape(1, m)
                angle = (2 * math.pi / n) * np.mod(tk, n)
                pair = [np.cos(angle), -np.sin(angle)]
                matrix = np.stack(pair, axis=-1)
                self._dft_matrices[key] = matrix.astype(dtype)
        return self._dft_matrices[key]

    def forward(self, X):
        # One contraction of the last axis of X with the first of the
        # (n, m, 2) array gives the (..., m, 2) pairs directly: no
        # reshape afterwards (each op costs an engine step).
        matrix = self.dft_matrix(X.shape[-1], X.ctx, X.dtype)
        return np.tensordot(X, matrix, axes=1)
