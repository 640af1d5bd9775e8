"""Every stub of the student copy runs, has the contract's constructor and raises
NotImplementedError, so the checks count it as not attempted."""

from __future__ import annotations

import importlib
from pathlib import Path

import nbformat
import numpy as np
import pytest

from exercises import EXERCISES, STUDENT_PATH
from frametabs.frameworks import FRAMEWORKS, IMPORT_NAMES, parse_marker

ROOT = Path(__file__).resolve().parents[2]

# Constructor arguments per the contract: (units, in_units) in MXNet, (in_units, units) in
# PyTorch, (units) in TensorFlow; FourierHalf takes none.
ARGUMENTS = {
    ("TensorReduction", "mxnet"): (3, 4),
    ("TensorReduction", "pytorch"): (4, 3),
    ("TensorReduction", "tensorflow"): (3,),
}
BASES = {
    "mxnet": ("mxnet.gluon.nn", "Block"),
    "pytorch": ("torch.nn", "Module"),
    "tensorflow": ("keras.layers", "Layer"),
}


def stub_cells():
    notebook = nbformat.read(ROOT / STUDENT_PATH, as_version=4)
    cells = {cell.id: cell for cell in notebook.cells}
    for exercise in EXERCISES:
        for framework in FRAMEWORKS:
            cell = cells[f"{exercise.slug}-code-{framework}"]
            yield pytest.param(exercise, framework, cell, id=f"{exercise.class_name}-{framework}")


def to_framework(framework: str, X: np.ndarray):
    module = importlib.import_module(IMPORT_NAMES[framework])
    if framework == "mxnet":
        return module.np.array(X)
    if framework == "pytorch":
        return module.from_numpy(X)
    return module.constant(X)


@pytest.fixture
def restore_mxnet_semantics():
    """The MXNet stub calls ``npx.set_np()``; switch it back off for later tests."""
    yield
    from mxnet import npx

    npx.reset_np()


@pytest.mark.slow
@pytest.mark.parametrize(("exercise", "framework", "cell"), list(stub_cells()))
def test_stub_raises_not_implemented(exercise, framework, cell, restore_mxnet_semantics):
    marker = parse_marker(cell.source)
    namespace: dict = {"__name__": "stub"}
    exec(compile(marker.body, cell.id, "exec"), namespace)
    cls = namespace[exercise.class_name]
    module, base = BASES[framework]
    assert issubclass(cls, getattr(importlib.import_module(module), base))
    X = to_framework(framework, np.ones((2, 4), dtype=np.float32))
    with pytest.raises(NotImplementedError):
        layer = cls(*ARGUMENTS.get((exercise.class_name, framework), ()))
        if framework == "mxnet":
            layer.initialize()
        layer(X)
