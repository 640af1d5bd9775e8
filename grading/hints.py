"""Hints that name the exercises' known mistakes, recognised from the values a layer gave.

Pure NumPy, on the trusted side: the judges of ``grading.checks`` call these functions
with the probe's inputs and the arrays the evaluator returned. Each one compares the answer
with known wrong variants of the reference (an activation after the reduction, a
normalised transform, magnitudes, every axis transformed, the wrong number of
coefficients...) and returns a Portuguese sentence that names the mistake and says what to
change, or ``""`` when it recognises none. A hint names a mistake; it shows no value of
the reference. When two different mistakes would explain the same values, it says nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from grading.results import plural
from solutions import reference

RTOL = 1e-3
ATOL = 1e-4

CEIL = "m = ⌈n/2⌉"
IN_PYTHON = "em Python, m = (n + 1) // 2"
NO_ACTIVATION = "A camada não tem ativação: devolva a soma diretamente, sem aplicar nada depois."
RELU = f"As saídas negativas viraram 0, como depois de uma ReLU. {NO_ACTIVATION}"
SQUASHED = "As saídas são as da referência passadas por uma função {name}. " + NO_ACTIVATION
DIVIDED_BY_N = (
    "Os coeficientes são os da referência divididos por n = {n}: a transformada pedida não "
    'é normalizada; tire a divisão por n (ou o norm="forward").'
)
DIVIDED_BY_ROOT_N = (
    "Os coeficientes são os da referência divididos por √n (n = {n}), como com "
    'norm="ortho": a transformada pedida não é normalizada; use a normalização padrão '
    '(norm="backward").'
)
ALL_AXES = (
    "Os coeficientes são os da transformada sobre mais de um eixo de X (como fftn, fft2 ou "
    "fft2d), o que mistura os exemplos do lote ou os canais: transforme só o último eixo, "
    "com a FFT de uma dimensão."
)
CONJUGATE = (
    "As partes imaginárias estão com o sinal trocado: a transformada usa exp(−2πi·k·t/n), "
    "com sinal negativo no expoente."
)
TRAILING = (
    "São os últimos m coeficientes, não os primeiros: a primeira metade vai de k = 0 a k = m − 1."
)
MAGNITUDES = "Os valores são os módulos |C_k| dos coeficientes, não os coeficientes: "
REAL_PART = "Os valores são só a parte real dos coeficientes: "
KEEP_COMPLEX = "devolva os coeficientes complexos (sem abs() nem .real)."
KEEP_PAIRS = (
    "devolva a parte real e a imaginária de cada coeficiente, num último eixo de tamanho 2."
)
NO_PAIR_AXIS = (
    "falta o último eixo de tamanho 2, com a parte real e a imaginária de cada coeficiente"
)
PAIR_AXIS_FIRST = (
    "o eixo de tamanho 2 (parte real, parte imaginária) veio antes do eixo dos coeficientes: "
    "empilhe com axis=-1, para a forma (..., m, 2)"
)
PAIRS_NOT_COMPLEX = (
    "a saída traz a parte real e a imaginária num último eixo de tamanho 2 (o formato pedido "
    "só no MXNet): devolva o tensor complexo"
)

Variant = tuple[str, np.ndarray]


# --- comparison -------------------------------------------------------------------------


def close(expected: np.ndarray, got: np.ndarray) -> np.ndarray:
    """Element-wise ``got ≈ expected``: the checks' tolerance, relative to the largest value."""
    atol = ATOL * max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    return np.isclose(np.asarray(got).astype(np.complex128), expected, rtol=RTOL, atol=atol)


def matches(candidate: np.ndarray, got: np.ndarray) -> bool:
    """True when ``got`` has ``candidate``'s shape and every value within tolerance."""
    return candidate.shape == got.shape and bool(close(candidate, got).all())


def _usable(got: np.ndarray | None) -> bool:
    """A numeric, finite answer: the only kind a hint looks at."""
    return got is not None and got.dtype.kind in "fciub" and bool(np.all(np.isfinite(got)))


def _only_match(variants: Iterator[Variant], got: np.ndarray, right: np.ndarray) -> str:
    """The hint of the one variant ``got`` matches, else ``""`` (none, or two hints).

    A variant that matches the right answer ``right`` (for this input the mistake makes no
    difference) names nothing and is skipped.
    """
    found = {
        hint
        for hint, candidate in variants
        if matches(candidate, got) and not matches(candidate, right)
    }
    return found.pop() if len(found) == 1 else ""


# --- TensorReduction --------------------------------------------------------------------


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(values / 2.0))  # 1 / (1 + e^-x), with no overflow


ACTIVATIONS: tuple[tuple[str, Callable[[np.ndarray], np.ndarray]], ...] = (
    ("sigmoide", _sigmoid),
    ("tanh", np.tanh),
)


def reduction_values(expected: np.ndarray, got: np.ndarray | None) -> str:
    """The hint for a TensorReduction output that differs from ``expected`` (same shape)."""
    if not _usable(got) or got.shape != expected.shape or np.iscomplexobj(got):
        return ""

    def variants() -> Iterator[Variant]:
        yield RELU, np.maximum(expected, 0.0)
        for name, activation in ACTIVATIONS:
            yield SQUASHED.format(name=name), activation(expected)

    return _only_match(variants(), got, expected)


# --- FourierHalf ------------------------------------------------------------------------


def coefficient_count(n: int, count: int) -> str:
    """Why ``count`` coefficients are wrong for a signal of ``n`` samples, ⌈n/2⌉ named."""
    m = reference.leading_half_size(n)
    text = f"{CEIL} = {plural(m, 'coeficiente', 'coeficientes')} para n = {n}"
    if count == n and n > 1:
        text += f", não todos os {n}"
    elif count == n // 2 and n % 2:
        text += (
            f", não n // 2 = {count}: com n ímpar, n // 2 arredonda para baixo e perde um "
            "coeficiente"
        )
    elif count == n // 2 + 1 and not n % 2:
        text += f", não n // 2 + 1 = {count}, o que rfft devolve (com o termo de Nyquist, k = n/2)"
    else:
        text += f", não {count}"
    return f"{text}; {IN_PYTHON}"


def _layout(coefficients: np.ndarray, real_imaginary: bool) -> np.ndarray:
    """Coefficients as the framework returns them: complex, or (real, imaginary) pairs."""
    return reference.as_real_imaginary(coefficients) if real_imaginary else coefficients


def _wrong_coefficients(X: np.ndarray) -> Iterator[Variant]:
    """Known wrong answers of the reference's shape, as complex coefficients."""
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[-1]
    m = reference.leading_half_size(n)
    full = np.fft.fft(X, axis=-1)
    yield DIVIDED_BY_N.format(n=n), full[..., :m] / n
    yield DIVIDED_BY_ROOT_N.format(n=n), full[..., :m] / np.sqrt(n)
    yield ALL_AXES, np.fft.fftn(X)[..., :m]
    if X.ndim >= 3:
        yield ALL_AXES, np.fft.fftn(X, axes=(-2, -1))[..., :m]
    yield CONJUGATE, np.conj(full[..., :m])
    yield TRAILING, full[..., n - m :]


def _real_values(X: np.ndarray, real_imaginary: bool) -> Iterator[Variant]:
    """One real number per coefficient where a complex one (or a pair) was asked for."""
    advice = KEEP_PAIRS if real_imaginary else KEEP_COMPLEX
    coefficients = reference.fourier_half(X)
    yield MAGNITUDES + advice, np.abs(coefficients)
    yield REAL_PART + advice, coefficients.real


def fourier_values(X: np.ndarray, got: np.ndarray | None, real_imaginary: bool) -> str:
    """The hint for FourierHalf values that differ from the reference's (same shape).

    ``real_imaginary``: the MXNet layout, ``(..., m, 2)`` real pairs; else complex.
    """
    if not _usable(got):
        return ""

    def variants() -> Iterator[Variant]:
        for hint, coefficients in _wrong_coefficients(X):
            yield hint, _layout(coefficients, real_imaginary)
        if not real_imaginary and not np.iscomplexobj(got):
            yield from _real_values(X, real_imaginary)

    right = _layout(reference.fourier_half(X), real_imaginary)
    return _only_match(variants(), got, right)


def fourier_shape(X: np.ndarray, got: np.ndarray, real_imaginary: bool) -> str:
    """Why a FourierHalf output of another shape than the reference's is wrong.

    Names ⌈n/2⌉ whenever the number of coefficients is wrong; always returns a hint.
    """
    n = X.shape[-1]
    m = reference.leading_half_size(n)
    lead = tuple(X.shape[:-1])
    shape = tuple(got.shape)
    if real_imaginary:
        if shape[:-2] == lead and shape[-1:] == (2,) and len(shape) == len(lead) + 2:
            return f"o penúltimo eixo deve ter {coefficient_count(n, shape[-2])}"
        if shape == (*lead, 2, m):
            return PAIR_AXIS_FIRST
        if shape == (*lead, m):
            pairs = reference.as_real_imaginary(reference.fourier_half(X))
            values = _only_match(_real_values(X, True), got, pairs) if _usable(got) else ""
            return values[:1].lower() + values[1:] if values else NO_PAIR_AXIS
    else:
        if shape[:-1] == lead and len(shape) == len(lead) + 1:
            return f"o último eixo deve ter {coefficient_count(n, shape[-1])}"
        if shape == (*lead, m, 2) and _usable(got):
            pairs = reference.as_real_imaginary(reference.fourier_half(X))
            if matches(pairs, got):
                return PAIRS_NOT_COMPLEX
    pair = ", mais um último eixo de tamanho 2 (parte real, parte imaginária)"
    count = plural(m, "coeficiente", "coeficientes")
    return (
        f"a saída mantém os eixos de X à frente, {lead}, e troca o último, de tamanho n = {n}, "
        f"por {CEIL} = {count}{pair if real_imaginary else ''}"
    )
