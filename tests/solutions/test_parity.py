"""Cross-framework parity: the same weight and input give the same output in all three."""

from __future__ import annotations

import numpy as np
import pytest

from solutions import reference
from solutions.properties import TOLERANCES, FourierCase, ReductionCase


def _as_complex(driver, C):
    return C if driver.complex_output else C[..., 0] + 1j * C[..., 1]


@pytest.mark.parametrize(
    "case",
    [ReductionCase(3, 4, 2, "float32", 11), ReductionCase(2, 5, 3, "float64", 12)],
    ids=str,
)
def test_tensor_reduction_parity(drivers, case):
    weight, X, _ = case.data()
    outputs = {}
    for name, driver in drivers.items():
        cls = driver.solution("TensorReduction")
        with driver.active():
            layer = driver.reduction(cls, case.in_units, case.units, case.dtype)
            (parameter,) = driver.parameters(layer).values()
            driver.assign(parameter, weight)
            outputs[name] = driver.forward(layer, X)
    first, *others = outputs
    for name in others:
        TOLERANCES[case.dtype].assert_close(outputs[name], outputs[first], f"{name} vs {first}")
    TOLERANCES[case.dtype].assert_close(
        outputs[first], reference.tensor_reduction(weight, X), "against NumPy"
    )


@pytest.mark.parametrize(
    "case",
    [FourierCase((2, 3, 10), "float32", 13), FourierCase((3, 9), "float64", 14)],
    ids=str,
)
def test_fourier_half_parity(drivers, case):
    X = case.data()
    outputs = {}
    for name, driver in drivers.items():
        cls = driver.solution("FourierHalf")
        with driver.active():
            outputs[name] = _as_complex(driver, driver.forward(driver.fourier(cls, case.dtype), X))
    for name, C in outputs.items():
        TOLERANCES[case.dtype].assert_close(C, outputs["pytorch"], f"{name} vs pytorch")
    assert np.iscomplexobj(outputs["pytorch"])
