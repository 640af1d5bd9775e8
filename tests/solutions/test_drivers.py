"""The checks module itself: explicit failures (kept by ``python -O``), abstract drivers, and
MXNet's NumPy semantics switched on only while the checks run."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from solutions import catalogue, properties

from .conftest import framework_driver

ROOT = Path(__file__).resolve().parents[2]


def test_properties_has_no_assert_statement():
    """An ``assert`` statement vanishes under ``python -O``: the checks raise explicitly."""
    tree = ast.parse((ROOT / "solutions" / "properties.py").read_text(encoding="utf-8"))
    lines = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)]
    assert lines == [], f"assert statements at lines {lines} of solutions/properties.py"


def test_tolerance_rejects_a_wrong_shape():
    with pytest.raises(AssertionError, match="shape"):
        properties.TOLERANCES["float32"].assert_close(np.zeros(2), np.zeros(3), "output")


_OPTIMISED = """
import json
from solutions import catalogue, properties
driver = properties.PyTorchDriver()
out = {}
for entry in catalogue.implementations(framework="pytorch", wrong=True):
    if entry.name in ("uniform_init", "detached_input", "single_x"):
        cls = driver.load(entry.source, entry.exercise)
        failures = properties.run_checks(driver, cls, entry.exercise)
        out[entry.name] = [sorted({f.check for f in failures}), sorted(entry.breaks)]
print(json.dumps(out))
"""


def test_checks_still_fail_under_python_O():
    """With assert statements stripped, wrong answers still fail exactly their checks."""
    pytest.importorskip("torch")
    done = subprocess.run(
        [sys.executable, "-O", "-c", _OPTIMISED],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.splitlines()[-1])
    assert set(results) == {"uniform_init", "detached_input", "single_x"}
    for name, (failed, breaks) in results.items():
        assert failed == breaks and failed, name


def test_driver_is_abstract():
    with pytest.raises(TypeError, match="abstract"):
        properties.Driver()

    class Partial(properties.Driver):
        framework = "partial"

        def forward(self, layer, X):
            return X

    with pytest.raises(TypeError, match="reduction"):
        Partial()
    assert properties.Driver.__abstractmethods__ == {
        "reduction", "fourier", "parameters", "value", "assign", "forward",
        "reduction_gradients", "fourier_gradient", "sgd_step", "sequential",
    }  # fmt: skip


def test_checks_keep_their_names():
    """``run_checks`` reports a check by its function's name, which ``breaks`` uses."""
    for exercise, checks in properties.CHECKS.items():
        for check in checks:
            assert check.__name__.startswith("check_"), (exercise, check)
            assert getattr(properties, check.__name__) is check


def _np_state():
    from mxnet import util

    return util.is_np_shape(), util.is_np_array()


@pytest.mark.parametrize("previous", [False, True], ids=["np-off", "np-on"])
def test_mxnet_driver_restores_the_numpy_semantics(previous):
    """Loading a source that calls ``npx.set_np()`` and running the checks leave MXNet's
    global NumPy semantics as they were; inside ``active()`` they are on."""
    pytest.importorskip("mxnet")
    from mxnet import util

    driver = framework_driver("mxnet")
    entry = next(
        entry
        for entry in catalogue.CORRECT_STYLES
        if (entry.framework, entry.exercise, entry.name) == ("mxnet", "TensorReduction", "einsum")
    )
    assert "npx.set_np()" in entry.source
    with util.np_shape(previous), util.np_array(previous):
        before = _np_state()
        assert before == (previous, previous)
        cls = driver.load(entry.source, entry.exercise)
        assert _np_state() == before
        with driver.active():
            assert _np_state() == (True, True)
        assert _np_state() == before
        cases = properties.CASES[entry.exercise][:2]
        assert properties.run_checks(driver, cls, entry.exercise, cases) == []
        assert _np_state() == before
        properties.check_reduction_values(driver, cls, cases[0])
        assert _np_state() == before
        driver.solution("FourierHalf")
        assert _np_state() == before
