"""Hints for the known mistakes: each one shown on the mistake that triggers it.

The first part drives ``grading.hints`` with the mistakes computed in NumPy (no framework);
the second runs the real in-notebook checks (``grading.inprocess.run_checks``) on wrong
layers of ``solutions.catalogue`` and on a few NumPy round trips, in PyTorch, TensorFlow and
MXNet (the root conftest loads MXNet first, so all three share this process).
"""

from __future__ import annotations

import functools
import re
import sys

import numpy as np
import pytest

from grading import hints
from grading.notebook import CheckReport
from grading.results import plural
from solutions import catalogue, reference

RNG = np.random.default_rng(2024)
X_EVEN = RNG.standard_normal((3, 8))
X_ODD = RNG.standard_normal((2, 7))
X_AXES = RNG.standard_normal((2, 3, 6))
SIGNALS = pytest.mark.parametrize("X", [X_EVEN, X_ODD, X_AXES], ids=["even", "odd", "axes"])
LAYOUTS = pytest.mark.parametrize("pairs", [False, True], ids=["complex", "mxnet"])


def _half(X: np.ndarray) -> np.ndarray:
    return reference.fourier_half(X)


def _as(pairs: bool, coefficients: np.ndarray) -> np.ndarray:
    return reference.as_real_imaginary(coefficients) if pairs else coefficients


def _numbers(values: np.ndarray) -> set[str]:
    """The reference's values as the check messages would print them."""
    flat = np.asarray(values).ravel()
    return {f"{v:.4g}" for v in np.concatenate([flat.real, flat.imag]) if abs(v) > 1e-9}


# --- plurals ----------------------------------------------------------------------------------


def test_plural_agrees_with_the_count():
    assert plural(1, "verificação", "verificações") == "1 verificação"
    assert plural(2, "verificação", "verificações") == "2 verificações"
    assert plural(0, "coeficiente", "coeficientes") == "0 coeficientes"


# --- the number of coefficients ---------------------------------------------------------------


def test_floor_half_for_odd_n_names_the_ceiling_and_n_over_2():
    text = hints.coefficient_count(7, 3)
    assert "m = ⌈n/2⌉ = 4 coeficientes para n = 7" in text
    assert "não n // 2 = 3" in text and "ímpar" in text
    assert "(n + 1) // 2" in text


def test_rfft_output_for_even_n_names_the_nyquist_term():
    text = hints.coefficient_count(12, 7)
    assert "m = ⌈n/2⌉ = 6 coeficientes" in text and "n // 2 + 1 = 7" in text
    assert "Nyquist" in text and "ímpar" not in text


def test_every_coefficient_and_other_counts():
    assert "não todos os 9" in hints.coefficient_count(9, 9)
    other = hints.coefficient_count(9, 2)
    assert "m = ⌈n/2⌉ = 5 coeficientes" in other and "não 2" in other
    assert "Nyquist" not in other and "n // 2" not in other.split(";")[0]


def test_one_coefficient_is_singular():
    text = hints.coefficient_count(1, 0)
    assert "= 1 coeficiente para n = 1" in text and "1 coeficientes" not in text


@LAYOUTS
@pytest.mark.parametrize("count", [3, 7, 1])  # n // 2, n, another count (n = 7, m = 4)
def test_a_wrong_count_is_named_on_its_axis(pairs, count):
    got = np.zeros((2, count, 2) if pairs else (2, count))
    text = hints.fourier_shape(X_ODD, got, pairs)
    axis = "o penúltimo eixo" if pairs else "o último eixo"
    assert text.startswith(f"{axis} deve ter m = ⌈n/2⌉ = 4 coeficientes"), text


def test_mxnet_pairs_stacked_first_are_named():
    m = 4
    got = np.zeros((2, 2, m))
    assert hints.fourier_shape(X_ODD, got, True) == hints.PAIR_AXIS_FIRST


def test_mxnet_magnitudes_have_no_pair_axis_and_are_named():
    got = np.abs(_half(X_ODD))
    text = hints.fourier_shape(X_ODD, got, True)
    assert text.startswith("os valores são os módulos |C_k|")
    assert "último eixo de tamanho 2" in text


def test_mxnet_output_without_pairs_and_unknown_values():
    got = np.ones(_half(X_ODD).shape)
    assert hints.fourier_shape(X_ODD, got, True) == hints.NO_PAIR_AXIS


def test_pairs_where_a_complex_tensor_was_asked_for():
    got = reference.as_real_imaginary(_half(X_EVEN))
    assert hints.fourier_shape(X_EVEN, got, False) == hints.PAIRS_NOT_COMPLEX
    other = hints.fourier_shape(X_EVEN, np.ones_like(got), False)  # same shape, other values
    assert other != hints.PAIRS_NOT_COMPLEX and "⌈n/2⌉" in other


def test_any_other_shape_still_names_the_ceiling():
    got = np.zeros((6, 4))  # the batch flattened away
    text = hints.fourier_shape(X_EVEN, got, False)
    assert "(3,)" in text and "n = 8" in text and "m = ⌈n/2⌉ = 4 coeficientes" in text
    assert "tamanho 2" in hints.fourier_shape(X_EVEN, got, True)


# --- wrong values of FourierHalf --------------------------------------------------------------


@SIGNALS
@LAYOUTS
@pytest.mark.parametrize(
    ("scale", "hint"),
    [(1.0, "divididos por n ="), (0.5, 'norm="ortho"')],
    ids=["1/n", "1/sqrt(n)"],
)
def test_a_normalised_transform_is_named(X, pairs, scale, hint):
    n = X.shape[-1]
    got = _as(pairs, _half(X) / n**scale)
    text = hints.fourier_values(X, got, pairs)
    assert hint in text and f"n = {n}" in text
    other = 'norm="ortho"' if scale == 1.0 else "divididos por n ="
    assert other not in text


@SIGNALS
@LAYOUTS
def test_every_axis_transformed_is_named(X, pairs):
    got = _as(pairs, np.fft.fftn(X)[..., : _half(X).shape[-1]])
    assert hints.fourier_values(X, got, pairs) == hints.ALL_AXES


@LAYOUTS
def test_the_last_two_axes_transformed_are_named(pairs):
    m = _half(X_AXES).shape[-1]
    got = _as(pairs, np.fft.fft2(X_AXES)[..., :m])  # fft2 / fft2d: the last two axes
    assert not np.allclose(got, _as(pairs, np.fft.fftn(X_AXES)[..., :m]))
    assert hints.fourier_values(X_AXES, got, pairs) == hints.ALL_AXES


@SIGNALS
def test_magnitudes_and_real_parts_are_named(X):
    magnitudes = hints.fourier_values(X, np.abs(_half(X)), False)
    real_parts = hints.fourier_values(X, _half(X).real, False)
    assert magnitudes.startswith("Os valores são os módulos |C_k|")
    assert real_parts.startswith("Os valores são só a parte real")
    assert "complexos" in magnitudes and "complexos" in real_parts


@SIGNALS
@LAYOUTS
def test_conjugates_and_the_trailing_half_are_named(X, pairs):
    n, m = X.shape[-1], _half(X).shape[-1]
    assert hints.fourier_values(X, _as(pairs, np.conj(_half(X))), pairs) == hints.CONJUGATE
    trailing = np.fft.fft(X, axis=-1)[..., n - m :]
    assert hints.fourier_values(X, _as(pairs, trailing), pairs) == hints.TRAILING


@SIGNALS
@LAYOUTS
def test_right_or_unknown_values_get_no_hint(X, pairs):
    right = _as(pairs, _half(X))
    assert hints.fourier_values(X, right, pairs) == ""
    assert hints.fourier_values(X, right * 2.0, pairs) == ""  # a mistake no hint knows
    assert hints.fourier_values(X, right + 0.5, pairs) == ""
    broken = right.copy()
    broken.flat[0] = np.nan
    assert hints.fourier_values(X, broken / X.shape[-1], pairs) == ""  # NaN: no hint


def test_two_mistakes_or_the_right_values_give_no_hint():
    X = np.array([[2.5]])  # n = 1, positive: |C| and Re C are both X
    assert hints.fourier_values(X, X.astype(np.float32), False) == ""
    # n = 1, negative: X is C itself (only its dtype is wrong), so no mistake is named
    assert hints.fourier_values(-X, -X, False) == ""
    assert hints.fourier_values(-X, X, False).startswith("Os valores são os módulos")


@SIGNALS
def test_hints_show_no_value_of_the_reference(X):
    numbers = _numbers(_half(X))
    for got in (_half(X) / X.shape[-1], np.abs(_half(X)), np.conj(_half(X))):
        text = hints.fourier_values(X, got, False)
        assert text
        assert not {word for word in re.findall(r"-?\d+\.\d+", text)} & numbers


# --- wrong values of TensorReduction ----------------------------------------------------------


def _reduction() -> np.ndarray:
    rng = np.random.default_rng(5)
    weight, X = rng.standard_normal((4, 4, 3)), rng.standard_normal((6, 4))
    expected = reference.tensor_reduction(weight, X)
    assert (expected < 0).any() and (expected > 0).any()
    return expected


def test_an_output_clipped_at_zero_is_a_relu():
    expected = _reduction()
    text = hints.reduction_values(expected, np.maximum(expected, 0).astype(np.float32))
    assert text == hints.RELU and "ReLU" in text and "ativação" in text


@pytest.mark.parametrize(
    ("activation", "name"),
    [(np.tanh, "tanh"), (lambda y: 1 / (1 + np.exp(-y)), "sigmoide")],
    ids=["tanh", "sigmoid"],
)
def test_squashing_activations_are_named(activation, name):
    expected = _reduction()
    text = hints.reduction_values(expected, activation(expected))
    assert name in text and "ativação" in text


def test_other_wrong_reductions_get_no_hint():
    expected = _reduction()
    assert hints.reduction_values(expected, expected) == ""
    assert hints.reduction_values(expected, np.abs(expected)) == ""  # not clipped: mirrored
    assert hints.reduction_values(expected, expected + 1.0) == ""
    assert hints.reduction_values(expected, np.maximum(expected, 0)[:, :2]) == ""
    assert hints.reduction_values(expected, np.maximum(expected, 0) + 0j) == ""
    assert hints.reduction_values(expected, None) == ""
    assert hints.reduction_values(np.abs(expected), np.abs(expected) * 0.5) == ""


def test_a_mistake_that_changes_nothing_is_not_named():
    """With no negative output a ReLU is harmless: right values name no activation."""
    positive = np.abs(_reduction())
    assert hints.reduction_values(positive, positive.astype(np.float32)) == ""


def test_two_hints_for_the_same_values_give_none():
    got, right = np.ones(3), np.zeros(3)
    assert hints._only_match(iter([("a", got), ("b", got)]), got, right) == ""
    assert hints._only_match(iter([("a", got), ("a", got)]), got, right) == "a"


# --- through the in-notebook checks -----------------------------------------------------------


def _mxnet_mode() -> tuple[bool, bool] | None:
    mx = sys.modules.get("mxnet")
    return None if mx is None else (mx.util.is_np_array(), mx.util.is_np_shape())


@pytest.fixture(autouse=True)
def _mxnet_mode_restored():
    """The catalogue's MXNet sources call ``npx.set_np()`` in this process: undo it."""
    before = _mxnet_mode() or (False, False)
    yield
    if _mxnet_mode() not in (None, before):
        mx = sys.modules["mxnet"]
        mx.npx.reset_np()
        if any(before):
            mx.npx.set_np(shape=before[1], array=before[0])


def _load(source: str, name: str) -> type:
    namespace: dict = {"__name__": "student_cell"}
    exec(compile(source, f"<{name}>", "exec"), namespace)
    return namespace[name]


@functools.cache
def _report(framework: str, exercise: str, name: str) -> CheckReport:
    from grading.inprocess import run_checks

    pytest.importorskip({"pytorch": "torch"}.get(framework, framework))
    entry = next(
        i for i in catalogue.implementations(exercise, framework, wrong=True) if i.name == name
    )
    cls = _load(entry.source, exercise)
    return CheckReport(run_checks(cls, exercise, framework, 11), 11)


@functools.cache
def _report_of(framework: str, exercise: str, source: str) -> CheckReport:
    from grading.inprocess import run_checks

    pytest.importorskip({"pytorch": "torch"}.get(framework, framework))
    return CheckReport(run_checks(_load(source, exercise), exercise, framework, 11), 11)


def _messages(report: CheckReport) -> dict[str, str]:
    return {check.key: check.message for check in report.result.checks if not check.passed}


@pytest.mark.parametrize("framework", ["pytorch", "mxnet"])
def test_floor_half_names_the_ceiling_and_no_gradient_follows(framework):
    failed = _messages(_report(framework, "FourierHalf", "floor_half"))
    assert set(failed) == {"odd", "input_grad", "tiny"}
    axis = "penúltimo" if framework == "mxnet" else "último"
    assert f"o {axis} eixo deve ter m = ⌈n/2⌉ = 4 coeficientes para n = 7" in failed["odd"]
    assert "não n // 2 = 3" in failed["odd"]
    gradient = failed["input_grad"]
    assert gradient.startswith("gradiente não comparado, porque a saída tem a forma errada")
    assert "⌈n/2⌉" in gradient and "gradiente de X:" not in gradient
    assert "valores diferem" not in gradient


def test_n_over_2_plus_1_names_rfft_and_nyquist():
    failed = _messages(_report("pytorch", "FourierHalf", "n_half_plus_one"))
    assert set(failed) == {"shape", "even", "leading_axes"}
    assert all("⌈n/2⌉" in text and "Nyquist" in text for text in failed.values())


def test_a_relu_is_named_in_values_and_gradients():
    failed = _messages(_report("pytorch", "TensorReduction", "activation_added"))
    assert {"values", "new_weight", "batch_one", "weight_grad", "input_grad"} <= set(failed)
    assert all("ReLU" in failed[key] for key in ("values", "new_weight", "batch_one"))
    assert "A saída já está errada. As saídas negativas viraram 0" in failed["input_grad"]


@pytest.mark.parametrize(
    ("framework", "name", "hint"),
    [
        ("pytorch", "normalised", "divididos por n ="),
        ("pytorch", "ortho", 'norm="ortho"'),
        ("tensorflow", "ortho", 'norm="ortho"'),
        ("mxnet", "normalised", "divididos por n ="),
        ("pytorch", "fftn_all_axes", "mais de um eixo"),
        ("pytorch", "fft2_last_two_axes", "mais de um eixo"),
        ("mxnet", "sine_sign", "sinal trocado"),
    ],
)
def test_value_mistakes_are_named_in_every_value_check(framework, name, hint):
    failed = _messages(_report(framework, "FourierHalf", name))
    assert {"even", "odd", "leading_axes", "input_grad"} <= set(failed)
    for key in ("even", "odd", "leading_axes"):
        assert failed[key].startswith("coeficientes: ") and hint in failed[key], failed[key]
    assert "A saída já está errada." in failed["input_grad"] and hint in failed["input_grad"]


@pytest.mark.parametrize("framework", ["pytorch", "mxnet"])
def test_magnitudes_are_named(framework):
    failed = _messages(_report(framework, "FourierHalf", "magnitudes"))
    assert set(failed) == {"shape", "even", "odd", "leading_axes", "input_grad", "tiny"}
    for key in ("shape", "even", "odd", "leading_axes"):
        assert "módulos |C_k|" in failed[key], failed[key]


def test_mxnet_pairs_on_the_wrong_axis_are_named():
    failed = _messages(_report("mxnet", "FourierHalf", "real_imaginary_first"))
    assert all(hints.PAIR_AXIS_FIRST in text for text in failed.values())


def test_pytorch_pairs_instead_of_complex_are_named():
    failed = _messages(_report("pytorch", "FourierHalf", "view_as_real"))
    assert hints.PAIRS_NOT_COMPLEX in failed["shape"]


def _left_the_framework(text: str, label: str, english: str, says: str = "sem gradiente"):
    """Portuguese first (what happened, what to change), the framework's own words last."""
    head, _, framework_words = text.partition(f"Mensagem do {label}: ")
    assert framework_words and english in framework_words, text
    assert says in head and "a camada levantou" not in head
    assert english not in head


@pytest.mark.parametrize(
    ("exercise", "name", "english"),
    [
        ("FourierHalf", "numpy_roundtrip", "Converting a tensor to a NumPy array"),
        ("TensorReduction", "numpy_roundtrip", "Converting a tensor to a NumPy array"),
        ("TensorReduction", "weight_numpy", "Can't call numpy() on Tensor that requires grad"),
    ],
)
def test_a_pytorch_numpy_round_trip_is_explained_in_portuguese(exercise, name, english):
    report = _report("pytorch", exercise, name)
    assert report.score == 0.0
    for text in _messages(report).values():
        _left_the_framework(text, "PyTorch", english)
        assert "ida e volta pelo NumPy" in text and "detach().numpy() instead" not in text


def test_a_pytorch_item_call_is_explained_in_portuguese():
    right = "return torch.fft.rfft(X, dim=-1)[..., :m]"
    source = catalogue.reference_source("FourierHalf", "pytorch")
    source = source.replace(right, f"{right} * X.sum().item() / X.sum()")  # the trace keeps X's
    assert "item()" in source  # sum as a constant: the right values, on the traced input only
    failed = _messages(_report_of("pytorch", "FourierHalf", source))
    assert failed and all("conversão para número" in text for text in failed.values())
    _left_the_framework(failed["shape"], "PyTorch", "Converting a tensor to a Python number")


_TF_ROUND_TRIP = """
import numpy
import tensorflow as tf
class FourierHalf(tf.keras.layers.Layer):
    def call(self, X):
        m = (X.shape[-1] + 1) // 2
        return tf.constant(numpy.fft.fft(X.numpy(), axis=-1)[..., :m].astype(numpy.complex64))
"""


def test_a_tensorflow_numpy_round_trip_is_explained_in_portuguese():
    failed = _messages(_report_of("tensorflow", "FourierHalf", _TF_ROUND_TRIP))
    assert len(failed) == 6
    for text in failed.values():
        _left_the_framework(text, "TensorFlow", "'SymbolicTensor' object has no attribute")
        assert "(erro:" not in text


_MX_FOURIER = """
import numpy
from mxnet import np
from mxnet.gluon import nn
from mxnet.util import use_np
@use_np  # not npx.set_np(): the layer runs in this test process, whose MXNet mode it would change
class FourierHalf(nn.Block):
    def forward(self, X):
        m = (X.shape[-1] + 1) // 2
        {body}
"""


@pytest.mark.parametrize(
    ("body", "english"),
    [
        pytest.param(None, "'ValueError' object has no attribute", id="numpy-fft-on-the-array"),
        pytest.param(
            "return numpy.stack([numpy.dot(X, numpy.ones((X.shape[-1], m))), X[..., :m]], -1)",
            "no implementation found for 'numpy.dot'",
            id="numpy-dot-with-an-mxnet-array",
        ),
    ],
)
def test_mxnet_numpy_functions_on_its_arrays_are_explained(body, english):
    if body is None:
        report = _report("mxnet", "FourierHalf", "numpy_fft_on_array")
    else:
        report = _report_of("mxnet", "FourierHalf", _MX_FOURIER.format(body=body))
    failed = _messages(report)
    assert len(failed) == 6
    for text in failed.values():
        _left_the_framework(text, "MXNet", english)
        assert "NumPy oficial" in text


def test_mxnet_complex_arrays_are_explained():
    body = "C = numpy.fft.fft(X.asnumpy(), axis=-1)[..., :m]\n        return np.array(C)"
    failed = _messages(_report_of("mxnet", "FourierHalf", _MX_FOURIER.format(body=body)))
    assert len(failed) == 6
    for text in failed.values():
        _left_the_framework(text, "MXNet", "complex128", says="números complexos")
        assert "último eixo de tamanho 2" in text


# --- counts in Portuguese ---------------------------------------------------------------------


def test_one_failed_check_is_singular():
    report = _report("pytorch", "TensorReduction", "bias_added")
    assert "1 verificação falhou; veja a dica acima." in repr(report)
    assert "1 verificação falhou" in report._repr_html_()
    assert "(ões)" not in repr(report)


def test_several_failed_checks_are_plural():
    report = _report("pytorch", "FourierHalf", "floor_half")
    assert "3 verificações falharam; veja as dicas acima." in repr(report)


def test_one_differing_value_is_singular():
    from grading.checks import compare

    expected = np.array([[1.0, -2.0]])
    one = compare(expected, np.array([[1.0, 0.0]]), "saída")
    assert one.startswith("saída: 1 de 2 valores difere da referência, em [0, 1]"), one
    both = compare(expected, np.array([[0.0, 0.0]]), "saída")
    assert both.startswith("saída: 2 de 2 valores diferem da referência; o primeiro em [0, 0]")
    alone = compare(np.array([3.0]), np.array([1.0]), "saída")
    assert alone == "saída: o valor difere da referência: esperado 3, obtido 1"
