"""The checks, through ``grading.notebook.check``: every catalogue entry, every framework."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from solutions import catalogue

FRAMEWORKS = ("mxnet", "pytorch", "tensorflow")
RUNNER = Path(__file__).with_name("catalogue_runner.py")


@pytest.fixture(scope="session", params=FRAMEWORKS)
def outcome(request) -> tuple[str, dict]:
    framework = request.param
    done = subprocess.run(
        [sys.executable, str(RUNNER), framework, "11"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("JSON:"))
    return framework, json.loads(line[len("JSON:") :])


def test_reference_solutions_get_full_marks(outcome):
    _framework, results = outcome
    for exercise in catalogue.EXERCISES:
        summary = results["reference"][exercise]
        assert summary["score"] == 10.0, summary["text"]
        assert "Tudo certo" in summary["text"]


def test_every_correct_style_gets_full_marks(outcome):
    framework, results = outcome
    expected = {
        f"{i.exercise}/{i.name}" for i in catalogue.CORRECT_STYLES if i.framework == framework
    }
    assert set(results["correct"]) == expected
    for key, summary in results["correct"].items():
        assert summary["score"] == 10.0, (key, summary["text"])


def test_every_wrong_implementation_loses_points(outcome):
    framework, results = outcome
    expected = {f"{i.exercise}/{i.name}" for i in catalogue.WRONG if i.framework == framework}
    assert set(results["wrong"]) == expected
    for key, summary in results["wrong"].items():
        assert summary["score"] < 10.0, (key, summary["text"])
        assert summary["failed"], key
        assert "✗" in summary["text"]


def test_same_seed_renders_the_same_text(outcome):
    _framework, results = outcome
    for exercise in catalogue.EXERCISES:
        assert results["repeat"][exercise] == results["reference"][exercise]["text"]
        assert "0x" not in results["repeat"][exercise]


def test_a_stub_is_not_implemented_and_scores_zero(outcome):
    _framework, results = outcome
    for exercise in catalogue.EXERCISES:
        summary = results["stub"][exercise]
        assert summary["score"] == 0.0
        assert set(summary["statuses"]) == {"not_implemented"}
        assert "ainda não implementado" in summary["text"].lower()
        assert "<table>" in summary["html"]


def test_check_rejects_a_class_of_another_name():
    from grading.notebook import check

    class Dense:
        pass

    with pytest.raises(ValueError, match="TensorReduction ou FourierHalf"):
        check(Dense)


def test_check_needs_a_framework_base():
    from grading.notebook import check

    class FourierHalf:
        pass

    with pytest.raises(ValueError, match="deve herdar"):
        check(FourierHalf)


def test_every_check_fails_on_some_wrong_implementation(outcome):
    from grading.checks import checks_for

    framework, results = outcome
    for exercise in catalogue.EXERCISES:
        failed = {
            key
            for name, summary in results["wrong"].items()
            if name.startswith(f"{exercise}/")
            for key in summary["failed"]
        }
        assert failed == {check.key for check in checks_for(exercise)}, (framework, exercise)
