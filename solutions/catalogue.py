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
    English: what the implementation does and, for a wrong one, what is wrong.

:data:`WRONG` holds plausible wrong answers: each must fail at least one property check.
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


_HEADERS = {
    "pytorch": "import torch\nfrom torch import nn\n",
    "tensorflow": "import tensorflow as tf\n",
    "mxnet": (
        "from mxnet import autograd, init, np, npx\nfrom mxnet.gluon import nn\n\nnpx.set_np()\n"
    ),
}


def _impl(name: str, exercise: str, framework: str, body: str, description: str):
    source = _HEADERS[framework] + "\n\n" + body.strip("\n") + "\n"
    return Implementation(name, exercise, framework, source, description)


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


def _torch_reduction(name, forward, description, init=_TORCH_WEIGHT):
    body = _TORCH_REDUCTION.format(init=init, forward=forward)
    return _impl(name, "TensorReduction", "pytorch", body, description)


def _torch_fourier(name, forward, description):
    body = _TORCH_FOURIER.format(forward=forward)
    return _impl(name, "FourierHalf", "pytorch", body, description)


def _tf_reduction(name, forward, description, build=_TF_WEIGHT, base="layers.Layer"):
    body = _TF_REDUCTION.format(base=base, build=build, forward=forward)
    return _impl(name, "TensorReduction", "tensorflow", body, description)


def _tf_fourier(name, forward, description):
    body = _TF_FOURIER.format(forward=forward)
    return _impl(name, "FourierHalf", "tensorflow", body, description)


def _mx_reduction(name, forward, description, init=_MX_WEIGHT):
    body = _MX_REDUCTION.format(init=init, forward=forward)
    return _impl(name, "TensorReduction", "mxnet", body, description)


def _mx_fourier(name, forward, description, columns="m"):
    forward = _MX_DFT.format(columns=columns) + "\n        " + forward
    return _impl(name, "FourierHalf", "mxnet", _MX_FOURIER.format(forward=forward), description)


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
    ),
    _torch_reduction(
        "not_registered",
        'return torch.einsum("bi,bj,ijk->bk", X, X, self.weight)',
        "The weight is a plain tensor attribute, not an nn.Parameter: parameters() is empty.",
        init="self.weight = torch.randn(in_units, in_units, units, requires_grad=True)",
    ),
    _torch_reduction(
        "k_swapped_i",
        'return torch.einsum("bk,bj,ijk->bi", X, X, self.weight)',
        "Swaps k with i: y_i = sum_jk W_ijk x_k x_j (fails unless in_units == units).",
    ),
    _torch_reduction(
        "output_batch_in_units",
        'return torch.einsum("bi,bj,ijk->bi", X, X, self.weight)',
        "Keeps i instead of k: output of shape (batch, in_units).",
    ),
    _torch_reduction(
        "bias_added",
        'return torch.einsum("bi,bj,ijk->bk", X, X, self.weight) + self.bias',
        "Adds a bias (zero at first, so it shows only after a training step).",
        init=_TORCH_WEIGHT + "\n        self.bias = nn.Parameter(torch.zeros(units))",
    ),
    _torch_reduction(
        "activation_added",
        'return torch.relu(torch.einsum("bi,bj,ijk->bk", X, X, self.weight))',
        "Applies a ReLU to the reduction.",
    ),
    _torch_reduction(
        "single_x",
        'return torch.einsum("bi,ik->bk", X, self.weight.sum(dim=1))',
        "Uses x only once: sum_ij W_ijk x_i, a linear layer.",
    ),
    _torch_reduction(
        "uniform_init",
        'return torch.einsum("bi,bj,ijk->bk", X, X, self.weight)',
        "Initialises the weight uniformly on [0, 1) (torch.rand), not from a normal.",
        init="self.weight = nn.Parameter(torch.rand(in_units, in_units, units))",
    ),
    # PyTorch, FourierHalf
    _torch_fourier(
        "fftn_all_axes",
        "return torch.fft.fftn(X)[..., :m]",
        "fftn transforms every axis, mixing the examples of the batch.",
    ),
    _torch_fourier(
        "n_half_plus_one",
        "return torch.fft.rfft(X)",
        "Keeps rfft's n // 2 + 1 coefficients: one too many (Nyquist) for even n.",
    ),
    _torch_fourier(
        "magnitudes",
        "return torch.fft.rfft(X)[..., :m].abs()",
        "Returns the magnitudes |C_k| instead of the complex coefficients.",
    ),
    _torch_fourier(
        "normalised",
        'return torch.fft.rfft(X, norm="forward")[..., :m]',
        "Normalises by 1/n.",
    ),
    _torch_fourier(
        "full_n",
        "return torch.fft.fft(X)",
        "Returns all n coefficients.",
    ),
    _torch_fourier(
        "floor_half",
        "return torch.fft.rfft(X)[..., : n // 2]",
        "Keeps floor(n/2) coefficients: one too few for odd n.",
    ),
    _torch_fourier(
        "trailing_half",
        "return torch.fft.fft(X)[..., n - m :]",
        "Keeps the last ceil(n/2) coefficients (reading 'metade anterior' backwards).",
    ),
    _torch_fourier(
        "real_part",
        "return torch.fft.rfft(X)[..., :m].real",
        "Returns only the real parts.",
    ),
    _torch_fourier(
        "detached_input",
        "return torch.fft.rfft(X.detach())[..., :m]",
        "Detaches X: no gradient flows back to the input.",
    ),
    # TensorFlow, TensorReduction
    _tf_reduction(
        "stop_gradient",
        'return tf.einsum("bi,bj,ijk->bk", X, X, tf.stop_gradient(self.weight))',
        "tf.stop_gradient on the weight: it gets no gradient.",
    ),
    _tf_reduction(
        "not_registered",
        'return tf.einsum("bi,bj,ijk->bk", X, X, self.weight)',
        "The weight is a constant tensor, not a weight: trainable_weights is empty.",
        build="self.weight = tf.random.normal((X_shape[-1], X_shape[-1], self.units))",
    ),
    _tf_reduction(
        "k_swapped_i",
        'return tf.einsum("bk,bj,ijk->bi", X, X, self.weight)',
        "Swaps k with i: y_i = sum_jk W_ijk x_k x_j (fails unless in_units == units).",
    ),
    _tf_reduction(
        "output_batch_in_units",
        'return tf.einsum("bi,bj,ijk->bi", X, X, self.weight)',
        "Keeps i instead of k: output of shape (batch, in_units).",
    ),
    _tf_reduction(
        "bias_added",
        'return tf.einsum("bi,bj,ijk->bk", X, X, self.weight) + self.bias',
        "Adds a bias (zero at first, so it shows only after a training step).",
        build=_TF_WEIGHT
        + "\n        self.bias = self.add_weight("
        + 'name="bias", shape=(self.units,), initializer="zeros")',
    ),
    _tf_reduction(
        "activation_added",
        'return tf.nn.relu(tf.einsum("bi,bj,ijk->bk", X, X, self.weight))',
        "Applies a ReLU to the reduction.",
    ),
    _tf_reduction(
        "single_x",
        'return tf.einsum("bi,ik->bk", X, tf.reduce_sum(self.weight, axis=1))',
        "Uses x only once: sum_ij W_ijk x_i, a linear layer.",
    ),
    # TensorFlow, FourierHalf
    _tf_fourier(
        "fft2d_all_axes",
        "return tf.signal.fft2d(tf.complex(X, tf.zeros_like(X)))[..., :m]",
        "fft2d transforms the last two axes, mixing the batch (or the channels).",
    ),
    _tf_fourier(
        "n_half_plus_one",
        "return tf.signal.rfft(X)",
        "Keeps rfft's n // 2 + 1 coefficients: one too many (Nyquist) for even n.",
    ),
    _tf_fourier(
        "magnitudes",
        "return tf.abs(tf.signal.rfft(X)[..., :m])",
        "Returns the magnitudes |C_k| instead of the complex coefficients.",
    ),
    _tf_fourier(
        "normalised",
        "return tf.signal.rfft(X)[..., :m] / n",
        "Normalises by 1/n.",
    ),
    _tf_fourier(
        "full_n",
        "return tf.signal.fft(tf.complex(X, tf.zeros_like(X)))",
        "Returns all n coefficients.",
    ),
    _tf_fourier(
        "floor_half",
        "return tf.signal.rfft(X)[..., : n // 2]",
        "Keeps floor(n/2) coefficients: one too few for odd n.",
    ),
    _tf_fourier(
        "real_part",
        "return tf.math.real(tf.signal.rfft(X)[..., :m])",
        "Returns only the real parts.",
    ),
    _tf_fourier(
        "stop_gradient_input",
        "return tf.signal.rfft(tf.stop_gradient(X))[..., :m]",
        "tf.stop_gradient on X: no gradient flows back to the input.",
    ),
    # MXNet, TensorReduction
    _mx_reduction(
        "weight_detached",
        """with autograd.pause():
            W = self.weight.data(X.ctx).detach()
        return np.einsum("bi,bj,ijk->bk", X, X, W)""",
        "Detaches the weight's data (inside autograd.pause): the weight gets no gradient.",
    ),
    _mx_reduction(
        "not_registered",
        'return np.einsum("bi,bj,ijk->bk", X, X, self.weight)',
        "The weight is a plain array attribute, not from self.params.get: collect_params() "
        "is empty.",
        init="self.weight = np.random.normal(size=(in_units, in_units, units))",
    ),
    _mx_reduction(
        "k_swapped_i",
        'return np.einsum("bk,bj,ijk->bi", X, X, self.weight.data(X.ctx))',
        "Swaps k with i: y_i = sum_jk W_ijk x_k x_j (fails unless in_units == units).",
    ),
    _mx_reduction(
        "output_batch_in_units",
        'return np.einsum("bi,bj,ijk->bi", X, X, self.weight.data(X.ctx))',
        "Keeps i instead of k: output of shape (batch, in_units).",
    ),
    _mx_reduction(
        "bias_added",
        'return np.einsum("bi,bj,ijk->bk", X, X, self.weight.data(X.ctx)) + self.bias.data(X.ctx)',
        "Adds a bias (zero at first, so it shows only after a training step).",
        init=_MX_WEIGHT
        + '\n        self.bias = self.params.get("bias", shape=(units,), init=init.Zero())',
    ),
    _mx_reduction(
        "activation_added",
        'return npx.relu(np.einsum("bi,bj,ijk->bk", X, X, self.weight.data(X.ctx)))',
        "Applies a ReLU to the reduction.",
    ),
    _mx_reduction(
        "single_x",
        'return np.einsum("bi,ik->bk", X, self.weight.data(X.ctx).sum(axis=1))',
        "Uses x only once: sum_ij W_ijk x_i, a linear layer.",
    ),
    # MXNet, FourierHalf
    _mx_fourier(
        "n_half_plus_one",
        "return np.stack([np.dot(X, cos), -np.dot(X, sin)], axis=-1)",
        "Keeps n // 2 + 1 coefficients: one too many (Nyquist) for even n.",
        columns="n // 2 + 1",
    ),
    _mx_fourier(
        "magnitudes",
        "return np.sqrt(np.dot(X, cos) ** 2 + np.dot(X, sin) ** 2)",
        "Returns the magnitudes |C_k|, shape (..., m), instead of (real, imaginary) pairs.",
    ),
    _mx_fourier(
        "normalised",
        "return np.stack([np.dot(X, cos), -np.dot(X, sin)], axis=-1) / n",
        "Normalises by 1/n.",
    ),
    _mx_fourier(
        "full_n",
        "return np.stack([np.dot(X, cos), -np.dot(X, sin)], axis=-1)",
        "Returns all n coefficients.",
        columns="n",
    ),
    _mx_fourier(
        "floor_half",
        "return np.stack([np.dot(X, cos), -np.dot(X, sin)], axis=-1)",
        "Keeps floor(n/2) coefficients: one too few for odd n.",
        columns="n // 2",
    ),
    _mx_fourier(
        "sine_sign",
        "return np.stack([np.dot(X, cos), np.dot(X, sin)], axis=-1)",
        "Forgets the minus sign of exp(-2 pi i k t / n): the imaginary parts are negated.",
    ),
    _mx_fourier(
        "real_imaginary_first",
        "return np.stack([np.dot(X, cos), -np.dot(X, sin)], axis=-2)",
        "Stacks on the wrong axis: shape (..., 2, m) instead of (..., m, 2).",
    ),
    _mx_fourier(
        "numpy_roundtrip",
        """import numpy
        C = numpy.fft.fft(X.asnumpy(), axis=-1)[..., :m]
        return np.array(numpy.stack([C.real, C.imag], axis=-1), dtype=X.dtype)""",
        "Computes with numpy.fft on X.asnumpy(): right values, but no gradient reaches X.",
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
