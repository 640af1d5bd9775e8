"""The statements carry the contract's facts, and the worked examples are right."""

from __future__ import annotations

import math
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from exercises import EXERCISES, FIGURE_PATH, STUDENT_PATH
from exercises import examples as ex

ROOT = Path(__file__).resolve().parents[2]

KEY_FACTS = {
    "TensorReduction": [
        r"y_k = \sum_{i, j} W_{ijk} x_i x_j",
        "`(batch, in_units)`",
        "`weight`",
        "`(in_units, in_units, units)`",
        "`(batch, units)`",
        "Y[b, k] = Σ_i Σ_j weight[i, j, k] · X[b, i] · X[b, j]",
        "sem viés e sem ativação",
        "`TensorReduction(units, in_units, **kwargs)`, um `nn.Block`",
        "`self.params.get('weight', ...)`",
        "`TensorReduction(in_units, units)`, um `nn.Module`",
        "`TensorReduction(units)`",
        "`build(X_shape)`",
        "`parameters()`",
        "`collect_params()`",
        "`trainable_weights`",
        "distribuição normal",
        "não use `.data` nem `detach`",
        "`float32`",
        "`float64`",
    ],
    "FourierHalf": [
        "a primeira metade dos coeficientes de Fourier",
        "`(..., n)`",
        "`(batch, n)`",
        "`(batch, channels, n)`",
        r"$m = \lceil n/2 \rceil$",
        "ao longo do último eixo, e apenas dele",
        "sem normalização",
        "`numpy.fft.fft(X, axis=-1)[..., :m]`",
        "um tensor complexo de forma `(..., m)`",
        "`(..., m, 2)`",
        "a parte real e depois a parte",
        "não tem tipo complexo",
        "só roda em GPU",
        "na CPU",
        "| parâmetros | nenhum |",
        "diferenciável em relação a `X`",
        r"**Por que $\lceil n/2 \rceil$.**",
        "conjugado complexo",
        "Nyquist",
        "`fftn`",
        "normalizar por $n$",
        "`n // 2 + 1`",
        "magnitudes",
    ],
}


def markdown_of(notebook, exercise) -> str:
    cells = [cell for cell in notebook.cells if cell.id.startswith(f"{exercise.slug}-")]
    return "\n".join(cell.source for cell in cells if cell.cell_type == "markdown")


@pytest.fixture(scope="module")
def student():
    return nbformat.read(ROOT / STUDENT_PATH, as_version=4)


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.class_name)
def test_statement_states_the_contract(student, exercise):
    text = markdown_of(student, exercise)
    missing = [fact for fact in KEY_FACTS[exercise.class_name] if fact not in text]
    assert missing == []


def test_statements_name_mistranslation_and_how_to_work(student):
    text = "\n".join(cell.source for cell in student.cells if cell.cell_type == "markdown")
    assert "metade anterior" in text and "primeira metade" in text
    for fact in ("%%tab pytorch", "# SEU CÓDIGO AQUI", "NotImplementedError", "ainda não"):
        assert fact in text
    assert "melhor" in text and "10 pontos" in text


def test_reduction_example_sums_match_an_independent_computation():
    text = ex.tensor_reduction_example()
    X, weight = ex.REDUCTION_X, ex.REDUCTION_WEIGHT
    expected = np.einsum("ijk,bi,bj->bk", weight, X, X)
    assert f"`Y = {expected.tolist()}`" in text
    sums = [int(value) for value in re.findall(r"\*\*(-?\d+)\*\*", text)]
    assert sums == expected[0].tolist()
    for i in range(weight.shape[0]):
        for j in range(weight.shape[1]):
            terms = [weight[i, j, k] * X[0, i] * X[0, j] for k in range(weight.shape[2])]
            row = f"| {i} | {j} | {X[0, i] * X[0, j]} | "
            assert row in text
            line = next(line for line in text.splitlines() if line.startswith(row))
            assert line.endswith(
                " | ".join(f"{w} | {t}" for w, t in zip(weight[i, j].tolist(), terms, strict=True))
                + " |"
            )


def test_fourier_example_matches_the_dft_definition():
    text = ex.fourier_half_example(str(FIGURE_PATH))
    for X in ex.FOURIER_SIGNALS:
        n = X.size
        m = math.ceil(n / 2)
        t = np.arange(n)
        for k in range(n):
            C = np.sum(X * np.exp(-2j * np.pi * k * t / n))
            row = f"| {k} | {ex.format_complex(C)} | {'sim' if k < m else 'não'}"
            assert row in text
        assert f"$m = {m}$" in text
    odd = ex.FOURIER_SIGNALS[0]
    first = np.fft.fft(odd)[: math.ceil(odd.size / 2)]
    for k, value in enumerate(first):
        real, imag = ex.format_number(value.real), ex.format_number(value.imag)
        assert f"| {k} | {real} | {imag} |" in text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (5 + 0j, "5"),
        (1 + 1j, "1 + 1i"),
        (1 - 1j, "1 - 1i"),
        (-3.3541 + 0.36327j, "-3.354 + 0.363i"),
        (-1e-17 - 4j, "0 - 4i"),
        (2.5 - 1e-18j, "2.5"),
    ],
)
def test_format_complex(value, text):
    assert ex.format_complex(value) == text


def test_figure_is_linked_and_committed(student):
    example = next(cell for cell in student.cells if cell.id == "exercise-2-example")
    assert "(images/exercise-fourier-half.png)" in example.source
    assert (ROOT / FIGURE_PATH).read_bytes().startswith(b"\x89PNG")


def test_figure_is_deterministic():
    assert ex.render_fourier_figure() == ex.render_fourier_figure()
