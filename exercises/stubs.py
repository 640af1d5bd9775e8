"""The code a student starts from: one stub per exercise and framework, and the check cells.

Each stub defines the class with the contract's constructor and raises ``NotImplementedError``
where the student's code goes (marked ``# SEU CÓDIGO AQUI``), so the checks report the
exercise as not attempted until it is written. Each stub carries its own imports: the grader
runs only the ``%%tab`` cells. Their lines stay within 72 columns (PEP 8's for comments),
what the book's code blocks show without scrolling at 1280 px.
"""

from __future__ import annotations

from frametabs.frameworks import MARKER

TODO = "# SEU CÓDIGO AQUI"

_IMPORTS = {
    "mxnet": "from mxnet import np, npx\nfrom mxnet.gluon import nn\n\nnpx.set_np()\n",
    "pytorch": "import torch\nfrom torch import nn\n",
    "tensorflow": "import tensorflow as tf\n",
}

_TENSOR_REDUCTION = {
    "mxnet": f"""
class TensorReduction(nn.Block):
    def __init__(self, units, in_units, **kwargs):
        super().__init__(**kwargs)
        {TODO}: crie o parâmetro 'weight' com self.params.get
        # (como em MyDense), de forma (in_units, in_units, units).
        raise NotImplementedError

    def forward(self, X):
        {TODO}: devolva Y, de forma (batch, units).
        raise NotImplementedError""",
    "pytorch": f"""
class TensorReduction(nn.Module):
    def __init__(self, in_units, units):
        super().__init__()
        {TODO}: crie o parâmetro self.weight, de forma
        # (in_units, in_units, units), com valores de uma
        # distribuição normal.
        raise NotImplementedError

    def forward(self, X):
        {TODO}: devolva Y, de forma (batch, units),
        # sem usar .data.
        raise NotImplementedError""",
    "tensorflow": f"""
class TensorReduction(tf.keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, X_shape):
        {TODO}: crie self.weight, de forma
        # (in_units, in_units, units), em que in_units = X_shape[-1],
        # com self.add_weight(name='weight', ...).
        raise NotImplementedError

    def call(self, X):
        {TODO}: devolva Y, de forma (batch, units).
        raise NotImplementedError""",
}

_FOURIER_HALF = {
    "mxnet": f"""
class FourierHalf(nn.Block):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def forward(self, X):
        {TODO}: devolva um array real de forma (..., m, 2),
        # m = ceil(n / 2), com a parte real e a parte imaginária de
        # cada coeficiente, calculadas na CPU.
        raise NotImplementedError""",
    "pytorch": f"""
class FourierHalf(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, X):
        {TODO}: devolva um tensor complexo de forma
        # (..., m), em que m = ceil(n / 2).
        raise NotImplementedError""",
    "tensorflow": f"""
class FourierHalf(tf.keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def call(self, X):
        {TODO}: devolva um tensor complexo de forma
        # (..., m), em que m = ceil(n / 2).
        raise NotImplementedError""",
}

_STUBS = {"TensorReduction": _TENSOR_REDUCTION, "FourierHalf": _FOURIER_HALF}


def tab_cell(framework: str, code: str) -> str:
    """Source of a ``%%tab`` cell for one framework."""
    return f"{MARKER} {framework}\n{code.strip()}"


def stub_source(class_name: str, framework: str) -> str:
    """The stub's code (without the ``%%tab`` line): imports, then the class."""
    return f"{_IMPORTS[framework]}\n{_STUBS[class_name][framework]}"


def check_source(class_name: str) -> str:
    """The check cell's code (without the ``%%tab`` line), the same in every framework."""
    return f"from grading.notebook import check\n\ncheck({class_name})"
