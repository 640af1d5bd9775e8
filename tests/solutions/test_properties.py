"""Property tests: each framework's solution against the NumPy reference on random cases.

Hypothesis draws the sizes (batch, in_units and units from 1; signal lengths 1 to 64, odd
and even; 2-D and 3-D inputs) and the dtype (float32, or float64 after the framework's own
conversion of the layer); ``solutions.properties`` holds the checks and the tolerances.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from solutions import properties
from solutions.properties import FourierCase, ReductionCase

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.differing_executors]
)
DTYPES = st.sampled_from(["float32", "float64"])
SEEDS = st.integers(0, 2**32 - 1)

reduction_cases = st.builds(
    ReductionCase,
    batch=st.integers(1, 5),
    in_units=st.integers(1, 6),
    units=st.integers(1, 5),
    dtype=DTYPES,
    seed=SEEDS,
)
signal_lengths = st.integers(1, 64)
fourier_shapes = st.one_of(
    st.tuples(st.integers(1, 4), signal_lengths),
    st.tuples(st.integers(1, 3), st.integers(1, 3), signal_lengths),
)
fourier_cases = st.builds(FourierCase, shape=fourier_shapes, dtype=DTYPES, seed=SEEDS)


@SETTINGS
@given(case=reduction_cases)
@example(case=ReductionCase(1, 1, 1, "float32"))
@example(case=ReductionCase(1, 6, 1, "float64"))
@example(case=ReductionCase(5, 1, 5, "float32"))
def test_tensor_reduction(driver, case):
    solution = driver.solution("TensorReduction")
    properties.assert_passes(driver, solution, "TensorReduction", case)


@SETTINGS
@given(case=fourier_cases)
@example(case=FourierCase((1, 1), "float32"))
@example(case=FourierCase((2, 64), "float64"))
@example(case=FourierCase((3, 2, 63), "float32"))
@example(case=FourierCase((1, 3, 2), "float64"))
def test_fourier_half(driver, case):
    properties.assert_passes(driver, driver.solution("FourierHalf"), "FourierHalf", case)


@pytest.mark.parametrize("exercise", ["TensorReduction", "FourierHalf"])
def test_fixed_cases(driver, exercise):
    """The fixed cases that the catalogue tests rely on pass for the solutions too."""
    assert properties.run_checks(driver, driver.solution(exercise), exercise) == []


def test_fourier_half_long_signal(driver):
    """A long signal (n = 1024, the benchmark's length) is still within tolerance."""
    cls = driver.solution("FourierHalf")
    for case in (FourierCase((2, 1024), "float32", 7), FourierCase((2, 1023), "float64", 8)):
        properties.check_fourier_values(driver, cls, case)
        properties.check_fourier_gradient(driver, cls, case)
