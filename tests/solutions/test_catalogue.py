"""The catalogue: each wrong answer fails exactly the checks it names, each correct style none."""

from __future__ import annotations

import ast
import dataclasses

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


def _report(failures: list[properties.Failure]) -> str:
    return "\n".join(f"  {f.check} {f.case}: {f.error[:300]}" for f in failures) or "  none"


@pytest.mark.parametrize("entry", WRONG, ids=_id)
def test_wrong_implementation_fails_exactly_its_checks(entry):
    """The checks in ``entry.breaks`` fail (on some case) and every other check passes."""
    failures = _failures(entry)
    failed = {failure.check for failure in failures}
    expected = set(entry.breaks)
    assert failed == expected, (
        f"{entry.name} ({entry.description})\n"
        f"expected to fail {sorted(expected)}, failed {sorted(failed)}:\n{_report(failures)}"
    )


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


def test_wrong_entries_name_the_checks_they_break():
    for entry in WRONG:
        names = {check.__name__ for check in properties.CHECKS[entry.exercise]}
        assert entry.breaks, f"{_id(entry)} names no check that it breaks"
        assert isinstance(entry.breaks, tuple) and len(set(entry.breaks)) == len(entry.breaks)
        assert set(entry.breaks) <= names, f"{_id(entry)}: {set(entry.breaks) - names}"
    for entry in CORRECT_STYLES:
        assert entry.breaks == (), f"{_id(entry)} is correct but breaks {entry.breaks}"


def test_implementation_keeps_its_positional_fields():
    """Callers that build or unpack entries by position keep working: ``breaks`` comes last."""
    entry = Implementation("n", "FourierHalf", "pytorch", "source", "description")
    assert entry.breaks == ()
    fields = [field.name for field in dataclasses.fields(Implementation)]
    assert fields == ["name", "exercise", "framework", "source", "description", "breaks"]


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
            "weight_data", "not_registered", "k_swapped_i", "k_swapped_j",
            "output_batch_in_units", "bias_added", "activation_added", "uniform_init",
        },
        "FourierHalf": {"fftn_all_axes", "n_half_plus_one", "magnitudes", "normalised", "full_n"},
    },
    "tensorflow": {
        "TensorReduction": {
            "stop_gradient", "not_registered", "k_swapped_i", "k_swapped_j",
            "output_batch_in_units", "bias_added", "activation_added", "uniform_init",
        },
        "FourierHalf": {"fft2d_all_axes", "n_half_plus_one", "magnitudes", "normalised", "full_n"},
    },
    "mxnet": {
        "TensorReduction": {
            "weight_detached", "not_registered", "k_swapped_i", "k_swapped_j",
            "output_batch_in_units", "bias_added", "activation_added", "uniform_init",
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
