"""The catalogue: every wrong answer fails a property check, every correct style passes all."""

from __future__ import annotations

import ast

import pytest

from solutions import catalogue, properties
from solutions.catalogue import CORRECT_STYLES, WRONG, Implementation

from .conftest import framework_driver


def _id(entry: Implementation) -> str:
    return f"{entry.framework}-{entry.exercise}-{entry.name}"


def _failures(entry: Implementation) -> list[properties.Failure]:
    driver = framework_driver(entry.framework)
    cls = driver.load(entry.source, entry.exercise)
    return properties.run_checks(driver, cls, entry.exercise)


@pytest.mark.parametrize("entry", WRONG, ids=_id)
def test_wrong_implementation_fails_a_check(entry):
    assert _failures(entry), f"{entry.name} passes every check: {entry.description}"


@pytest.mark.parametrize("entry", CORRECT_STYLES, ids=_id)
def test_correct_style_passes_every_check(entry):
    assert _failures(entry) == []


@pytest.mark.parametrize("framework", catalogue.FRAMEWORKS)
@pytest.mark.parametrize("exercise", catalogue.EXERCISES)
def test_reference_source_is_self_contained(framework, exercise):
    """The package's own class, exec'd alone, passes every check."""
    source = catalogue.reference_source(exercise, framework)
    driver = framework_driver(framework)
    assert properties.run_checks(driver, driver.load(source, exercise), exercise) == []


def test_entries_are_well_formed():
    seen = set()
    for entry in WRONG + CORRECT_STYLES:
        key = (entry.framework, entry.exercise, entry.name)
        assert key not in seen, f"duplicate entry {key}"
        seen.add(key)
        assert entry.exercise in catalogue.EXERCISES
        assert entry.framework in catalogue.FRAMEWORKS
        assert entry.name.isidentifier() and entry.description
        classes = [
            node.name for node in ast.parse(entry.source).body if isinstance(node, ast.ClassDef)
        ]
        assert classes == [entry.exercise], f"{key} defines {classes}"


REQUIRED_WRONG = {
    "pytorch": {
        "TensorReduction": {
            "weight_data", "not_registered", "k_swapped_i", "output_batch_in_units",
            "bias_added", "activation_added",
        },
        "FourierHalf": {"fftn_all_axes", "n_half_plus_one", "magnitudes", "normalised", "full_n"},
    },
    "tensorflow": {
        "TensorReduction": {
            "stop_gradient", "not_registered", "k_swapped_i", "output_batch_in_units",
            "bias_added", "activation_added",
        },
        "FourierHalf": {"fft2d_all_axes", "n_half_plus_one", "magnitudes", "normalised", "full_n"},
    },
    "mxnet": {
        "TensorReduction": {
            "weight_detached", "not_registered", "k_swapped_i", "output_batch_in_units",
            "bias_added", "activation_added",
        },
        "FourierHalf": {"n_half_plus_one", "magnitudes", "normalised", "full_n"},
    },
}  # fmt: skip
REQUIRED_CORRECT = {
    "TensorReduction": {"einsum", "loops", "flattened_outer_matmul", "transposed_weight"},
    "FourierHalf": {"matrix_dft"},
}


@pytest.mark.parametrize("framework", catalogue.FRAMEWORKS)
@pytest.mark.parametrize("exercise", catalogue.EXERCISES)
def test_catalogue_covers_the_required_answers(framework, exercise):
    wrong = {entry.name for entry in catalogue.implementations(exercise, framework, wrong=True)}
    assert REQUIRED_WRONG[framework][exercise] <= wrong
    correct = {entry.name for entry in catalogue.implementations(exercise, framework, wrong=False)}
    assert REQUIRED_CORRECT[exercise] <= correct
    if framework != "mxnet" and exercise == "FourierHalf":
        assert "fft_slice" in correct  # full fft, then the slice
