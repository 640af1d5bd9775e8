"""NumPy ground truth for both exercises, written for clarity rather than speed."""

from __future__ import annotations

import numpy as np


def tensor_reduction(weight: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``Y[b, k] = sum_ij weight[i, j, k] * X[b, i] * X[b, j]``.

    ``weight`` has shape ``(in_units, in_units, units)``, ``X`` has ``(batch, in_units)``.
    """
    weight = np.asarray(weight, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    if weight.ndim != 3 or weight.shape[0] != weight.shape[1]:
        raise ValueError(f"weight must have shape (in_units, in_units, units), got {weight.shape}")
    if X.ndim != 2 or X.shape[1] != weight.shape[0]:
        raise ValueError(f"X must have shape (batch, {weight.shape[0]}), got {X.shape}")
    outer = X[:, :, None] * X[:, None, :]  # (batch, i, j)
    return np.tensordot(outer, weight, axes=([1, 2], [0, 1]))


def tensor_reduction_weight_grad(X: np.ndarray, grad_output: np.ndarray) -> np.ndarray:
    """Analytic ``dL/dweight[i, j, k] = sum_b X[b, i] X[b, j] grad_output[b, k]``."""
    X = np.asarray(X, dtype=np.float64)
    grad_output = np.asarray(grad_output, dtype=np.float64)
    return np.einsum("bi,bj,bk->ijk", X, X, grad_output)


def tensor_reduction_input_grad(
    weight: np.ndarray, X: np.ndarray, grad_output: np.ndarray
) -> np.ndarray:
    """Analytic ``dL/dX[b, i] = sum_jk (weight[i, j, k] + weight[j, i, k]) X[b, j] g[b, k]``."""
    weight = np.asarray(weight, dtype=np.float64)
    symmetric = weight + weight.transpose(1, 0, 2)
    return np.einsum("ijk,bj,bk->bi", symmetric, np.asarray(X, np.float64), grad_output)


def leading_half_size(n: int) -> int:
    """Number of leading coefficients kept for a signal of length ``n``: ``ceil(n / 2)``."""
    if n < 1:
        raise ValueError(f"signal length must be at least 1, got {n}")
    return (n + 1) // 2


def fourier_half(X: np.ndarray) -> np.ndarray:
    """First ``ceil(n/2)`` unnormalised DFT coefficients along the last axis (complex128)."""
    X = np.asarray(X, dtype=np.float64)
    m = leading_half_size(X.shape[-1])
    return np.fft.fft(X, axis=-1)[..., :m]


def fourier_half_input_grad(X: np.ndarray) -> np.ndarray:
    """Gradient of ``sum(Re C) + sum(Im C)`` with respect to ``X``, from the DFT definition.

    ``C[k] = sum_t X[t] (cos(2 pi k t / n) - i sin(2 pi k t / n))``, so the derivative by
    ``X[t]`` is ``sum_k cos(2 pi k t / n) - sin(2 pi k t / n)`` for ``k < m``.
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[-1]
    k = np.arange(leading_half_size(n))[:, None]
    t = np.arange(n)[None, :]
    angle = 2 * np.pi * k * t / n
    per_time = (np.cos(angle) - np.sin(angle)).sum(axis=0)
    return np.broadcast_to(per_time, X.shape).copy()


def as_real_imaginary(C: np.ndarray) -> np.ndarray:
    """Complex ``(..., m)`` to MXNet's ``(..., m, 2)`` layout: real part then imaginary."""
    return np.stack([C.real, C.imag], axis=-1)
