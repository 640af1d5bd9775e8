"""MXNet layers exported as graphs in the student process, evaluated by the trusted side.

``grading/child/export_mxnet.py`` records a layer's forward pass with autograd and writes
the Symbol, its constants and the weight; ``grading/evaluator/eval_mxnet.py`` checks every
op against its allow-list, then binds the graph to inputs the exporter never saw. These
tests run both halves in this process (the real grader runs them in two): the catalogue's
answers round-trip, wrong answers keep their faults, and a hostile graph, file or metadata
is refused before MXNet loads it.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import math
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from grading.child import export_mxnet
from grading.child.exportable import NotExportable, StageError
from grading.evaluator import eval_mxnet
from grading.evaluator.refusal import GraphRefused
from solutions import catalogue, reference

mx = pytest.importorskip("mxnet")

SIZES = {"in_units": 4, "units": 3, "batch": 5}
REDUCTION_SHAPE = (5, 4)
FOURIER_SHAPES = ((3, 8), (2, 7), (2, 3, 6), (1, 1))
RTOL = 1e-4
ATOL = 1e-4


# --- helpers ---------------------------------------------------------------------------------


@contextlib.contextmanager
def student_state(source: str):
    """MXNet's settings as the student's notebook leaves them, then as they were.

    Sources that call ``npx.set_np()`` switch NumPy semantics on for the whole process,
    as the chapter's notebooks do; here they last only for the test.
    """
    if "set_np()" not in source:
        yield
        return
    util = mx.util
    previous_shape = util.is_np_shape()
    util.set_np_shape(True)
    try:
        with util.np_array(True):
            yield
    finally:  # after the array semantics: MXNet refuses to drop the shape ones first
        util.set_np_shape(previous_shape)


def load(source: str, exercise: str) -> type:
    namespace: dict = {"__name__": "student_cell"}
    exec(compile(source, f"<{exercise}>", "exec"), namespace)
    return namespace[exercise]


def spec_for(exercise: str, shape, sizes=None) -> dict:
    return {
        "id": "t",
        "exercise": exercise,
        "framework": "mxnet",
        "sizes": sizes,
        "shape": list(shape),
        "dtype": "float32",
    }


def export(source: str, exercise: str, folder: Path, shape=None, sizes=None) -> dict:
    """Define the class from ``source`` and export it, as the student process does."""
    if exercise == "TensorReduction" and sizes is None:  # the default sizes, whatever shape
        shape, sizes = REDUCTION_SHAPE, SIZES
    folder.mkdir(parents=True, exist_ok=True)
    with student_state(source):
        cls = load(source, exercise)
        metadata = export_mxnet.export_layer(
            cls, exercise, spec_for(exercise, shape, sizes), str(folder)
        )
    return json.loads(json.dumps(metadata))  # what travels: plain JSON


def reduction_request(rng, set_weight=True, want_grad=True, shape=REDUCTION_SHAPE) -> dict:
    batch, in_units = shape
    units = SIZES["units"]
    return {
        "exercise": "TensorReduction",
        "sizes": {"in_units": in_units, "units": units, "batch": batch},
        "X": rng.standard_normal(shape).astype(np.float32),
        "set_weight": (
            rng.standard_normal((in_units, in_units, units)).astype(np.float32)
            if set_weight
            else None
        ),
        "grad_output": rng.standard_normal((batch, units)).astype(np.float32),
        "want_grad": want_grad,
    }


def fourier_request(rng, shape, want_grad=True) -> dict:
    return {
        "exercise": "FourierHalf",
        "X": rng.standard_normal(shape).astype(np.float32),
        "set_weight": None,
        "grad_output": None,
        "want_grad": want_grad,
    }


def close(got, expected) -> bool:
    if got is None or got.shape != np.shape(expected):
        return False
    atol = ATOL * max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    return bool(np.allclose(got, expected, rtol=RTOL, atol=atol))


# A correct FourierHalf whose graph is x, the constant, _np_dot, _np_reshape: the forged
# graphs below edit these four nodes, whatever the reference solution's graph becomes.
DOT_THEN_RESHAPE = """\
import math
from mxnet import autograd, np
from mxnet.gluon import nn
from mxnet.util import use_np


@use_np
class FourierHalf(nn.Block):
    def forward(self, X):
        n = X.shape[-1]
        m = (n + 1) // 2
        with autograd.pause():
            t = np.arange(n, dtype="float64").reshape(n, 1)
            k = np.arange(m, dtype="float64").reshape(1, m)
            angle = (2 * math.pi / n) * np.mod(t * k, n)
            dft = np.stack([np.cos(angle), -np.sin(angle)], axis=-1).reshape(n, 2 * m)
        C = np.dot(X, dft.astype(X.dtype))
        return C.reshape((*X.shape[:-1], m, 2))
"""


def exported_folder(tmp_path: Path, exercise: str = "FourierHalf", shape=(2, 6)):
    """A correct layer exported into ``tmp_path / "export"``: (folder, metadata).

    FourierHalf is ``DOT_THEN_RESHAPE``; TensorReduction the reference solution.
    """
    folder = tmp_path / "export"
    if exercise == "FourierHalf":
        source = DOT_THEN_RESHAPE
    else:
        source = catalogue.reference_source(exercise, "mxnet")
    metadata = export(source, exercise, folder, shape=shape)
    return folder, metadata


def read_graph(folder: Path) -> dict:
    return json.loads((folder / "graph.json").read_text(encoding="utf-8"))


def write_graph(folder: Path, graph) -> None:
    text = graph if isinstance(graph, str) else json.dumps(graph)
    (folder / "graph.json").write_text(text, encoding="utf-8")


@pytest.fixture
def forbid_loader(monkeypatch):
    """Call it after exporting: from then on, MXNet's JSON loaders fail the test."""

    def forbidden(*args, **kwargs):
        raise AssertionError("MXNet's loader was called on a graph that should be refused")

    def forbid():
        for module in (mx.sym, mx.symbol, mx.symbol.symbol):
            monkeypatch.setattr(module, "load_json", forbidden)
            monkeypatch.setattr(module, "load", forbidden)

    return forbid


# --- legacy ``nd`` implementations (the chapter's MXNet tab before set_np) ------------------

ND_REDUCTION = """
from mxnet import init, nd
from mxnet.gluon import nn


class TensorReduction(nn.Block):
    def __init__(self, units, in_units, **kwargs):
        super().__init__(**kwargs)
        self.weight = self.params.get(
            "weight", shape=(in_units, in_units, units), init=init.Normal(sigma=1.0)
        )

    def forward(self, X):
        W = self.weight.data(X.context)
        n, _, k = W.shape
        Z = nd.dot(X, W.reshape((n, n * k))).reshape((-1, n, k))
        return nd.batch_dot(X.reshape((-1, 1, n)), Z).reshape((-1, k))
"""

ND_REDUCTION_OUTER = """
from mxnet import init, nd
from mxnet.gluon import nn


class TensorReduction(nn.Block):
    def __init__(self, units, in_units, **kwargs):
        super().__init__(**kwargs)
        self.weight = self.params.get(
            "weight", shape=(in_units, in_units, units), init=init.Normal(sigma=1.0)
        )

    def forward(self, X):
        W = self.weight.data()
        outer = nd.expand_dims(X, 2) * nd.expand_dims(X, 1)
        return nd.dot(outer.reshape((X.shape[0], -1)), W.reshape((-1, W.shape[-1])))
"""

ND_FOURIER = """
import math

from mxnet import nd
from mxnet.gluon import nn


class FourierHalf(nn.Block):
    def forward(self, X):
        n = X.shape[-1]
        m = (n + 1) // 2
        angle = nd.arange(n).reshape((n, 1)) * nd.arange(m).reshape((1, m)) * (2 * math.pi / n)
        real = nd.dot(X, nd.cos(angle))
        imaginary = -nd.dot(X, nd.sin(angle))
        return nd.stack(real, imaginary, axis=-1)
"""

ND_STYLES = {
    ("TensorReduction", "nd_dot_batch_dot"): ND_REDUCTION,
    ("TensorReduction", "nd_outer_dot"): ND_REDUCTION_OUTER,
    ("FourierHalf", "nd_matrix_dft"): ND_FOURIER,
}


def correct_sources():
    """Every correct MXNet answer: the catalogue's styles, the reference, the nd versions."""
    entries = [
        pytest.param(i.exercise, i.source, id=f"{i.exercise}-{i.name}")
        for i in catalogue.implementations(framework="mxnet", wrong=False)
    ]
    entries += [
        pytest.param(e, catalogue.reference_source(e, "mxnet"), id=f"{e}-reference")
        for e in catalogue.EXERCISES
    ]
    entries += [pytest.param(e, s, id=f"{e}-{name}") for (e, name), s in ND_STYLES.items()]
    return entries


def wrong(name: str, exercise: str | None = None) -> catalogue.Implementation:
    return next(
        i for i in catalogue.implementations(exercise, "mxnet", wrong=True) if i.name == name
    )


# --- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize(("exercise", "source"), correct_sources())
def test_correct_answers_round_trip(tmp_path, exercise, source):
    """Outputs and gradients on inputs the exporter never saw match the NumPy reference."""
    rng = np.random.default_rng(20240601)
    if exercise == "TensorReduction":
        metadata = export(source, exercise, tmp_path / "e")
        assert metadata["mode"] == ("np" if "set_np()" in source or "@use_np" in source else "nd")
        assert metadata["params"] == [{"name": "weight", "shape": [4, 4, 3], "trainable": True}]
        assert metadata["weight"] == "weight" and metadata["weight_var"] == "weight"
        request = reduction_request(rng)
        got = eval_mxnet.evaluate(str(tmp_path / "e"), metadata, request)
        X, W, G = request["X"], request["set_weight"], request["grad_output"]
        assert close(got["output"], reference.tensor_reduction(W, X))
        assert close(got["grad_weight"], reference.tensor_reduction_weight_grad(X, G))
        assert close(got["grad_X"], reference.tensor_reduction_input_grad(W, X, G))
        assert np.array_equal(got["weight"], W)
        assert got["weight_named"] is True and got["output_is_tensor"] is True
        assert got["params"] == metadata["params"]
        # With the exported initial weight: the output follows that one.
        initial = eval_mxnet.evaluate(
            str(tmp_path / "e"), metadata, {**request, "set_weight": None}
        )
        W0 = initial["weight"]
        assert W0.shape == (4, 4, 3) and not np.allclose(W0, W)
        assert close(initial["output"], reference.tensor_reduction(W0, X))
        assert not close(initial["output"], got["output"])
        plain = {**request, "want_grad": False}
        values_only = eval_mxnet.evaluate(str(tmp_path / "e"), metadata, plain)
        assert values_only["grad_X"] is None and values_only["grad_weight"] is None
        return
    for index, shape in enumerate(FOURIER_SHAPES):
        folder = tmp_path / f"e{index}"
        metadata = export(source, exercise, folder, shape=shape)
        assert metadata["params"] == [] and metadata["weight"] is None
        request = fourier_request(rng, shape)
        got = eval_mxnet.evaluate(str(folder), metadata, request)
        X = request["X"]
        assert close(got["output"], reference.as_real_imaginary(reference.fourier_half(X)))
        assert close(got["grad_X"], reference.fourier_half_input_grad(X))
        assert got["weight"] is None and got["grad_weight"] is None
        assert got["weight_named"] is False and got["params"] == []


def test_reference_metadata_format(tmp_path):
    """The metadata names the input, the weight, the constants and their files."""
    source = catalogue.reference_source("FourierHalf", "mxnet")
    metadata = export(source, "FourierHalf", tmp_path / "f", shape=(2, 6))
    assert metadata["format"] == "mxnet-autograd-symbol/1"
    assert metadata["input"] == "x" and metadata["input_shape"] == [2, 6]
    assert metadata["output_shape"] == [2, 3, 2] and metadata["mode"] == "np"
    assert metadata["constants"] == [{"var": "const0", "file": "const0.npy"}]
    dft = np.load(tmp_path / "f" / "const0.npy", allow_pickle=False)
    assert dft.shape == (6, 3, 2) and dft.dtype == np.float32
    names = {n["name"] for n in read_graph(tmp_path / "f")["nodes"] if n["op"] == "null"}
    assert names == {"x", "const0"}
    metadata = export(
        catalogue.reference_source("TensorReduction", "mxnet"), "TensorReduction", tmp_path / "r"
    )
    assert metadata["weight_file"] == "weight.npy" and metadata["constants"] == []
    assert sorted(os.listdir(tmp_path / "r")) == ["graph.json", "weight.npy"]


def test_exporter_never_sees_probe_values_and_draws_fresh_placeholders(tmp_path):
    """Two exports of the same layer record different placeholders, the same graph."""
    source = catalogue.reference_source("TensorReduction", "mxnet")
    export(source, "TensorReduction", tmp_path / "a")
    export(source, "TensorReduction", tmp_path / "b")
    assert read_graph(tmp_path / "a")["nodes"] == read_graph(tmp_path / "b")["nodes"]
    first = np.load(tmp_path / "a" / "weight.npy")
    second = np.load(tmp_path / "b" / "weight.npy")
    assert not np.array_equal(first, second)  # a fresh layer, a fresh normal draw


# --- wrong answers keep their faults ---------------------------------------------------------


def test_weight_detached_gets_no_weight_gradient(tmp_path):
    """``detach()`` under ``autograd.pause``: values follow the weight, no gradient."""
    entry = wrong("weight_detached")
    metadata = export(entry.source, "TensorReduction", tmp_path / "e")
    assert metadata["weight_var"] is None and metadata["weight_copies"] == ["weight_copy0"]
    request = reduction_request(np.random.default_rng(3))
    got = eval_mxnet.evaluate(str(tmp_path / "e"), metadata, request)
    X, W, G = request["X"], request["set_weight"], request["grad_output"]
    assert close(got["output"], reference.tensor_reduction(W, X))  # follows the new weight
    assert close(got["grad_X"], reference.tensor_reduction_input_grad(W, X, G))
    assert got["grad_weight"] is None


def test_numpy_roundtrip_is_not_exportable(tmp_path):
    """``numpy.fft`` on ``X.asnumpy()``: no graph, so no values and no gradient points."""
    entry = wrong("numpy_roundtrip")
    with pytest.raises(NotExportable) as caught:
        export(entry.source, "FourierHalf", tmp_path / "e", shape=(2, 6))
    message = str(caught.value)
    assert message == f"{export_mxnet.CANNOT}: {export_mxnet.NO_GRAPH}" and "asnumpy()" in message
    assert len(message) <= 400  # the harness keeps 400 characters
    assert caught.value.stage == "export"


@pytest.mark.parametrize(
    "entry", catalogue.implementations(framework="mxnet", wrong=True), ids=lambda i: i.name
)
def test_wrong_answers_still_fail_something(tmp_path, entry):
    """No wrong answer of the catalogue passes every comparison after the round trip."""
    rng = np.random.default_rng(99)
    failures = []
    try:
        if entry.exercise == "TensorReduction":
            metadata = export(entry.source, entry.exercise, tmp_path / "e")
            request = reduction_request(rng)
            got = eval_mxnet.evaluate(str(tmp_path / "e"), metadata, request)
            X, W, G = request["X"], request["set_weight"], request["grad_output"]
            initial = eval_mxnet.evaluate(
                str(tmp_path / "e"), metadata, {**request, "set_weight": None}
            )
            W0 = initial["weight"]
            if not close(got["output"], reference.tensor_reduction(W, X)):
                failures.append("values")
            if not close(got["grad_weight"], reference.tensor_reduction_weight_grad(X, G)):
                failures.append("grad_weight")
            if not close(got["grad_X"], reference.tensor_reduction_input_grad(W, X, G)):
                failures.append("grad_X")
            if metadata["params"] != [{"name": "weight", "shape": [4, 4, 3], "trainable": True}]:
                failures.append("params")
            if not 0.5 < float(W0.std()) < 1.5:  # init.Normal(sigma=1.0): 48 values
                failures.append("init")
        else:
            for index, shape in enumerate(FOURIER_SHAPES):
                metadata = export(entry.source, entry.exercise, tmp_path / f"e{index}", shape)
                request = fourier_request(rng, shape)
                got = eval_mxnet.evaluate(str(tmp_path / f"e{index}"), metadata, request)
                X = request["X"]
                if not close(got["output"], reference.as_real_imaginary(reference.fourier_half(X))):
                    failures.append(f"values {shape}")
                if not close(got["grad_X"], reference.fourier_half_input_grad(X)):
                    failures.append(f"grad {shape}")
    except (NotExportable, StageError, GraphRefused) as error:
        failures.append(type(error).__name__)
    except (LookupError, ValueError, mx.base.MXNetError) as error:  # the evaluator's
        failures.append(type(error).__name__)
    assert failures, f"{entry.name} passed every comparison"


# --- what cannot be exported -----------------------------------------------------------------

_HEADER = "from mxnet import autograd, init, np, npx\nfrom mxnet.gluon import nn\n\nnpx.set_np()\n"
_REDUCTION_INIT = """
class TensorReduction(nn.Block):
    def __init__(self, units, in_units, **kwargs):
        super().__init__(**kwargs)
        self.weight = self.params.get(
            "weight", shape=(in_units, in_units, units), init=init.Normal(sigma=1.0)
        )

    def forward(self, X):
        W = self.weight.data(X.ctx)
"""
_FOURIER_DEF = """
class FourierHalf(nn.Block):
    def forward(self, X):
        n = X.shape[-1]
        m = (n + 1) // 2
"""


def reduction_source(body: str, header: str = _HEADER) -> str:
    lines = "".join(f"        {line}\n" for line in body.strip("\n").splitlines())
    return header + _REDUCTION_INIT + lines


def fourier_source(body: str, header: str = _HEADER) -> str:
    lines = "".join(f"        {line}\n" for line in body.strip("\n").splitlines())
    return header + _FOURIER_DEF + lines


_DFT = """t = np.arange(n, dtype="float64").reshape(n, 1)
k = np.arange(m, dtype="float64").reshape(1, m)
cos = np.cos(2 * np.pi * t * k / n).astype(X.dtype)
sin = np.sin(2 * np.pi * t * k / n).astype(X.dtype)
"""


@pytest.mark.parametrize(
    ("source", "exercise", "expected"),
    [
        pytest.param(
            reduction_source(
                'Xc = np.array(X.asnumpy())\nreturn np.einsum("bi,bj,ijk->bk", Xc, X, W)'
            ),
            "TensorReduction",
            export_mxnet.CONSTANT_CHANGES,
            id="numpy-copy-of-X-as-a-constant",
        ),
        pytest.param(
            reduction_source(
                "with autograd.pause():\n    Xp = X * 1\n"
                'return np.einsum("bi,bj,ijk->bk", Xp, X, W)'
            ),
            "TensorReduction",
            export_mxnet.CONSTANT_CHANGES,
            id="pause-around-X",
        ),
        pytest.param(
            fourier_source(
                _DFT + "with autograd.pause():\n"
                "    return np.stack([np.dot(X, cos), -np.dot(X, sin)], axis=-1)"
            ),
            "FourierHalf",
            export_mxnet.NO_GRAPH,
            id="pause-around-everything",
        ),
        pytest.param(
            fourier_source(
                _DFT + "C = np.stack([np.dot(X, cos), -np.dot(X, sin)], axis=-1)\n"
                "if X.sum() > 0:\n    return C * 1\nreturn C * 1.0000001"
            ),
            "FourierHalf",
            export_mxnet.GRAPH_CHANGES,
            id="python-if-on-values",
        ),
        pytest.param(
            fourier_source("return np.random.normal(size=(*X.shape[:-1], m, 2)) + X.sum() * 0"),
            "FourierHalf",
            export_mxnet.CONSTANT_CHANGES,
            id="random-constant",
        ),
        pytest.param(
            fourier_source("return np.zeros((*X.shape[:-1], m, 2))"),
            "FourierHalf",
            export_mxnet.NO_GRAPH,
            id="constant-output",
        ),
        pytest.param(
            fourier_source("C = np.zeros((*X.shape[:-1], m, 2))\n_ = C * X.sum()\nreturn C"),
            "FourierHalf",
            export_mxnet.NO_INPUT,
            id="constant-output-seen-by-autograd",
        ),
        pytest.param(
            fourier_source(
                _DFT + "C = np.stack([np.dot(X, cos), -np.dot(X, sin)], axis=-1)\n"
                "with autograd.pause():\n    cos[:] = 0\nreturn C"
            ),
            "FourierHalf",
            export_mxnet.NOT_REPRODUCED,
            id="constant-changed-in-place",
        ),
        pytest.param(
            fourier_source(_DFT + "return (np.dot(X, cos), -np.dot(X, sin))"),
            "FourierHalf",
            export_mxnet.NOT_AN_ARRAY.format(kind="tuple"),
            id="tuple-output",
        ),
        pytest.param(
            fourier_source(_DFT + "return np.dot(X, cos).asnumpy()"),
            "FourierHalf",
            export_mxnet.NOT_AN_ARRAY.format(kind="ndarray"),
            id="numpy-output",
        ),
    ],
)
def test_layers_that_cannot_become_graphs(tmp_path, source, exercise, expected):
    with pytest.raises(NotExportable) as caught:
        export(source, exercise, tmp_path / "e", shape=(2, 6))
    assert str(caught.value) == f"{export_mxnet.CANNOT}: {expected}"
    assert len(str(caught.value)) <= 400  # within the harness's cap


def test_custom_operators_are_not_exported(tmp_path):
    """A Python ``autograd.Function`` hides code from the graph: refused at export."""
    source = fourier_source(
        "class Twice(autograd.Function):\n"
        "    def forward(self, x):\n        return x * 2\n"
        "    def backward(self, dy):\n        return dy * 2\n"
        "return Twice()(X)"
    )
    with pytest.raises(NotExportable, match=r"autograd\.Function"):
        export(source, "FourierHalf", tmp_path / "e", shape=(2, 6))


@pytest.mark.parametrize(
    ("source", "stage", "error"),
    [
        pytest.param(
            _HEADER + "class FourierHalf(nn.Block):\n    def __init__(self):\n"
            "        raise ValueError('no constructor')\n",
            "construct",
            ValueError,
            id="constructor",
        ),
        pytest.param(
            fourier_source("raise KeyError('broken forward')"), "forward", KeyError, id="forward"
        ),
        pytest.param(
            fourier_source("raise SystemExit(3)"), "forward", SystemExit, id="system-exit"
        ),
        pytest.param(
            fourier_source("raise NotImplementedError"),
            "forward",
            NotImplementedError,
            id="stub",
        ),
        pytest.param(
            fourier_source('return np.einsum("bi,bj->bij", X, np.ones((3, 3)))'),
            "forward",
            mx.base.MXNetError,
            id="mxnet-error",
        ),
    ],
)
def test_student_exceptions_name_their_stage(tmp_path, source, stage, error):
    with pytest.raises(StageError) as caught:
        export(source, "FourierHalf", tmp_path / "e", shape=(2, 6))
    assert caught.value.stage == stage and isinstance(caught.value.error, error)


def test_initialize_failure_is_a_construct_error(tmp_path):
    source = reduction_source("return W").replace(
        "init=init.Normal(sigma=1.0)", 'init="no_such_initializer"'
    )
    with pytest.raises(StageError) as caught:
        export(source, "TensorReduction", tmp_path / "e")
    assert caught.value.stage == "construct"


def test_export_restores_mxnet_state(tmp_path):
    """The array-constructor hook and MXNet's NumPy settings are put back, even on errors."""
    from mxnet.ndarray.ndarray import NDArray

    owner = next(k for k in NDArray.__mro__ if "__init__" in vars(k))
    before = (vars(owner)["__init__"], mx.util.is_np_array(), mx.util.is_np_shape())
    with pytest.raises(StageError):
        export(fourier_source("raise KeyError"), "FourierHalf", tmp_path / "a", shape=(2, 6))
    export(
        catalogue.reference_source("FourierHalf", "mxnet"),
        "FourierHalf",
        tmp_path / "b",
        shape=(2, 6),
    )
    after = (vars(owner)["__init__"], mx.util.is_np_array(), mx.util.is_np_shape())
    assert before == after


# --- constants, casts and blocks the exporter must handle ------------------------------------

_MODULE_CONSTANT = """
import math

from mxnet import np, npx
from mxnet.gluon import nn

npx.set_np()
N = 6
M = (N + 1) // 2
_ANGLE = 2 * math.pi * np.arange(N).reshape(N, 1) * np.arange(M).reshape(1, M) / N
DFT = np.stack([np.cos(_ANGLE), -np.sin(_ANGLE)], axis=-1).reshape(N, 2 * M).astype("float32")


class FourierHalf(nn.Block):
    def forward(self, X):
        return np.dot(X, DFT).reshape((*X.shape[:-1], M, 2))
"""

_INIT_CONSTANT = """
import math

from mxnet import np, npx
from mxnet.gluon import nn

npx.set_np()


class FourierHalf(nn.Block):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        n, m = 6, 3
        t = np.arange(n, dtype="float64").reshape(n, 1)
        angle = 2 * math.pi * t * np.arange(m, dtype="float64").reshape(1, m) / n
        self.cos, self.sin = np.cos(angle), np.sin(angle)

    def forward(self, X):
        X64 = X.astype("float64")  # astype is recorded as _copyto: exported as Cast
        C = np.stack([np.dot(X64, self.cos), -np.dot(X64, self.sin)], axis=-1)
        return C.astype(X.dtype)
"""

_HYBRID = """
import math

from mxnet import nd
from mxnet.gluon import nn


class FourierHalf(nn.HybridBlock):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hybridize()

    def hybrid_forward(self, F, X):
        n = 6
        angle = nd.arange(n).reshape((n, 1)) * nd.arange(3).reshape((1, 3)) * (2 * math.pi / n)
        return F.stack(F.dot(X, nd.cos(angle)), -F.dot(X, nd.sin(angle)), axis=-1)
"""


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(_MODULE_CONSTANT, id="module-level-constant"),
        pytest.param(_INIT_CONSTANT, id="constructor-constant-and-astype"),
        pytest.param(_HYBRID, id="hybridized-block"),
    ],
)
def test_constants_casts_and_hybrid_blocks(tmp_path, source):
    metadata = export(source, "FourierHalf", tmp_path / "e", shape=(2, 6))
    ops = {n["op"] for n in read_graph(tmp_path / "e")["nodes"]}
    assert "_copyto" not in ops and "_CachedOp" not in ops
    request = fourier_request(np.random.default_rng(5), (2, 6))
    got = eval_mxnet.evaluate(str(tmp_path / "e"), metadata, request)
    X = request["X"]
    assert close(got["output"], reference.as_real_imaginary(reference.fourier_half(X)))
    assert close(got["grad_X"], reference.fourier_half_input_grad(X))
    if source is _INIT_CONSTANT:
        assert "Cast" in ops and got["output"].dtype == np.float32


def test_other_parameters_are_exported_and_bound(tmp_path):
    """``bias_added``: the bias is a parameter of the graph, with its own file."""
    metadata = export(wrong("bias_added").source, "TensorReduction", tmp_path / "e")
    assert metadata["other_params"] == [{"var": "param0", "param": "bias", "file": "param0.npy"}]
    assert [p["name"] for p in metadata["params"]] == ["weight", "bias"]
    request = reduction_request(np.random.default_rng(8))
    got = eval_mxnet.evaluate(str(tmp_path / "e"), metadata, request)
    assert close(got["output"], reference.tensor_reduction(request["set_weight"], request["X"]))


# --- the evaluator refuses before MXNet loads ------------------------------------------------


@pytest.mark.parametrize(
    ("op", "attrs", "named"),
    [
        ("Custom", {"op_type": "evil"}, "Custom (operador Python personalizado"),
        ("_CustomFunction", {}, "_CustomFunction"),
        ("_CachedOp", {}, "_CachedOp (bloco hibridizado)"),
        ("_totally_unknown_op", {}, "_totally_unknown_op"),
        ("Dropout", {"p": "0.5"}, "Dropout"),
        ("_npi_normal", {}, "_npi_normal"),
    ],
)
def test_refused_ops_never_reach_the_loader(tmp_path, forbid_loader, op, attrs, named):
    folder, metadata = exported_folder(tmp_path)
    forbid_loader()
    graph = read_graph(folder)
    node = next(n for n in graph["nodes"] if n["op"] == "_np_dot")
    node["op"], node["attrs"] = op, attrs
    write_graph(folder, graph)
    with pytest.raises(GraphRefused) as caught:
        eval_mxnet.evaluate(str(folder), metadata, fourier_request(np.random.default_rng(), (2, 6)))
    assert named in str(caught.value) and caught.value.stage == "load"


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda g: g["nodes"][0].update(name="undeclared"), id="undeclared-var"),
        pytest.param(lambda g: g["nodes"][0].update(attrs={"__shape__": "(2,)"}), id="var-attrs"),
        pytest.param(lambda g: g["nodes"][-1].update(subgraphs=[]), id="subgraph-key"),
        pytest.param(lambda g: g["nodes"][2].update(inputs=[[3, 0, 0]]), id="forward-reference"),
        pytest.param(lambda g: g["nodes"][2].update(inputs=[[0, 0, 7]]), id="bad-entry"),
        pytest.param(lambda g: g.update(heads=[[3, 0, 0], [2, 0, 0]]), id="two-heads"),
        pytest.param(lambda g: g.update(arg_nodes=[0]), id="arg-nodes"),
        pytest.param(lambda g: g.update(extra=1), id="unknown-key"),
        pytest.param(lambda g: g["attrs"].update(is_np_shape=["int", 0]), id="mode-mismatch"),
        pytest.param(lambda g: g["attrs"].update(mxnet_version=["int", 800]), id="old-version"),
        pytest.param(lambda g: g["attrs"].pop("mxnet_version"), id="no-version"),
        pytest.param(lambda g: g["nodes"][2].update(attrs={"k": "\u0000"}), id="control-char"),
        pytest.param(lambda g: g["nodes"][3].update(name="x"), id="duplicate-name"),
        pytest.param(lambda g: g.update(nodes="[]"), id="nodes-not-a-list"),
        # An output a node does not have: MXNet's loader dies of a bus error, not an exception.
        pytest.param(lambda g: g.update(heads=[[3, 5, 0]]), id="head-output-out-of-range"),
        pytest.param(lambda g: g["nodes"][3].update(inputs=[[2, 7, 0]]), id="output-out-of-range"),
        pytest.param(
            lambda g: g["nodes"][2].update(inputs=[[0, 1, 0], [1, 0, 0]]), id="var-output"
        ),
    ],
)
def test_malformed_graphs_are_refused(tmp_path, forbid_loader, forge):
    folder, metadata = exported_folder(tmp_path)
    forbid_loader()
    graph = read_graph(folder)
    assert [n["op"] for n in graph["nodes"]] == ["null", "null", "_np_dot", "_np_reshape"]
    forge(graph)
    write_graph(folder, graph)
    with pytest.raises(GraphRefused):
        eval_mxnet.evaluate(str(folder), metadata, fourier_request(np.random.default_rng(), (2, 6)))


def test_split_outputs_are_counted_from_their_attributes(tmp_path):
    """The only allowed ops with several outputs: each output index is checked, then works."""
    folder, metadata = exported_folder(tmp_path)
    graph = read_graph(folder)
    split = {"op": "SliceChannel", "name": "split", "attrs": {"num_outputs": "3", "axis": "1"}}
    graph["nodes"][3] = {**split, "inputs": [[2, 0, 0]]}
    request = fourier_request(np.random.default_rng(6), (2, 6))
    for index, accepted in ((2, True), (3, False)):
        graph["heads"] = [[3, index, 0]]
        write_graph(folder, graph)
        if accepted:
            got = eval_mxnet.evaluate(str(folder), metadata, request)
            full = reference.as_real_imaginary(reference.fourier_half(request["X"]))
            assert close(got["output"], full.reshape(2, 6)[:, 4:])
        else:
            with pytest.raises(GraphRefused, match="referência inválida"):
                eval_mxnet.evaluate(str(folder), metadata, request)
    assert eval_mxnet._output_count("_split_v2", {"indices": "[0, 2, 4]"}) == 3
    assert eval_mxnet._output_count("_split_v2", {"indices": "[0, 2", "axis": "1"}) == 0
    assert eval_mxnet._output_count("_np_dot", {}) == 1


def test_enormous_intermediate_arrays_are_refused_before_allocation(tmp_path):
    folder, metadata = exported_folder(tmp_path)
    graph = read_graph(folder)
    graph["nodes"][3] = {
        "op": "tile",
        "name": "big",
        "attrs": {"reps": "(100000, 100000, 100000)"},
        "inputs": [[2, 0, 0]],
    }
    write_graph(folder, graph)
    with pytest.raises(ValueError, match="grande demais"):
        eval_mxnet.evaluate(str(folder), metadata, fourier_request(np.random.default_rng(), (2, 6)))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 100_000 + "]" * 100_000, id="recursion-bomb"),
        pytest.param('{"nodes": [], "nodes": []}', id="duplicate-keys"),
        pytest.param('{"nodes": [NaN]}', id="nan"),
        pytest.param("not json", id="not-json"),
        pytest.param('"just a string"', id="not-an-object"),
        pytest.param("1" * 5000, id="huge-integer"),
    ],
)
def test_hostile_json_is_refused(tmp_path, forbid_loader, text):
    folder, metadata = exported_folder(tmp_path)
    forbid_loader()
    write_graph(folder, text)
    with pytest.raises(GraphRefused):
        eval_mxnet.evaluate(str(folder), metadata, fourier_request(np.random.default_rng(), (2, 6)))


def test_duplicate_keys_cannot_hide_an_op(tmp_path, forbid_loader):
    """``"op": "Custom", "op": "_np_dot"``: parsers disagree on which one wins; refused."""
    folder, metadata = exported_folder(tmp_path)
    forbid_loader()
    text = (folder / "graph.json").read_text(encoding="utf-8")
    assert text.count('"op": "_np_dot"') == 1
    write_graph(folder, text.replace('"op": "_np_dot"', '"op": "Custom", "op": "_np_dot"'))
    with pytest.raises(GraphRefused, match="JSON"):
        eval_mxnet.evaluate(str(folder), metadata, fourier_request(np.random.default_rng(), (2, 6)))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('{"a": ' * 50 + "1" + "}" * 50, id="deep-but-valid"),
        pytest.param('{"a": NaN}', id="nan"),
        pytest.param('{"a": -Infinity}', id="infinity"),
        pytest.param('{"a": 1, "a": 2}', id="duplicates"),
    ],
)
def test_parse_graph_refuses_what_json_would_accept(text, monkeypatch):
    assert isinstance(json.loads(text), dict)  # the standard library takes them all
    with pytest.raises(GraphRefused):
        eval_mxnet.parse_graph(text.encode())


def test_nesting_is_measured_before_json_parses(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("json.loads ran on a recursion bomb")

    monkeypatch.setattr(eval_mxnet, "json", type("json", (), {"loads": staticmethod(forbidden)}))
    with pytest.raises(GraphRefused, match="aninhado"):
        eval_mxnet.parse_graph(b'{"nodes": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert eval_mxnet._nesting_depth('{"s": "[[[[{{{{\\"[[["}', 50) == 1  # strings skipped


def test_oversize_and_non_utf8_graphs_are_refused(tmp_path, forbid_loader, monkeypatch):
    folder, metadata = exported_folder(tmp_path)
    forbid_loader()
    request = fourier_request(np.random.default_rng(), (2, 6))
    monkeypatch.setattr(eval_mxnet, "GRAPH_LIMIT", 100)
    with pytest.raises(GraphRefused, match="grande demais"):
        eval_mxnet.evaluate(str(folder), metadata, request)
    monkeypatch.undo()
    forbid_loader()
    (folder / "graph.json").write_bytes(b'{"nodes": "\xff\xfe"}')
    with pytest.raises(GraphRefused, match="UTF-8"):
        eval_mxnet.evaluate(str(folder), metadata, request)


@pytest.mark.parametrize("target", ["graph.json", "const0.npy"])
def test_symlinks_fifos_and_folders_are_refused(tmp_path, forbid_loader, target):
    folder, metadata = exported_folder(tmp_path)
    forbid_loader()
    request = fourier_request(np.random.default_rng(), (2, 6))
    outside = tmp_path / "outside"
    shutil.copy(folder / target, outside)
    (folder / target).unlink()
    (folder / target).symlink_to(outside)
    with pytest.raises(GraphRefused, match="ausente ou link"):
        eval_mxnet.evaluate(str(folder), metadata, request)
    (folder / target).unlink()
    os.mkfifo(folder / target)
    with pytest.raises(GraphRefused, match="não é um arquivo comum"):
        eval_mxnet.evaluate(str(folder), metadata, request)
    (folder / target).unlink()
    (folder / target).mkdir()
    with pytest.raises(GraphRefused):
        eval_mxnet.evaluate(str(folder), metadata, request)


def test_folder_swapped_for_a_link_after_the_check_is_refused(tmp_path, forbid_loader, monkeypatch):
    """The folder is opened without following links too, not only checked with lstat."""
    folder, metadata = exported_folder(tmp_path)
    forbid_loader()
    link = tmp_path / "link"
    link.symlink_to(folder, target_is_directory=True)
    monkeypatch.setattr(eval_mxnet.os, "lstat", os.stat)  # the check sees the target
    with pytest.raises(GraphRefused, match="pasta"):
        eval_mxnet.evaluate(str(link), metadata, fourier_request(np.random.default_rng(), (2, 6)))


def test_symlinked_export_folder_is_refused(tmp_path, forbid_loader):
    folder, metadata = exported_folder(tmp_path)
    forbid_loader()
    link = tmp_path / "link"
    link.symlink_to(folder, target_is_directory=True)
    with pytest.raises(GraphRefused, match="pasta"):
        eval_mxnet.evaluate(str(link), metadata, fourier_request(np.random.default_rng(), (2, 6)))


def _npy_bytes(header: dict, payload: bytes, version=(1, 0)) -> bytes:
    text = repr(header).encode("latin1")
    width = 2 if version == (1, 0) else 4
    pad = 64 - (10 + width - 2 + len(text) + 1) % 64
    body = text + b" " * pad + b"\n"
    magic = b"\x93NUMPY" + bytes(version)
    return magic + len(body).to_bytes(width, "little") + body + payload


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(
            _npy_bytes({"descr": "|O", "fortran_order": False, "shape": (2,)}, b"\x80\x04N."),
            id="object-pickle",
        ),
        pytest.param(
            _npy_bytes({"descr": ">f4", "fortran_order": False, "shape": (6, 6)}, b"\0" * 144),
            id="big-endian",
        ),
        pytest.param(
            _npy_bytes({"descr": "<c8", "fortran_order": False, "shape": (6, 6)}, b"\0" * 288),
            id="complex",
        ),
        pytest.param(
            _npy_bytes(
                {"descr": [("a", "<f4")], "fortran_order": False, "shape": (6,)}, b"\0" * 24
            ),
            id="structured",
        ),
        pytest.param(
            _npy_bytes({"descr": "<f4", "fortran_order": True, "shape": (6, 6)}, b"\0" * 144),
            id="fortran",
        ),
        pytest.param(
            _npy_bytes({"descr": "<f4", "fortran_order": False, "shape": (6, 6)}, b"\0" * 100),
            id="truncated",
        ),
        pytest.param(
            _npy_bytes({"descr": "<f4", "fortran_order": False, "shape": (1 << 30, 1 << 30)}, b""),
            id="huge-shape",
        ),
        pytest.param(
            _npy_bytes(
                {"descr": "<f4", "fortran_order": False, "shape": (6, 6)},
                b"\0" * 144,
                version=(3, 0),
            ),
            id="version-3",
        ),
        pytest.param(
            _npy_bytes(
                {"descr": "<f4", "fortran_order": False, "shape": (6, 6), "x": "y" * 9000},
                b"\0" * 144,
                version=(2, 0),
            ),
            id="huge-header",
        ),
        pytest.param(b"PK\x03\x04 a zip file", id="not-npy"),
    ],
)
def test_hostile_npy_files_are_refused_before_numpy_loads_them(
    tmp_path, forbid_loader, monkeypatch, content
):
    folder, metadata = exported_folder(tmp_path)
    forbid_loader()
    (folder / "const0.npy").write_bytes(content)
    loads = []
    real_load = np.load
    monkeypatch.setattr(np, "load", lambda *a, **k: loads.append(1) or real_load(*a, **k))
    with pytest.raises(GraphRefused):
        eval_mxnet.evaluate(str(folder), metadata, fourier_request(np.random.default_rng(), (2, 6)))
    assert not loads


def _forge_reduction(metadata: dict, change) -> dict:
    forged = json.loads(json.dumps(metadata))
    change(forged)
    return forged


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda m: m.update(weight="bias"), id="weight-not-a-param"),
        pytest.param(lambda m: m.update(weight_file="../../etc/passwd"), id="traversal"),
        pytest.param(lambda m: m.update(weight_file="/etc/passwd"), id="absolute"),
        pytest.param(lambda m: m.update(weight_file="weight.npy/.."), id="dots"),
        pytest.param(lambda m: m.update(weight_file="graph.json"), id="graph-as-weight"),
        pytest.param(
            lambda m: m["constants"].append({"var": "c", "file": "weight.npy"}), id="file-twice"
        ),
        pytest.param(lambda m: m.update(graph="../graph.json"), id="graph-traversal"),
        pytest.param(lambda m: m.update(input="weight"), id="input-is-weight"),
        pytest.param(lambda m: m.update(input="X; rm -rf /"), id="bad-var-name"),
        pytest.param(lambda m: m.update(weight_var=None), id="weight-var-undeclared"),
        pytest.param(lambda m: m.update(format="pickle"), id="format"),
        pytest.param(lambda m: m.update(mode="cuda"), id="mode"),
        pytest.param(lambda m: m.update(exercise="FourierHalf"), id="exercise"),
        pytest.param(lambda m: m.update(extra={"a": 1}), id="unknown-key"),
        pytest.param(lambda m: m["params"][0].update(shape=[9, 9, 9]), id="param-shape-vs-file"),
        pytest.param(lambda m: m["params"][0].update(shape=[-1]), id="negative-shape"),
        pytest.param(lambda m: m["params"][0].update(shape="4,4,3"), id="shape-not-a-list"),
        pytest.param(lambda m: m["params"][0].update(trainable="yes"), id="trainable-not-bool"),
        pytest.param(lambda m: m["params"].append(dict(m["params"][0])), id="duplicate-param"),
        pytest.param(
            lambda m: (
                m["params"].insert(0, {"name": "bias", "shape": [4, 4, 3], "trainable": True})
                or m.update(weight="bias")
            ),
            id="weight-not-the-named-one",
        ),
        pytest.param(
            lambda m: m["constants"].append({"var": "c", "file": "c.npy"}), id="unused-constant"
        ),
        pytest.param(
            lambda m: m["constants"].append({"var": "weight", "file": "weight.npy"}),
            id="weight-var-also-a-constant",
        ),
        pytest.param(
            lambda m: m["other_params"].append({"var": "p", "param": "weight", "file": "p.npy"}),
            id="other-param-is-the-weight",
        ),
        pytest.param(lambda m: m.update(weight_copies=["x"]), id="copy-is-the-input"),
        pytest.param(lambda m: m.update(params=[{"name": "w" * 500}]), id="malformed-param"),
    ],
)
def test_forged_metadata_is_refused(tmp_path, forbid_loader, change):
    folder = tmp_path / "export"
    metadata = export(
        catalogue.reference_source("TensorReduction", "mxnet"), "TensorReduction", folder
    )
    forbid_loader()
    request = reduction_request(np.random.default_rng())
    with pytest.raises(GraphRefused):
        eval_mxnet.evaluate(str(folder), _forge_reduction(metadata, change), request)


def test_forged_but_consistent_metadata_is_harmless(tmp_path):
    """Roles swapped consistently only change the liar's own answers, nothing else."""
    folder, metadata = exported_folder(tmp_path)
    request = fourier_request(np.random.default_rng(4), (2, 6))
    # The DFT constant declared as a trainable weight: accepted, bound, differentiated.
    forged = {
        **metadata,
        "params": [{"name": "weight", "shape": [6, 6], "trainable": True}],
        "weight": "weight",
        "weight_named": False,  # a lie the evaluator does not repeat
        "weight_file": "const0.npy",
        "weight_var": "const0",
        "constants": [],
    }
    got = eval_mxnet.evaluate(str(folder), forged, request)
    assert got["weight_named"] is True and got["grad_weight"].shape == (6, 6)
    X = request["X"]
    assert close(got["output"], reference.as_real_imaginary(reference.fourier_half(X)))
    # Input and constant swapped: shapes that do not fit, MXNet's own error, no crash.
    swapped = {**metadata, "input": "const0", "constants": [{"var": "x", "file": "const0.npy"}]}
    with pytest.raises(mx.base.MXNetError):
        eval_mxnet.evaluate(str(folder), swapped, fourier_request(np.random.default_rng(), (2, 7)))


def test_a_weight_that_does_not_fit_is_an_ordinary_error(tmp_path):
    """As the other evaluators: ``apply.py`` turns these into the set_weight/evaluate stage."""
    folder = tmp_path / "export"
    source = catalogue.reference_source("TensorReduction", "mxnet")
    metadata = export(source, "TensorReduction", folder)
    request = {**reduction_request(np.random.default_rng()), "set_weight": np.ones((3, 3, 3))}
    with pytest.raises(ValueError, match="forma"):
        eval_mxnet.evaluate(str(folder), metadata, request)
    fourier_folder, fourier_metadata = exported_folder(tmp_path / "f")
    request = {**fourier_request(np.random.default_rng(), (2, 6)), "set_weight": np.ones(3)}
    with pytest.raises(LookupError, match="nenhum parâmetro chamado weight"):
        eval_mxnet.evaluate(str(fourier_folder), fourier_metadata, request)


def test_output_of_the_wrong_shape_fails_the_loss_not_the_evaluator(tmp_path):
    """``output_batch_in_units``: (batch, in_units) against a (batch, units) gradient."""
    metadata = export(wrong("output_batch_in_units").source, "TensorReduction", tmp_path / "e")
    request = reduction_request(np.random.default_rng(1))
    values = eval_mxnet.evaluate(str(tmp_path / "e"), metadata, {**request, "want_grad": False})
    assert values["output"].shape == (5, 4)
    with pytest.raises(ValueError, match="não combina com grad_output"):
        eval_mxnet.evaluate(str(tmp_path / "e"), metadata, request)


# --- the allow-list ----------------------------------------------------------------------------


def test_every_allowed_op_is_an_mxnet_operator():
    size, names = ctypes.c_uint(), ctypes.POINTER(ctypes.c_char_p)()
    mx.base.check_call(mx.base._LIB.MXListAllOpNames(ctypes.byref(size), ctypes.byref(names)))
    registered = {names[i].decode() for i in range(size.value)}
    assert registered >= eval_mxnet.ALLOWED_OPS, sorted(eval_mxnet.ALLOWED_OPS - registered)
    assert not {"Custom", "_CustomFunction", "_CachedOp", "Dropout", "BatchNorm"} & (
        eval_mxnet.ALLOWED_OPS
    )


def test_catalogue_ops_are_all_allowed(tmp_path):
    """Every MXNet implementation of the catalogue, right or wrong, exports allowed ops only."""
    entries = [(i.exercise, i.source) for i in catalogue.implementations(framework="mxnet")]
    entries += [(e, catalogue.reference_source(e, "mxnet")) for e in catalogue.EXERCISES]
    entries += list(zip((e for e, _ in ND_STYLES), ND_STYLES.values(), strict=True))
    seen = set()
    for index, (exercise, source) in enumerate(entries):
        shape = (2, 6) if exercise == "FourierHalf" else None
        try:
            export(source, exercise, tmp_path / str(index), shape=shape)
        except (NotExportable, StageError):
            continue  # numpy_roundtrip; k_swapped_*, which fail in the forward pass
        seen |= {n["op"] for n in read_graph(tmp_path / str(index))["nodes"]} - {"null"}
    assert seen <= eval_mxnet.ALLOWED_OPS, sorted(seen - eval_mxnet.ALLOWED_OPS)
    assert {"_npi_einsum", "_np_dot", "batch_dot", "_npi_stack", "dot", "stack"} <= seen


def _op_table():
    """One small function per allowed op, as a student's forward pass could use them."""
    from mxnet import nd, npx
    from mxnet import np as mnp

    def nd_split(x):
        return nd.split(x, 3, axis=1)[0]

    numpy_mode = {
        "add": lambda x: x + x,
        "sub": lambda x: x - x * 2,
        "mul": lambda x: x * x,
        "div": lambda x: x / (x + 1),
        "mod": lambda x: x % (x + 1),
        "pow": lambda x: x**x,
        "negative": mnp.negative,
        "scalars": lambda x: (1 + x - 1) * 2 / 3 + 2 / x - (1 - x) + x**2 + 2**x,
        "mods": lambda x: x % 2 + 2 % x,
        "hypot": lambda x: mnp.hypot(x, x * 2),
        "arctan2": lambda x: mnp.arctan2(x, x + 1),
        "copysign": lambda x: mnp.copysign(x, -x),
        "unary1": lambda x: mnp.abs(x) + mnp.sign(x) + mnp.square(x) + mnp.sqrt(x) + mnp.cbrt(x),
        "unary2": lambda x: mnp.reciprocal(x) + mnp.exp(x) + mnp.expm1(x) + mnp.log(x),
        "unary3": lambda x: mnp.log1p(x) + mnp.sin(x) + mnp.cos(x) + mnp.tan(x / 4),
        "unary4": lambda x: mnp.arcsin(x / 3) + mnp.arccos(x / 3) + mnp.arctan(x),
        "unary5": lambda x: mnp.sinh(x) + mnp.cosh(x) + mnp.tanh(x),
        "unary6": lambda x: mnp.degrees(x) + mnp.radians(x),
        "rounding": lambda x: (
            (mnp.floor(x) + mnp.ceil(x) + mnp.rint(x) + mnp.trunc(x)) * x + mnp.fix(x) * x
        ),
        "compare": lambda x: (
            mnp.equal(x, x) * x
            + mnp.not_equal(x, x) * x
            + mnp.greater(x, x) * x
            + mnp.greater_equal(x, x) * x
            + mnp.less(x, x) * x
            + mnp.less_equal(x, x) * x
        ),
        "compare_scalar": lambda x: (
            (x == 1) * x + (x != 1) * x + (x > 1) * x + (x >= 1) * x + (x < 1) * x + (x <= 1) * x
        ),
        "where": lambda x: (
            mnp.where(x > 1, x, x * 2) + mnp.where(x > 1, 1.0, x) + mnp.where(x > 1, x, 0.0)
        ),
        "max_min": lambda x: mnp.maximum(x, 1.0) + mnp.minimum(x, x * 2),
        "dot": lambda x: mnp.dot(x, x.T),
        "matmul": lambda x: x @ x.T,
        "einsum": lambda x: mnp.einsum("ij,kj->ik", x, x),
        "tensordot": lambda x: mnp.tensordot(x, x, axes=([1], [1])) + mnp.tensordot(x, x.T, 1),
        "batch_dot": lambda x: npx.batch_dot(x.reshape(1, 2, 3), x.reshape(1, 3, 2)),
        "reductions": lambda x: x.sum() + x.prod() + x.max() + x.min() + x.mean() + x.std(),
        "reductions2": lambda x: x.var() + mnp.average(x) + mnp.linalg.norm(x),
        "cumsum": lambda x: mnp.cumsum(x, axis=1),
        "reshape": lambda x: x.reshape(3, 2) + npx.reshape(x, (-2, -2)).reshape(3, 2),
        "transpose": lambda x: mnp.transpose(x) + mnp.swapaxes(x, 0, 1) + mnp.moveaxis(x, 0, 1),
        "dims": lambda x: mnp.squeeze(mnp.expand_dims(x, 0)) + x[:, None, :].reshape(2, 3),
        "copy": lambda x: mnp.copy(x) + x.copy() + x.astype("float64").astype("float32"),
        "atleast": lambda x: mnp.atleast_1d(x) + mnp.atleast_2d(x) + mnp.atleast_3d(x)[:, :, 0],
        "join": lambda x: (
            mnp.stack([x, x], axis=-1).sum(axis=-1)
            + mnp.concatenate([x, x], axis=0)[:2]
            + mnp.vstack([x, x])[2:]
        ),
        "broadcast": lambda x: mnp.broadcast_to(x, (4, 2, 3)).sum(axis=0),
        "tile_repeat": lambda x: mnp.tile(x, 2)[:, :3] + mnp.repeat(x, 2)[:6].reshape(2, 3),
        "index": lambda x: x[1] * x[:, ::2].sum() + x[x.shape[0] - 1, 2] + x[..., :1],
        "advanced": lambda x: x[mnp.array([0, 1])] + mnp.take(x, mnp.array([0, 2, 1]), axis=1),
        "flip": lambda x: mnp.flip(x, 1) + mnp.rot90(x.reshape(3, 2)),
        "diag_tril": lambda x: mnp.diag(x[:, :2]) + mnp.tril(x[:, :2]).sum(axis=0),
        "roll_pad": lambda x: mnp.roll(x, 1, axis=1) + mnp.pad(x, ((0, 0), (0, 1)))[:, 1:],
        "like": lambda x: mnp.zeros_like(x) + mnp.ones_like(x) * x + mnp.full_like(x, 2) * x,
        "split": lambda x: mnp.split(x, 3, axis=1)[0],
        "npx": lambda x: npx.relu(x - 1) + npx.sigmoid(x) + npx.softmax(x) + npx.log_softmax(x),
        "erf": lambda x: npx.erf(x),
        "pick": lambda x: npx.pick(x, mnp.array([0, 1]), axis=1),
        "dense": lambda x: npx.fully_connected(x, mnp.ones((4, 3)), no_bias=True, num_hidden=4),
        "clip": lambda x: mnp.clip(x, 0.6, 1.2),
        "constants": lambda x: x * mnp.arange(3) + x * (mnp.arange(3) > 0),
    }
    legacy = {
        "arithmetic": lambda x: (x + x) - x * x / (x + 1) + x**x,
        "scalars": lambda x: (1 + x - 1) * 2 / 3 + 2 / x - (1 - x) + x**2 + 2**x + x % 2 + 3 % x,
        "broadcast": lambda x: (
            nd.broadcast_add(x, x[0:1]) * nd.broadcast_sub(x, x[0:1])
            + nd.broadcast_div(x, x[0:1])
            + nd.broadcast_mod(x, x[0:1] + 1)
            + nd.broadcast_power(x, x[0:1])
            + nd.broadcast_hypot(x, x[0:1])
            + nd.broadcast_maximum(x, x[0:1])
            + nd.broadcast_minimum(x, x[0:1])
        ),
        "compare": lambda x: (
            (nd.broadcast_equal(x, x[0:1]) + nd.broadcast_not_equal(x, x[0:1])) * x
            + (nd.broadcast_greater(x, x[0:1]) + nd.broadcast_greater_equal(x, x[0:1])) * x
            + (nd.broadcast_lesser(x, x[0:1]) + nd.broadcast_lesser_equal(x, x[0:1])) * x
        ),
        "compare_scalar": lambda x: (
            ((x == 1) + (x != 1) + (x > 1) + (x >= 1) + (x < 1)) * x + (x <= 1) * x
        ),
        # Two entries: MXNet's own imperative backward fails on the four in one expression
        # ("control dep not found in graph"), which has nothing to do with the export.
        "elemwise_add_div": lambda x: nd.elemwise_add(x, x) + nd.elemwise_div(x, x + 1),
        "elemwise_sub_mul": lambda x: nd.elemwise_sub(x, x * 2) * nd.elemwise_mul(x, x + 1),
        "max_min": lambda x: nd.maximum(x, 1) + nd.minimum(x, 1),
        "unary1": lambda x: nd.negative(x) + nd.reciprocal(x) + nd.abs(x) + nd.sign(x),
        "unary2": lambda x: nd.square(x) + nd.sqrt(x) + nd.rsqrt(x) + nd.cbrt(x) + nd.exp(x),
        "unary3": lambda x: nd.expm1(x) + nd.log(x) + nd.log1p(x) + nd.sin(x) + nd.cos(x),
        "unary4": lambda x: nd.tan(x / 4) + nd.arcsin(x / 3) + nd.arccos(x / 3) + nd.arctan(x),
        "unary5": lambda x: nd.sinh(x) + nd.cosh(x) + nd.tanh(x) + nd.erf(x),
        "rounding": lambda x: (
            (nd.floor(x) + nd.ceil(x) + nd.round(x) + nd.rint(x)) * x
            + (nd.fix(x) + nd.trunc(x)) * x
        ),
        "activations": lambda x: nd.relu(x - 1) + nd.sigmoid(x) + nd.softmax(x) + nd.log_softmax(x),
        "dot": lambda x: nd.dot(x, x.T) + nd.dot(x, x, transpose_b=True),
        "batch_dot": lambda x: nd.batch_dot(x.reshape((1, 2, 3)), x.reshape((1, 3, 2))),
        "gemm2": lambda x: nd.linalg.gemm2(x, x, transpose_b=True),
        "dense": lambda x: nd.FullyConnected(x, nd.ones((4, 3)), no_bias=True, num_hidden=4),
        "shape": lambda x: (
            nd.reshape_like(x.reshape((-1,)), x)
            + nd.flatten(x)
            + nd.swapaxes(x.T, 0, 1)
            + nd.squeeze(nd.expand_dims(x, 0))
        ),
        "join": lambda x: (
            nd.stack(x, x, axis=-1).sum(axis=-1)
            + nd.concat(x, x, dim=0)[0:2]
            + nd_split(x).broadcast_to((2, 3))
        ),
        "slicing": lambda x: (
            x[1] * x[:, 1:].sum()
            + nd.slice_axis(x, axis=1, begin=0, end=1)
            + nd.slice_like(x, x[0:1])
        ),
        "gather": lambda x: (
            nd.take(x, nd.array([0, 1]))
            + nd.pick(x, nd.array([0, 1]), axis=1).reshape((2, 1))
            + nd.gather_nd(x, nd.array([[0, 1], [1, 2]])).reshape((2, 1))
        ),
        "reverse_tile": lambda x: (
            nd.reverse(x, axis=0)
            + nd.tile(x, reps=(2,))[:, :3]
            + nd.repeat(x, repeats=2)[0:6].reshape((2, 3))
        ),
        "diag": lambda x: nd.diag(x[:, 0:2]),
        "broadcast_to": lambda x: (
            nd.broadcast_to(x.expand_dims(0), shape=(4, 2, 3)).sum(axis=0)
            + nd.broadcast_axis(x.expand_dims(0), axis=0, size=2).sum(axis=0)
            + nd.broadcast_like(x[0:1], x)
        ),
        "like": lambda x: nd.zeros_like(x) + nd.ones_like(x) * x,
        "cast_copy": lambda x: nd.cast(x, "float64").astype("float32") + nd._internal._copy(x),
        "block_grad": lambda x: nd.BlockGrad(x) * x + nd.stop_gradient(x) * x,
        "where_clip": lambda x: nd.where(x > 1, x, x * 0) + nd.clip(x, 0.6, 1.2),
        "reductions": lambda x: x.sum() + x.mean() + x.prod() + x.max() + x.min() + x.norm(),
        "add_n": lambda x: nd.add_n(x, x, x),
        "constants": lambda x: x * nd.arange(3),
    }
    return numpy_mode, legacy


def test_every_allowed_op_round_trips(tmp_path):
    """Each allowed op, exported and evaluated, gives MXNet's own output and gradient."""
    from mxnet import autograd, gluon

    numpy_mode, legacy = _op_table()
    covered, problems = set(), []
    for mode, table in (("np", numpy_mode), ("nd", legacy)):
        for name, function in table.items():

            class Layer(gluon.nn.Block):
                def forward(self, X, function=function):
                    return function(X)

            source = "npx.set_np()" if mode == "np" else ""
            folder = tmp_path / f"{mode}-{name}"
            folder.mkdir()
            X = np.random.default_rng(0).uniform(0.5, 1.5, (2, 3)).astype(np.float32)
            with student_state(source):
                metadata = export_mxnet.export_layer(
                    Layer, "FourierHalf", spec_for("FourierHalf", (2, 3)), str(folder)
                )
                lib = mx.np if mode == "np" else mx.nd
                x = lib.array(X)
                x.attach_grad()
                with autograd.record():
                    y = function(x)
                y.backward(lib.ones_like(y))
                expected, expected_grad = y.asnumpy(), x.grad.asnumpy()
            request = {"exercise": "FourierHalf", "X": X, "want_grad": True}
            got = eval_mxnet.evaluate(str(folder), json.loads(json.dumps(metadata)), request)
            covered |= {n["op"] for n in read_graph(folder)["nodes"]} - {"null"}
            if not (
                np.allclose(got["output"], expected, equal_nan=True)
                and got["grad_X"] is not None
                and np.allclose(got["grad_X"], expected_grad, equal_nan=True)
            ):
                problems.append(f"{mode}:{name}")
    assert not problems
    assert covered == eval_mxnet.ALLOWED_OPS, (
        sorted(eval_mxnet.ALLOWED_OPS - covered),
        sorted(covered - eval_mxnet.ALLOWED_OPS),
    )


# --- end to end with the grader's checks -----------------------------------------------------


def _check_response(check, request, source, folder: Path, apply_graph) -> dict:
    """What the sandboxed grader would hand ``Check.evaluate`` for this request.

    The export's failures as the student process reports them (``harness.export_one``),
    the evaluation through ``apply.apply_graph`` as the evaluator process runs it.
    """
    X = request["X"]
    try:
        metadata = export(source, check.exercise, folder, shape=X.shape, sizes=request.get("sizes"))
    except NotExportable as error:
        return {"error": {"stage": "export", "type": "NotExportable", "message": str(error)}}
    except StageError as error:
        inner = error.error
        return {"error": {"stage": error.stage, "type": type(inner).__name__, "message": ""}}
    return apply_graph(eval_mxnet, str(folder), metadata, request)


@pytest.mark.slow
def test_grader_checks_score_the_catalogue_through_graphs(tmp_path):
    """``grading.checks`` on exported graphs: correct answers 10/10, wrong ones less."""
    from grading import checks

    apply = pytest.importorskip("grading.evaluator.apply")
    entries = [
        (i.exercise, i.name, i.source, not i.breaks)
        for i in catalogue.implementations(framework="mxnet")
    ]
    entries += [
        (e, "reference", catalogue.reference_source(e, "mxnet"), True) for e in catalogue.EXERCISES
    ]
    entries += [(e, name, s, True) for (e, name), s in ND_STYLES.items()]
    scores = {}
    for exercise, name, source, correct in entries:
        total = 0.0
        for index, check in enumerate(checks.CHECKS[exercise]):
            request = check.request(seed=7)
            folder = tmp_path / f"{exercise}-{name}-{index}"
            response = _check_response(check, request, source, folder, apply.apply_graph)
            total += check.evaluate(request, response, "mxnet").points
        scores[(exercise, name)] = total
        if correct:
            assert math.isclose(total, 10.0), (exercise, name, total)
        else:
            assert total < 10.0, (exercise, name, total)
    # The two faults the in-process probe scored the same way:
    assert scores[("TensorReduction", "weight_detached")] == 10.0 - 1.5  # no weight gradient
    assert scores[("TensorReduction", "uniform_init")] == 10.0 - 1.0  # not a normal


# --- each half alone, in its own process, as the sandbox runs them ----------------------------

_CHILD = r"""
import json, sys
sys.modules["grading"] = None  # as harness.py: the project's package is not importable
sys.path.insert(0, sys.argv[1])
import mxnet
import export_mxnet
job = json.load(sys.stdin)
namespace = {"__name__": "__main__"}
exec(job["source"], namespace)
metadata = export_mxnet.export_layer(namespace[job["exercise"]], job["exercise"], job["spec"],
                                     job["folder"])
print(json.dumps(metadata))
"""

_EVALUATOR = r"""
import json, sys
sys.modules["grading"] = None  # as main.py
sys.path.insert(0, sys.argv[1])
import numpy as np
import eval_mxnet
job = json.load(sys.stdin)
request = {key: np.array(value, dtype=np.float32) if key in ("X", "set_weight", "grad_output")
           and value is not None else value for key, value in job["request"].items()}
got = eval_mxnet.evaluate(job["folder"], job["metadata"], request)
assert "mxnet" in sys.modules and "export_mxnet" not in sys.modules
print(json.dumps({k: v.tolist() for k, v in got.items() if isinstance(v, np.ndarray)}))
"""


def _run_alone(script: str, folder: Path, job: dict) -> dict:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-I", "-B", "-c", script, str(folder)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=300,
        cwd="/",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_halves_run_alone_in_their_own_processes(tmp_path):
    """The exporter beside ``exportable.py``, the evaluator beside ``refusal.py``, no package."""
    child_dir, evaluator_dir = tmp_path / "child", tmp_path / "evaluator"
    child_dir.mkdir()
    evaluator_dir.mkdir()
    grading_dir = Path(export_mxnet.__file__).resolve().parents[1]
    for name in ("export_mxnet.py", "exportable.py"):
        shutil.copy(grading_dir / "child" / name, child_dir)
    for name in ("eval_mxnet.py", "refusal.py", "files.py"):
        shutil.copy(grading_dir / "evaluator" / name, evaluator_dir)
    entry = next(
        i for i in catalogue.implementations("TensorReduction", "mxnet") if i.name == "tensordot"
    )
    folder = tmp_path / "export"
    folder.mkdir()
    spec = spec_for("TensorReduction", REDUCTION_SHAPE, SIZES)
    job = {"source": entry.source, "exercise": "TensorReduction", "spec": spec}
    metadata = _run_alone(_CHILD, child_dir, {**job, "folder": str(folder)})
    request = reduction_request(np.random.default_rng(12))
    plain = {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in request.items()}
    got = _run_alone(
        _EVALUATOR,
        evaluator_dir,
        {"folder": str(folder), "metadata": metadata, "request": plain},
    )
    X, W, G = request["X"], request["set_weight"], request["grad_output"]
    assert close(np.array(got["output"]), reference.tensor_reduction(W, X))
    assert close(np.array(got["grad_weight"]), reference.tensor_reduction_weight_grad(X, G))
    assert close(np.array(got["grad_X"]), reference.tensor_reduction_input_grad(W, X, G))
