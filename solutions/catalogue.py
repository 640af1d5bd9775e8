"""A catalogue of implementations of the two exercises, as source text.

The property tests (``tests/solutions``) and the grader's own tests (``grading``, which also
builds student notebooks from these sources) share it, so every check is tried against the
same plausible answers.

Format
------
Each entry is an :class:`Implementation`:

``name``
    a short id, unique within its (exercise, framework), e.g. ``"fftn_all_axes"``;
``exercise``
    ``"TensorReduction"`` or ``"FourierHalf"``;
``framework``
    ``"mxnet"``, ``"pytorch"`` or ``"tensorflow"``;
``source``
    self-contained Python source, with its own imports, that, ``exec``'d in a fresh dict,
    defines the class named ``exercise`` with the contract's constructor
    (``TensorReduction(in_units, units)`` in PyTorch, ``TensorReduction(units, in_units,
    **kwargs)`` in MXNet, ``TensorReduction(units, **kwargs)`` in TensorFlow, ``FourierHalf()``
    everywhere). MXNet sources call ``npx.set_np()`` as the chapter's notebooks do;
``description``
    English: what the implementation does and, for a wrong one, what is wrong;
``breaks``
    for a wrong answer, the names of the property checks of ``solutions.properties``
    (``check_*`` functions of ``properties.CHECKS[exercise]``) that it fails on the fixed
    cases ``properties.CASES[exercise]``: exactly these, every other check passes. Empty
    for a correct style.

:data:`WRONG` holds plausible wrong answers: each fails exactly the checks in its ``breaks``.
:data:`CORRECT_STYLES` holds different correct styles: each must pass every check.
:func:`reference_source` gives the package's own solution class as self-contained source.

This module imports no framework (``reference_source`` reads the solution files as text).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

EXERCISES = ("TensorReduction", "FourierHalf")
FRAMEWORKS = ("mxnet", "pytorch", "tensorflow")


@dataclass(frozen=True)
class Implementation:
    name: str  # short id, e.g. "fftn_all_axes"
    exercise: str  # "TensorReduction" or "FourierHalf"
    framework: str  # "mxnet" | "pytorch" | "tensorflow"
    source: str  # self-contained source defining the class named `exercise`
    description: str  # English: what it does / what is wrong
    breaks: tuple[str, ...] = ()  # the property checks a wrong answer fails; () if correct


_HEADERS = {
    "pytorch": "import torch\nfrom torch import nn\n",
    "tensorflow": "import tensorflow as tf\n",
    "mxnet": (
        "from mxnet import autograd, init, np, npx\nfrom mxnet.gluon import nn\n\nnpx.set_np()\n"
    ),
}


def _impl(name: str, exercise: str, framework: str, body: str, description: str, breaks=()):
    source = _HEADERS[framework] + "\n\n" + body.strip("\n") + "\n"
    return Implementation(name, exercise, framework, source, description, tuple(breaks))


# --- the property checks (``solutions.properties``) that wrong answers break -----------------

_PARAMETER = "check_reduction_parameter"
_VALUES = "check_reduction_values"
_GRADIENTS = "check_reduction_gradients"
_SGD_STEP = "check_reduction_sgd_step"
_SEQUENTIAL = "check_reduction_sequential"
_ALL_REDUCTION = (_PARAMETER, _VALUES, _GRADIENTS, _SGD_STEP, _SEQUENTIAL)
# A wrong forward pass (the weight itself is fine): every check that compares an output.
_REDUCTION_OUTPUT = (_VALUES, _GRADIENTS, _SGD_STEP, _SEQUENTIAL)
# The weight gets no gradient: the output is right, the gradient and the SGD step are not.
_WEIGHT_GRADIENT = (_GRADIENTS, _SGD_STEP)

_FOURIER_NO_PARAMETERS = "check_fourier_no_parameters"
_FOURIER_VALUES = "check_fourier_values"
_FOURIER_GRADIENT = "check_fourier_gradient"
_FOURIER_SEQUENTIAL = "check_fourier_sequential"
# Wrong coefficients: their values, their gradient and the Sequential output all differ.
_FOURIER_OUTPUT = (_FOURIER_VALUES, _FOURIER_GRADIENT, _FOURIER_SEQUENTIAL)


# --- class templates: one correct skeleton per framework, the forward pass varies ---------

_TORCH_REDUCTION = """
class TensorReduction(nn.Module):
    def __init__(self, in_units, units):
        super().__init__()
        {init}

    def forward(self, X):
        {forward}
"""

_TORCH_WEIGHT = "self.weight = nn.Parameter(torch.randn(in_units, in_units, units))"

_TORCH_FOURIER = """
class FourierHalf(nn.Module):
    def forward(self, X):
        n = X.shape[-1]
        m = (n + 1) // 2
        {forward}
"""

_TF_REDUCTION = """
class TensorReduction(tf.keras.{base}):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, X_shape):
        {build}

    def call(self, X):
        {forward}
"""

_TF_WEIGHT = """self.weight = self.add_weight(
            name="weight",
            shape=(X_shape[-1], X_shape[-1], self.units),
            initializer=tf.random_normal_initializer(stddev=1.0),
        )"""

_TF_FOURIER = """
class FourierHalf(tf.keras.layers.Layer):
    def call(self, X):
        n = X.shape[-1]
        m = (n + 1) // 2
        {forward}
"""

_MX_REDUCTION = """
class TensorReduction(nn.Block):
    def __init__(self, units, in_units, **kwargs):
        super().__init__(**kwargs)
        {init}

    def forward(self, X):
        {forward}
"""

_MX_WEIGHT = """self.weight = self.params.get(
            "weight", shape=(in_units, in_units, units), init=init.Normal(sigma=1.0)
        )"""

_MX_FOURIER = """
class FourierHalf(nn.Block):
    def forward(self, X):
        n = X.shape[-1]
        m = (n + 1) // 2
        {forward}
"""

# A DFT matrix helper for the MXNet sources: (n, columns) cosines and sines, float64 angles.
_MX_DFT = """t = np.arange(n, dtype="float64").reshape(n, 1)
        k = np.arange({columns}, dtype="float64").reshape(1, {columns})
        angle = 2 * np.pi * t * k / n
        cos = np.cos(angle).astype(X.dtype)
        sin = np.sin(angle).astype(X.dtype)"""


def _torch_reduction(name, forward, description, init=_TORCH_WEIGHT, breaks=()):
    body = _TORCH_REDUCTION.format(init=init, forward=forward)
    return _impl(name, "TensorReduction", "pytorch", body, description, breaks)


def _torch_fourier(name, forward, description, breaks=()):
    body = _TORCH_FOURIER.format(forward=forward)
    return _impl(name, "FourierHalf", "pytorch", body, description, breaks)


def _tf_reduction(name, forward, description, build=_TF_WEIGHT, base="layers.Layer", breaks=()):
    body = _TF_REDUCTION.format(base=base, build=build, forward=forward)
    return _impl(name, "TensorReduction", "tensorflow", body, description, breaks)


def _tf_fourier(name, forward, description, breaks=()):
    body = _TF_FOURIER.format(forward=forward)
    return _impl(name, "FourierHalf", "tensorflow", body, description, breaks)


def _mx_reduction(name, forward, description, init=_MX_WEIGHT, breaks=()):
    body = _MX_REDUCTION.format(init=init, forward=forward)
    return _impl(name, "TensorReduction", "mxnet", body, description, breaks)


def _mx_fourier(name, forward, description, columns="m", breaks=()):
    forward = _MX_DFT.format(columns=columns) + "\n        " + forward
    body = _MX_FOURIER.format(forward=forward)
    return _impl(name, "FourierHalf", "mxnet", body, description, breaks)


# --- correct styles --------------------------------------------------------------------------

_TORCH_LOOPS = """Y = 0
        for i in range(X.shape[1]):
            for j in range(X.shape[1]):
                Y = Y + X[:, i : i + 1] * X[:, j : j + 1] * self.weight[i, j]
        return Y"""

_TF_LOOPS = """Y = 0
        for i in range(X.shape[1]):
            for j in range(X.shape[1]):
                Y = Y + X[:, i : i + 1] * X[:, j : j + 1] * self.weight[i, j]
        return Y"""

_MX_LOOPS = """W = self.weight.data(X.ctx)
        Y = 0
        for i in range(X.shape[1]):
            for j in range(X.shape[1]):
                Y = Y + X[:, i : i + 1] * X[:, j : j + 1] * W[i, j]
        return Y"""

CORRECT_STYLES: tuple[Implementation, ...] = (
    # PyTorch, TensorReduction
    _torch_reduction(
        "einsum",
        'return torch.einsum("bi,bj,ijk->bk", X, X, self.weight)',
        "One einsum over both input indices.",
    ),
    _torch_reduction("loops", _TORCH_LOOPS, "Explicit Python loops over i and j (slow, correct)."),
    _torch_reduction(
        "flattened_outer_matmul",
        """outer = (X[:, :, None] * X[:, None, :]).reshape(X.shape[0], -1)
        return outer @ self.weight.reshape(-1, self.weight.shape[-1])""",
        "The (batch, in*in) outer product times the weight flattened to (in*in, units).",
    ),
    _torch_reduction(
        "transposed_weight",
        'return torch.einsum("bi,bj,jik->bk", X, X, self.weight)',
        "Reads weight[j, i, k]: correct, because the sum is symmetric in i and j.",
    ),
    _torch_reduction(
        "tensordot",
        """outer = torch.einsum("bi,bj->bij", X, X)
        return torch.tensordot(outer, self.weight, dims=([1, 2], [0, 1]))""",
        "tensordot of the (batch, in, in) outer product with the weight.",
    ),
    _torch_reduction(
        "bilinear",
        "return nn.functional.bilinear(X, X, self.weight.permute(2, 0, 1))",
        "torch's bilinear form x^T A_k x with A_k = weight[:, :, k].",
    ),
    # PyTorch, FourierHalf
    _torch_fourier(
        "rfft_slice",
        "return torch.fft.rfft(X, dim=-1)[..., :m]",
        "rfft along the last axis, first ceil(n/2) coefficients.",
    ),
    _torch_fourier(
        "fft_slice",
        "return torch.fft.fft(X, dim=-1)[..., :m]",
        "Full complex fft along the last axis, then the first ceil(n/2) coefficients.",
    ),
    _torch_fourier(
        "matrix_dft",
        """t = torch.arange(n, dtype=torch.float64, device=X.device)
        k = torch.arange(m, dtype=torch.float64, device=X.device)
        angle = (2 * torch.pi / n * torch.outer(t, k)).to(X.dtype)
        return torch.complex(X @ torch.cos(angle), -(X @ torch.sin(angle)))""",
        "Matrix DFT: products with cosine and sine matrices, assembled into a complex tensor.",
    ),
    # TensorFlow, TensorReduction
    _tf_reduction(
        "einsum",
        'return tf.einsum("bi,bj,ijk->bk", X, X, self.weight)',
        "One einsum over both input indices, in a Keras layer.",
    ),
    _tf_reduction(
        "keras_model_einsum",
        'return tf.einsum("bi,bj,ijk->bk", X, X, self.weight)',
        "The chapter's style: a tf.keras.Model subclass with a lazy build, one einsum.",
        base="Model",
    ),
    _tf_reduction("loops", _TF_LOOPS, "Explicit Python loops over i and j (slow, correct)."),
    _tf_reduction(
        "flattened_outer_matmul",
        """outer = tf.reshape(X[:, :, None] * X[:, None, :], (tf.shape(X)[0], -1))
        return outer @ tf.reshape(self.weight, (-1, self.units))""",
        "The (batch, in*in) outer product times the weight flattened to (in*in, units).",
    ),
    _tf_reduction(
        "transposed_weight",
        'return tf.einsum("bi,bj,jik->bk", X, X, self.weight)',
        "Reads weight[j, i, k]: correct, because the sum is symmetric in i and j.",
    ),
    _tf_reduction(
        "tensordot",
        """outer = tf.einsum("bi,bj->bij", X, X)
        return tf.tensordot(outer, self.weight, axes=([1, 2], [0, 1]))""",
        "tensordot of the (batch, in, in) outer product with the weight.",
    ),
    # TensorFlow, FourierHalf
    _tf_fourier(
        "rfft_slice",
        "return tf.signal.rfft(X)[..., :m]",
        "rfft along the last axis, first ceil(n/2) coefficients.",
    ),
    _tf_fourier(
        "fft_slice",
        "return tf.signal.fft(tf.complex(X, tf.zeros_like(X)))[..., :m]",
        "Complex fft of X + 0i along the last axis, then the first ceil(n/2) coefficients.",
    ),
    _tf_fourier(
        "matrix_dft",
        """t = tf.range(n, dtype=tf.float64)[:, None]
        k = tf.range(m, dtype=tf.float64)[None, :]
        angle = tf.cast(2 * 3.141592653589793 / n * t * k, X.dtype)
        return tf.complex(X @ tf.cos(angle), -(X @ tf.sin(angle)))""",
        "Matrix DFT: products with cosine and sine matrices, assembled into a complex tensor.",
    ),
    # MXNet, TensorReduction
    _mx_reduction(
        "einsum",
        'return np.einsum("bi,bj,ijk->bk", X, X, self.weight.data(X.ctx))',
        "One einsum over both input indices.",
    ),
    _mx_reduction("loops", _MX_LOOPS, "Explicit Python loops over i and j (slow, correct)."),
    _mx_reduction(
        "flattened_outer_matmul",
        """W = self.weight.data(X.ctx)
        outer = (X[:, :, None] * X[:, None, :]).reshape(X.shape[0], -1)
        return np.dot(outer, W.reshape(-1, W.shape[-1]))""",
        "The (batch, in*in) outer product times the weight flattened to (in*in, units).",
    ),
    _mx_reduction(
        "transposed_weight",
        'return np.einsum("bi,bj,jik->bk", X, X, self.weight.data(X.ctx))',
        "Reads weight[j, i, k]: correct, because the sum is symmetric in i and j.",
    ),
    _mx_reduction(
        "tensordot",
        """outer = X[:, :, None] * X[:, None, :]
        return np.tensordot(outer, self.weight.data(X.ctx), axes=([1, 2], [0, 1]))""",
        "tensordot of the (batch, in, in) outer product with the weight.",
    ),
    # MXNet, FourierHalf
    _mx_fourier(
        "matrix_dft",
        "return np.stack([np.dot(X, cos), -np.dot(X, sin)], axis=-1)",
        "Matrix DFT: real part X @ cos and imaginary part -X @ sin, stacked on a last axis.",
    ),
    _mx_fourier(
        "full_matrix_then_slice",
        "return np.stack([np.dot(X, cos), -np.dot(X, sin)], axis=-1)[..., :m, :]",
        "Full n x n DFT matrices, then the first ceil(n/2) coefficients.",
        columns="n",
    ),
)


# --- wrong answers ---------------------------------------------------------------------------

WRONG: tuple[Implementation, ...] = (
    # PyTorch, TensorReduction
    _torch_reduction(
        "weight_data",
        'return torch.einsum("bi,bj,ijk->bk", X, X, self.weight.data)',
        "Uses self.weight.data, as d2l's MyLinear does: the weight gets no gradient.",
        breaks=_WEIGHT_GRADIENT,
    ),
    _torch_reduction(
        "not_registered",
        'return torch.einsum("bi,bj,ijk->bk", X, X, self.weight)',
        "The weight is a plain tensor attribute, not an nn.Parameter: parameters() is empty.",
        init="self.weight = torch.randn(in_units, in_units, units, requires_grad=True)",
        breaks=_ALL_REDUCTION,
    ),
    _torch_reduction(
        "k_swapped_i",
        'return torch.einsum("bk,bj,ijk->bi", X, X, self.weight)',
        "Swaps k with i: y_i = sum_jk W_ijk x_k x_j (fails unless in_units == units).",
        breaks=_REDUCTION_OUTPUT,
    ),
    _torch_reduction(
        "k_swapped_j",
        'return torch.einsum("bi,bk,ijk->bj", X, X, self.weight)',
        "Swaps k with j: y_j = sum_ik W_ijk x_i x_k (fails unless in_units == units).",
        breaks=_REDUCTION_OUTPUT,
    ),
    _torch_reduction(
        "output_batch_in_units",
        'return torch.einsum("bi,bj,ijk->bi", X, X, self.weight)',
        "Keeps i instead of k: output of shape (batch, in_units).",
        breaks=_REDUCTION_OUTPUT,
    ),
    _torch_reduction(
        "bias_added",
        'return torch.einsum("bi,bj,ijk->bk", X, X, self.weight) + self.bias',
        "Adds a bias (zero at first, so it shows only after a training step).",
        init=_TORCH_WEIGHT + "\n        self.bias = nn.Parameter(torch.zeros(units))",
        breaks=_ALL_REDUCTION,
    ),
    _torch_reduction(
        "activation_added",
        'return torch.relu(torch.einsum("bi,bj,ijk->bk", X, X, self.weight))',
        "Applies a ReLU to the reduction.",
        breaks=_REDUCTION_OUTPUT,
    ),
    _torch_reduction(
        "single_x",
        'return torch.einsum("bi,ik->bk", X, self.weight.sum(dim=1))',
        "Uses x only once: sum_ij W_ijk x_i, a linear layer.",
        breaks=_REDUCTION_OUTPUT,
    ),
    _torch_reduction(
        "uniform_init",
        'return torch.einsum("bi,bj,ijk->bk", X, X, self.weight)',
        "Initialises the weight uniformly on [0, 1) (torch.rand), not from a normal.",
        init="self.weight = nn.Parameter(torch.rand(in_units, in_units, units))",
        breaks=(_PARAMETER,),
    ),
    _torch_reduction(
        "numpy_roundtrip",
        """import numpy
        W, x = self.weight.detach().numpy(), X.detach().numpy()
        return torch.from_numpy(numpy.einsum("bi,bj,ijk->bk", x, x, W))""",
        "Computes with numpy.einsum on detached copies: right values, but no gradient reaches "
        "the weight or X.",
        breaks=_WEIGHT_GRADIENT,
    ),
    _torch_reduction(
        "weight_numpy",
        """import numpy
        x = X.detach().numpy()
        return torch.from_numpy(numpy.einsum("bi,bj,ijk->bk", x, x, self.weight.numpy()))""",
        "Calls .numpy() on the weight: PyTorch raises a RuntimeError wherever the weight "
        "requires a gradient (outside torch.no_grad()).",
        breaks=_WEIGHT_GRADIENT,
    ),
    # PyTorch, FourierHalf
    _torch_fourier(
        "fftn_all_axes",
        "return torch.fft.fftn(X)[..., :m]",
        "fftn transforms every axis, mixing the examples of the batch.",
        breaks=_FOURIER_OUTPUT,
    ),
    _torch_fourier(
        "n_half_plus_one",
        "return torch.fft.rfft(X)",
        "Keeps rfft's n // 2 + 1 coefficients: one too many (Nyquist) for even n.",
        breaks=_FOURIER_OUTPUT,
    ),
    _torch_fourier(
        "magnitudes",
        "return torch.fft.rfft(X)[..., :m].abs()",
        "Returns the magnitudes |C_k| instead of the complex coefficients.",
        breaks=_FOURIER_OUTPUT,
    ),
    _torch_fourier(
        "normalised",
        'return torch.fft.rfft(X, norm="forward")[..., :m]',
        "Normalises by 1/n.",
        breaks=_FOURIER_OUTPUT,
    ),
    _torch_fourier(
        "full_n",
        "return torch.fft.fft(X)",
        "Returns all n coefficients.",
        breaks=_FOURIER_OUTPUT,
    ),
    _torch_fourier(
        "floor_half",
        "return torch.fft.rfft(X)[..., : n // 2]",
        "Keeps floor(n/2) coefficients: one too few for odd n.",
        breaks=_FOURIER_OUTPUT,
    ),
    _torch_fourier(
        "trailing_half",
        "return torch.fft.fft(X)[..., n - m :]",
        "Keeps the last ceil(n/2) coefficients (reading 'metade anterior' backwards).",
        breaks=_FOURIER_OUTPUT,
    ),
    _torch_fourier(
        "real_part",
        "return torch.fft.rfft(X)[..., :m].real",
        "Returns only the real parts.",
        breaks=_FOURIER_OUTPUT,
    ),
    _torch_fourier(
        "detached_input",
        "return torch.fft.rfft(X.detach())[..., :m]",
        "Detaches X: no gradient flows back to the input.",
        breaks=(_FOURIER_GRADIENT,),
    ),
    _torch_fourier(
        "ortho",
        'return torch.fft.rfft(X, norm="ortho")[..., :m]',
        'Normalises by 1/sqrt(n) (norm="ortho").',
        breaks=_FOURIER_OUTPUT,
    ),
    _torch_fourier(
        "fft2_last_two_axes",
        "return torch.fft.fft2(X)[..., :m]",
        "fft2 transforms the last two axes, mixing the batch (or the channels).",
        breaks=_FOURIER_OUTPUT,
    ),
    _torch_fourier(
        "view_as_real",
        "return torch.view_as_real(torch.fft.rfft(X)[..., :m])",
        "Returns MXNet's layout, real (..., m, 2) pairs, instead of a complex tensor.",
        breaks=_FOURIER_OUTPUT,
    ),
    _torch_fourier(
        "numpy_roundtrip",
        """import numpy
        C = numpy.fft.fft(X.detach().numpy(), axis=-1)[..., :m]
        complex_type = numpy.complex64 if X.dtype == torch.float32 else numpy.complex128
        return torch.from_numpy(C.astype(complex_type))""",
        "Computes with numpy.fft on X.detach().numpy(): right values, but no gradient reaches X.",
        breaks=(_FOURIER_GRADIENT,),
    ),
    # TensorFlow, TensorReduction
    _tf_reduction(
        "stop_gradient",
        'return tf.einsum("bi,bj,ijk->bk", X, X, tf.stop_gradient(self.weight))',
        "tf.stop_gradient on the weight: it gets no gradient.",
        breaks=_WEIGHT_GRADIENT,
    ),
    _tf_reduction(
        "not_registered",
        'return tf.einsum("bi,bj,ijk->bk", X, X, self.weight)',
        "The weight is a constant tensor, not a weight: trainable_weights is empty.",
        build="self.weight = tf.random.normal((X_shape[-1], X_shape[-1], self.units))",
        breaks=_ALL_REDUCTION,
    ),
    _tf_reduction(
        "k_swapped_i",
        'return tf.einsum("bk,bj,ijk->bi", X, X, self.weight)',
        "Swaps k with i: y_i = sum_jk W_ijk x_k x_j (fails unless in_units == units).",
        breaks=_REDUCTION_OUTPUT,
    ),
    _tf_reduction(
        "k_swapped_j",
        'return tf.einsum("bi,bk,ijk->bj", X, X, self.weight)',
        "Swaps k with j: y_j = sum_ik W_ijk x_i x_k (fails unless in_units == units).",
        breaks=_REDUCTION_OUTPUT,
    ),
    _tf_reduction(
        "output_batch_in_units",
        'return tf.einsum("bi,bj,ijk->bi", X, X, self.weight)',
        "Keeps i instead of k: output of shape (batch, in_units).",
        breaks=_REDUCTION_OUTPUT,
    ),
    _tf_reduction(
        "bias_added",
        'return tf.einsum("bi,bj,ijk->bk", X, X, self.weight) + self.bias',
        "Adds a bias (zero at first, so it shows only after a training step).",
        build=_TF_WEIGHT
        + "\n        self.bias = self.add_weight("
        + 'name="bias", shape=(self.units,), initializer="zeros")',
        breaks=_ALL_REDUCTION,
    ),
    _tf_reduction(
        "activation_added",
        'return tf.nn.relu(tf.einsum("bi,bj,ijk->bk", X, X, self.weight))',
        "Applies a ReLU to the reduction.",
        breaks=_REDUCTION_OUTPUT,
    ),
    _tf_reduction(
        "single_x",
        'return tf.einsum("bi,ik->bk", X, tf.reduce_sum(self.weight, axis=1))',
        "Uses x only once: sum_ij W_ijk x_i, a linear layer.",
        breaks=_REDUCTION_OUTPUT,
    ),
    _tf_reduction(
        "uniform_init",
        'return tf.einsum("bi,bj,ijk->bk", X, X, self.weight)',
        "Initialises the weight uniformly on [-0.05, 0.05) (tf.random_uniform_initializer's "
        "default), not from a normal.",
        build=_TF_WEIGHT.replace(
            "tf.random_normal_initializer(stddev=1.0)", "tf.random_uniform_initializer()"
        ),
        breaks=(_PARAMETER,),
    ),
    # TensorFlow, FourierHalf
    _tf_fourier(
        "fft2d_all_axes",
        "return tf.signal.fft2d(tf.complex(X, tf.zeros_like(X)))[..., :m]",
        "fft2d transforms the last two axes, mixing the batch (or the channels).",
        breaks=_FOURIER_OUTPUT,
    ),
    _tf_fourier(
        "n_half_plus_one",
        "return tf.signal.rfft(X)",
        "Keeps rfft's n // 2 + 1 coefficients: one too many (Nyquist) for even n.",
        breaks=_FOURIER_OUTPUT,
    ),
    _tf_fourier(
        "magnitudes",
        "return tf.abs(tf.signal.rfft(X)[..., :m])",
        "Returns the magnitudes |C_k| instead of the complex coefficients.",
        breaks=_FOURIER_OUTPUT,
    ),
    _tf_fourier(
        "normalised",
        "return tf.signal.rfft(X)[..., :m] / n",
        "Normalises by 1/n.",
        breaks=_FOURIER_OUTPUT,
    ),
    _tf_fourier(
        "full_n",
        "return tf.signal.fft(tf.complex(X, tf.zeros_like(X)))",
        "Returns all n coefficients.",
        breaks=_FOURIER_OUTPUT,
    ),
    _tf_fourier(
        "floor_half",
        "return tf.signal.rfft(X)[..., : n // 2]",
        "Keeps floor(n/2) coefficients: one too few for odd n.",
        breaks=_FOURIER_OUTPUT,
    ),
    _tf_fourier(
        "real_part",
        "return tf.math.real(tf.signal.rfft(X)[..., :m])",
        "Returns only the real parts.",
        breaks=_FOURIER_OUTPUT,
    ),
    _tf_fourier(
        "stop_gradient_input",
        "return tf.signal.rfft(tf.stop_gradient(X))[..., :m]",
        "tf.stop_gradient on X: no gradient flows back to the input.",
        breaks=(_FOURIER_GRADIENT,),
    ),
    _tf_fourier(
        "ortho",
        """C = tf.signal.rfft(X)[..., :m]
        return C / tf.cast(n**0.5, C.dtype)""",
        "Normalises by 1/sqrt(n), as an orthonormal transform.",
        breaks=_FOURIER_OUTPUT,
    ),
    # MXNet, TensorReduction
    _mx_reduction(
        "weight_detached",
        """with autograd.pause():
            W = self.weight.data(X.ctx).detach()
        return np.einsum("bi,bj,ijk->bk", X, X, W)""",
        "Detaches the weight's data (inside autograd.pause): the weight gets no gradient.",
        breaks=_WEIGHT_GRADIENT,
    ),
    _mx_reduction(
        "not_registered",
        'return np.einsum("bi,bj,ijk->bk", X, X, self.weight)',
        "The weight is a plain array attribute, not from self.params.get: collect_params() "
        "is empty.",
        init="self.weight = np.random.normal(size=(in_units, in_units, units))",
        breaks=_ALL_REDUCTION,
    ),
    _mx_reduction(
        "k_swapped_i",
        'return np.einsum("bk,bj,ijk->bi", X, X, self.weight.data(X.ctx))',
        "Swaps k with i: y_i = sum_jk W_ijk x_k x_j (fails unless in_units == units).",
        breaks=_REDUCTION_OUTPUT,
    ),
    _mx_reduction(
        "k_swapped_j",
        'return np.einsum("bi,bk,ijk->bj", X, X, self.weight.data(X.ctx))',
        "Swaps k with j: y_j = sum_ik W_ijk x_i x_k (fails unless in_units == units).",
        breaks=_REDUCTION_OUTPUT,
    ),
    _mx_reduction(
        "output_batch_in_units",
        'return np.einsum("bi,bj,ijk->bi", X, X, self.weight.data(X.ctx))',
        "Keeps i instead of k: output of shape (batch, in_units).",
        breaks=_REDUCTION_OUTPUT,
    ),
    _mx_reduction(
        "bias_added",
        'return np.einsum("bi,bj,ijk->bk", X, X, self.weight.data(X.ctx)) + self.bias.data(X.ctx)',
        "Adds a bias (zero at first, so it shows only after a training step).",
        init=_MX_WEIGHT
        + '\n        self.bias = self.params.get("bias", shape=(units,), init=init.Zero())',
        breaks=_ALL_REDUCTION,
    ),
    _mx_reduction(
        "activation_added",
        'return npx.relu(np.einsum("bi,bj,ijk->bk", X, X, self.weight.data(X.ctx)))',
        "Applies a ReLU to the reduction.",
        breaks=_REDUCTION_OUTPUT,
    ),
    _mx_reduction(
        "single_x",
        'return np.einsum("bi,ik->bk", X, self.weight.data(X.ctx).sum(axis=1))',
        "Uses x only once: sum_ij W_ijk x_i, a linear layer.",
        breaks=_REDUCTION_OUTPUT,
    ),
    _mx_reduction(
        "uniform_init",
        'return np.einsum("bi,bj,ijk->bk", X, X, self.weight.data(X.ctx))',
        "Initialises the weight uniformly on [-0.07, 0.07] (init.Uniform(), also Gluon's "
        "default initialiser), not from a normal.",
        init=_MX_WEIGHT.replace("init.Normal(sigma=1.0)", "init.Uniform()"),
        breaks=(_PARAMETER,),
    ),
    # MXNet, FourierHalf
    _mx_fourier(
        "n_half_plus_one",
        "return np.stack([np.dot(X, cos), -np.dot(X, sin)], axis=-1)",
        "Keeps n // 2 + 1 coefficients: one too many (Nyquist) for even n.",
        columns="n // 2 + 1",
        breaks=_FOURIER_OUTPUT,
    ),
    _mx_fourier(
        "magnitudes",
        "return np.sqrt(np.dot(X, cos) ** 2 + np.dot(X, sin) ** 2)",
        "Returns the magnitudes |C_k|, shape (..., m), instead of (real, imaginary) pairs.",
        breaks=_FOURIER_OUTPUT,
    ),
    _mx_fourier(
        "normalised",
        "return np.stack([np.dot(X, cos), -np.dot(X, sin)], axis=-1) / n",
        "Normalises by 1/n.",
        breaks=_FOURIER_OUTPUT,
    ),
    _mx_fourier(
        "full_n",
        "return np.stack([np.dot(X, cos), -np.dot(X, sin)], axis=-1)",
        "Returns all n coefficients.",
        columns="n",
        breaks=_FOURIER_OUTPUT,
    ),
    _mx_fourier(
        "floor_half",
        "return np.stack([np.dot(X, cos), -np.dot(X, sin)], axis=-1)",
        "Keeps floor(n/2) coefficients: one too few for odd n.",
        columns="n // 2",
        breaks=_FOURIER_OUTPUT,
    ),
    _mx_fourier(
        "sine_sign",
        "return np.stack([np.dot(X, cos), np.dot(X, sin)], axis=-1)",
        "Forgets the minus sign of exp(-2 pi i k t / n): the imaginary parts are negated.",
        breaks=_FOURIER_OUTPUT,
    ),
    _mx_fourier(
        "real_imaginary_first",
        "return np.stack([np.dot(X, cos), -np.dot(X, sin)], axis=-2)",
        "Stacks on the wrong axis: shape (..., 2, m) instead of (..., m, 2).",
        breaks=(_FOURIER_VALUES, _FOURIER_SEQUENTIAL),
    ),
    _mx_fourier(
        "numpy_fft_on_array",
        """import numpy
        C = numpy.fft.fft(X, axis=-1)[..., :m]
        return np.stack([np.array(C.real), np.array(C.imag)], axis=-1)""",
        "Applies numpy.fft to the MXNet array itself: MXNet hands the call to NumPy and its "
        "complex result back to MXNet, which has no complex dtype, so the forward pass raises.",
        breaks=(_FOURIER_NO_PARAMETERS, *_FOURIER_OUTPUT),
    ),
    _mx_fourier(
        "numpy_roundtrip",
        """import numpy
        C = numpy.fft.fft(X.asnumpy(), axis=-1)[..., :m]
        return np.array(numpy.stack([C.real, C.imag], axis=-1), dtype=X.dtype)""",
        "Computes with numpy.fft on X.asnumpy(): right values, but no gradient reaches X.",
        breaks=(_FOURIER_GRADIENT,),
    ),
)


def implementations(
    exercise: str | None = None, framework: str | None = None, *, wrong: bool | None = None
) -> tuple[Implementation, ...]:
    """The catalogue's entries, filtered; ``wrong=None`` gives both lists."""
    pool = {None: WRONG + CORRECT_STYLES, True: WRONG, False: CORRECT_STYLES}[wrong]
    return tuple(
        entry
        for entry in pool
        if exercise in (None, entry.exercise) and framework in (None, entry.framework)
    )


def reference_source(exercise: str, framework: str) -> str:
    """The package's own solution class, with its module's imports, as self-contained source.

    Read from ``solutions/<framework>.py`` as text, so no framework is imported.
    """
    if exercise not in EXERCISES:
        raise ValueError(f"unknown exercise {exercise!r}; expected one of {EXERCISES}")
    if framework not in FRAMEWORKS:
        raise ValueError(f"unknown framework {framework!r}; expected one of {FRAMEWORKS}")
    text = (Path(__file__).parent / f"{framework}.py").read_text(encoding="utf-8")
    lines = text.splitlines()
    imports, target = [], None
    for node in ast.parse(text).body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            imports.append(ast.get_source_segment(text, node))
        elif isinstance(node, ast.ClassDef) and node.name == exercise:
            target = node
    if target is None:
        raise LookupError(f"solutions/{framework}.py defines no class {exercise}")
    first = min([target.lineno] + [decorator.lineno for decorator in target.decorator_list])
    body = "\n".join(lines[first - 1 : target.end_lineno])
    return "\n".join(imports) + "\n\n\n" + body + "\n"
