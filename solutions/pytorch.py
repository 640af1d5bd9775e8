"""PyTorch reference solutions to the chapter's two exercises.

Imports PyTorch only. The contract is in ``solutions/reference.py`` (NumPy ground truth).
"""

import torch
from torch import nn

__all__ = ["FourierHalf", "TensorReduction"]


class TensorReduction(nn.Module):
    """``Y[b, k] = sum_ij weight[i, j, k] * X[b, i] * X[b, j]``.

    No bias, no activation.
    """

    def __init__(self, in_units, units):
        super().__init__()
        weight = torch.randn(in_units, in_units, units)
        self.weight = nn.Parameter(weight)

    def forward(self, X):
        in_units, _, units = self.weight.shape
        # Contract i with one matrix product,
        #   Z[b, j, k] = sum_i X[b, i] weight[i, j, k],
        # then j with a batched product of each row X[b] with Z[b]:
        # the (batch, in_units, in_units) outer product is never
        # built.
        W = self.weight.reshape(in_units, in_units * units)
        Z = (X @ W).reshape(-1, in_units, units)
        return torch.bmm(X.unsqueeze(1), Z).squeeze(1)


class FourierHalf(nn.Module):
    """The first ``ceil(n / 2)`` DFT coefficients of the last axis.

    Returned as a complex tensor.
    """

    def forward(self, X):
        m = (X.shape[-1] + 1) // 2
        # rfft keeps n // 2 + 1 coefficients; for even n the last one
        # is Nyquist's.
        return torch.fft.rfft(X, dim=-1)[..., :m]
