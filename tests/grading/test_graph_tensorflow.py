"""The TensorFlow graph export (student side) and its evaluator (trusted side).

``grading/child/export_tensorflow.py`` saves a layer as a SavedModel from shapes alone;
``grading/evaluator/eval_tensorflow.py`` refuses any op outside its allow-lists before
TensorFlow's loader runs, then applies the graph to inputs the exporter never saw. Every
check here is also shown failing on a wrong implementation (or a hostile graph).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")  # the root conftest has loaded MXNet first

from tensorflow.core.protobuf import saved_model_pb2  # noqa: E402

from grading.checks import compare  # noqa: E402
from grading.child import export_tensorflow as ex  # noqa: E402
from grading.child.exportable import NotExportable, StageError  # noqa: E402
from grading.evaluator import eval_tensorflow as ev  # noqa: E402
from grading.evaluator.refusal import GraphRefused  # noqa: E402
from solutions import catalogue, reference  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SIZES = {"in_units": 5, "units": 3, "batch": 4}  # in_units != units: swapped axes show
FOURIER_SHAPES = ([3, 8], [2, 3, 7])  # even and odd n, two and three axes


def load_class(source: str, name: str) -> type:
    namespace: dict = {}
    exec(compile(source, f"<{name}>", "exec"), namespace)
    return namespace[name]


def layer_source(exercise: str, call: str, extra: str = "") -> str:
    """A TensorFlow layer whose ``call`` body is ``call`` (indented by the caller)."""
    if exercise == "TensorReduction":
        head = (
            "    def __init__(self, units, **kwargs):\n"
            "        super().__init__(**kwargs)\n"
            "        self.units = units\n\n"
            "    def build(self, X_shape):\n"
            "        self.weight = self.add_weight(name='weight',\n"
            "            shape=(X_shape[-1], X_shape[-1], self.units),\n"
            "            initializer=tf.random_normal_initializer(stddev=1.0))\n"
            f"{extra}\n"
        )
    else:
        head = extra
    return (
        "import numpy as np\nimport tensorflow as tf\n\n"
        f"class {exercise}(tf.keras.layers.Layer):\n{head}"
        f"    def call(self, X):\n        {call}\n"
    )


def spec(exercise: str, shape: list[int]) -> dict:
    sizes = dict(SIZES) if exercise == "TensorReduction" else None
    return {
        "id": f"{exercise}-tensorflow",
        "exercise": exercise,
        "framework": "tensorflow",
        "sizes": sizes,
        "shape": list(shape),
        "dtype": "float32",
    }


def export(cls: type, exercise: str, folder: Path, shape: list[int] | None = None) -> dict:
    shape = shape or [SIZES["batch"], SIZES["in_units"]]
    folder.mkdir(parents=True, exist_ok=True)
    the_spec = spec(exercise, shape)
    json.dumps(the_spec)  # plain data: the exporter gets shapes, never a probe value
    return ex.export_layer(cls, exercise, the_spec, str(folder))


def reduction_request(rng, *, set_weight=True, grad=True) -> dict:
    n, k, b = SIZES["in_units"], SIZES["units"], SIZES["batch"]
    return {
        "exercise": "TensorReduction",
        "sizes": dict(SIZES),
        "X": rng.standard_normal((b, n)).astype(np.float32),
        "set_weight": rng.standard_normal((n, n, k)).astype(np.float32) if set_weight else None,
        "grad_output": rng.standard_normal((b, k)).astype(np.float32) if grad else None,
        "want_grad": grad,
    }


def fourier_request(rng, shape, *, grad=True) -> dict:
    X = rng.standard_normal(shape).astype(np.float32)
    return {"exercise": "FourierHalf", "X": X, "set_weight": None, "want_grad": grad}


def problems(source: str, exercise: str, folder: Path, seed: int = 0) -> list[str]:
    """What differs from the reference after an export and evaluations ([] when right)."""
    rng = np.random.default_rng(seed)
    cls = load_class(source, exercise)
    found = []
    if exercise == "TensorReduction":
        try:
            meta = export(cls, exercise, folder)
        except (StageError, NotExportable) as error:
            return [f"export: {getattr(error, 'stage', 'export')}"]
        request = reduction_request(rng)
        W, X, G = request["set_weight"], request["X"], request["grad_output"]
        try:
            got = ev.evaluate(str(folder), meta, request)
        except Exception as error:  # no weight to set, shapes that do not fit the loss
            return [f"evaluate: {type(error).__name__}"]
        n, k = SIZES["in_units"], SIZES["units"]
        if got["params"] != [{"name": "weight", "shape": [n, n, k], "trainable": True}]:
            found.append(f"parâmetros: {got['params']}")
        found.append(compare(reference.tensor_reduction(W, X), got["output"], "saída"))
        found.append(compare(W.astype(np.float64), got["weight"], "weight"))
        expected = reference.tensor_reduction_weight_grad(X, G)
        found.append(compare(expected, got["grad_weight"], "grad weight"))
        expected = reference.tensor_reduction_input_grad(W, X, G)
        found.append(compare(expected, got["grad_X"], "grad X"))
        # a second weight: the output follows it (the weight is a variable of the graph)
        second = reduction_request(rng, grad=False)
        got = ev.evaluate(str(folder), meta, second)
        expected = reference.tensor_reduction(second["set_weight"], second["X"])
        found.append(compare(expected, got["output"], "saída com outro weight"))
        # no weight sent: the output follows the weight the layer initialised itself
        third = reduction_request(rng, set_weight=False, grad=False)
        got = ev.evaluate(str(folder), meta, third)
        if got["weight"] is None:
            found.append("weight ausente")
        else:
            expected = reference.tensor_reduction(got["weight"], third["X"])
            found.append(compare(expected, got["output"], "saída com o weight inicial"))
        return [problem for problem in found if problem]
    for index, shape in enumerate(FOURIER_SHAPES):
        where = folder / str(index)
        try:
            meta = export(cls, exercise, where, shape)
        except (StageError, NotExportable) as error:
            return [f"export: {getattr(error, 'stage', 'export')}"]
        request = fourier_request(rng, shape)
        X = request["X"]
        got = ev.evaluate(str(where), meta, request)
        found.append(compare(reference.fourier_half(X), got["output"], f"saída {shape}"))
        expected = reference.fourier_half_input_grad(X)
        found.append(compare(expected, got["grad_X"], f"grad X {shape}"))
    return [problem for problem in found if problem]


CORRECT = [
    pytest.param(
        impl.source,
        impl.exercise,
        id=f"{impl.exercise}-{impl.name}",
        # unrolled Python loops: a graph of hundreds of ops, seconds to differentiate
        marks=[pytest.mark.slow] if impl.name == "loops" else [],
    )
    for impl in catalogue.implementations(framework="tensorflow", wrong=False)
] + [
    pytest.param(catalogue.reference_source(name, "tensorflow"), name, id=f"{name}-reference")
    for name in catalogue.EXERCISES
]
WRONG = {impl.name: impl for impl in catalogue.implementations(framework="tensorflow", wrong=True)}


# --- round trips ------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "exercise"), CORRECT)
def test_correct_styles_round_trip(source, exercise, tmp_path):
    """Export, evaluate on fresh inputs: values, gradients and set_weight match."""
    assert problems(source, exercise, tmp_path) == []


@pytest.mark.parametrize("name", sorted(WRONG), ids=str)
def test_wrong_answers_differ_after_round_trip(name, tmp_path):
    """The round trip keeps each wrong answer wrong (only the initialiser one is exact)."""
    impl = WRONG[name]
    found = problems(impl.source, impl.exercise, tmp_path)
    if set(impl.breaks) == {"check_reduction_parameter"}:  # uniform_init: right values
        assert found == []
        folder = tmp_path / "again"
        meta = export(load_class(impl.source, impl.exercise), impl.exercise, folder)
        request = reduction_request(np.random.default_rng(1), set_weight=False, grad=False)
        got = ev.evaluate(str(folder), meta, request)
        assert np.abs(got["weight"]).max() <= 0.05  # the weight read back is the layer's own
    else:
        assert found, f"{name} passed every comparison"


ALL_ENTRIES = [
    pytest.param(impl, id=f"{impl.exercise}-{impl.name}{'-wrong' if impl.breaks else ''}")
    for impl in catalogue.implementations(framework="tensorflow")
    if impl.name != "loops"  # covered (slowly) by the round trip above
]


@pytest.mark.parametrize("impl", ALL_ENTRIES)
def test_restored_graph_matches_the_layer(impl, tmp_path):
    """Whatever the layer computes (right or wrong), the restored graph computes the same."""
    cls = load_class(impl.source, impl.exercise)
    shape = [SIZES["batch"], SIZES["in_units"]] if impl.exercise == "TensorReduction" else [3, 8]
    try:
        meta = export(cls, impl.exercise, tmp_path, shape)
    except StageError:  # k_swapped_*: fails in the layer itself, eagerly too
        with pytest.raises(Exception):  # noqa: B017
            cls(SIZES["units"])(tf.zeros(shape))
        return
    rng = np.random.default_rng(16)
    X = rng.standard_normal(shape).astype(np.float32)
    layer = cls(SIZES["units"]) if impl.exercise == "TensorReduction" else cls()
    layer(tf.zeros(shape))
    W = None
    if layer.weights:
        W = rng.standard_normal(tuple(layer.weights[0].shape)).astype(np.float32)
        layer.weights[0].assign(W)
    request = {"exercise": impl.exercise, "X": X, "set_weight": W, "want_grad": False}
    got = ev.evaluate(str(tmp_path), meta, request)
    expected = np.asarray(layer(tf.constant(X)))
    assert got["output"].dtype == expected.dtype and got["output"].shape == expected.shape
    if impl.exercise == "TensorReduction" and not layer.weights:
        return  # not_registered: each instance draws its own constant, nothing to set
    np.testing.assert_allclose(got["output"], expected, rtol=1e-5, atol=1e-5)


def test_metadata_and_restored_params(tmp_path):
    cls = load_class(catalogue.reference_source("TensorReduction", "tensorflow"), "TensorReduction")
    meta = export(cls, "TensorReduction", tmp_path)
    n, k = SIZES["in_units"], SIZES["units"]
    assert json.loads(json.dumps(meta)) == meta
    assert meta["format"] == ev.FORMAT == ex.FORMAT
    assert meta["params"] == [{"name": "weight", "shape": [n, n, k], "trainable": True}]
    assert (meta["weight"], meta["weight_index"]) == ("weight", 0)
    assert meta["output"] == {"shape": [SIZES["batch"], k], "dtype": "float32"}
    got = ev.evaluate(str(tmp_path), meta, reduction_request(np.random.default_rng(2)))
    assert got["params"] == meta["params"]
    assert got["weight_named"] is True and got["output_is_tensor"] is True
    assert (ex.FUNCTION_ATTRIBUTE, ex.PARAMS_ATTRIBUTE, ex.MEMBERS_ATTRIBUTE) == (
        ev.FUNCTION_ATTRIBUTE,
        ev.PARAMS_ATTRIBUTE,
        ev.MEMBERS_ATTRIBUTE,
    )


def test_fourier_output_is_complex(tmp_path):
    cls = load_class(catalogue.reference_source("FourierHalf", "tensorflow"), "FourierHalf")
    meta = export(cls, "FourierHalf", tmp_path, [2, 5])
    assert meta["params"] == [] and meta["weight"] is None
    got = ev.evaluate(str(tmp_path), meta, fourier_request(np.random.default_rng(3), [2, 5]))
    assert got["output"].dtype == np.complex64 and got["output"].shape == (2, 3)
    assert got["weight"] is None and got["grad_weight"] is None


def test_stop_gradient_gives_no_weight_gradient(tmp_path):
    right = catalogue.reference_source("TensorReduction", "tensorflow")
    for name, source in (("right", right), ("wrong", WRONG["stop_gradient"].source)):
        cls = load_class(source, "TensorReduction")
        meta = export(cls, "TensorReduction", tmp_path / name)
        got = ev.evaluate(str(tmp_path / name), meta, reduction_request(np.random.default_rng(4)))
        if name == "right":
            assert got["grad_weight"] is not None and np.abs(got["grad_weight"]).max() > 0
        else:
            assert got["grad_weight"] is None or not np.any(got["grad_weight"])
            assert got["grad_X"] is not None  # X still gets its gradient


def test_frozen_weight_snapshot_does_not_follow_set_weight(tmp_path):
    """A layer that computes with a constant copy of its weight: the graph shows it."""
    frozen = layer_source(
        "TensorReduction",
        "return tf.einsum('bi,bj,ijk->bk', X, X, self.frozen)",
        extra="        self.frozen = tf.constant(self.weight.numpy())\n",
    )
    assert problems(frozen, "TensorReduction", tmp_path / "frozen")
    right = layer_source("TensorReduction", "return tf.einsum('bi,bj,ijk->bk', X, X, self.weight)")
    assert problems(right, "TensorReduction", tmp_path / "right") == []


def test_captured_and_non_trainable_variables_survive(tmp_path):
    """A variable Keras does not list still reaches the graph (not as a param); a weight
    made non-trainable after creation is restored non-trainable and gets no gradient."""
    hidden = layer_source(
        "TensorReduction",
        "return self.box[0] * tf.einsum('bi,bj,ijk->bk', X, X, self.weight)",
        extra="        self.box = [tf.Variable(2.0)]\n",
    )
    frozen = layer_source(
        "TensorReduction",
        "return tf.einsum('bi,bj,ijk->bk', X, X, self.weight)",
        extra="        self.weight.trainable = False\n",
    )
    request = reduction_request(np.random.default_rng(17))
    W, X = request["set_weight"], request["X"]
    meta = export(load_class(hidden, "TensorReduction"), "TensorReduction", tmp_path / "h")
    got = ev.evaluate(str(tmp_path / "h"), meta, request)
    assert [p["name"] for p in got["params"]] == ["weight"]
    np.testing.assert_allclose(got["output"], 2 * reference.tensor_reduction(W, X), rtol=1e-4)
    meta = export(load_class(frozen, "TensorReduction"), "TensorReduction", tmp_path / "f")
    assert meta["params"][0]["trainable"] is False
    got = ev.evaluate(str(tmp_path / "f"), meta, request)
    assert got["params"][0]["trainable"] is False and got["grad_weight"] is None


def test_not_registered_weight_cannot_be_set(tmp_path):
    impl = WRONG["not_registered"]
    meta = export(load_class(impl.source, impl.exercise), impl.exercise, tmp_path)
    assert meta["params"] == [] and meta["weight"] is None
    with pytest.raises(LookupError, match="weight"):  # apply.py reports stage set_weight
        ev.evaluate(str(tmp_path), meta, reduction_request(np.random.default_rng(5)))


def test_exporter_never_sees_probe_values(tmp_path):
    """The layer sees zeros (eager build) and symbolic tensors only; evaluating runs none
    of its code. The old in-process probe, run on the same layer, hands it the values."""
    source = layer_source(
        "TensorReduction",
        "TensorReduction.seen.append(X)\n"
        "        return tf.einsum('bi,bj,ijk->bk', X, X, self.weight)",
        extra="    seen = []\n",
    )
    cls = load_class(source, "TensorReduction")
    meta = export(cls, "TensorReduction", tmp_path)
    seen = list(cls.seen)
    assert seen, "the layer was never called"
    for tensor in seen:
        assert tf.is_symbolic_tensor(tensor) or not np.any(tensor.numpy())
    request = reduction_request(np.random.default_rng(6))
    got = ev.evaluate(str(tmp_path), meta, request)
    assert len(cls.seen) == len(seen)  # no student code ran in the evaluation
    assert (
        compare(reference.tensor_reduction(request["set_weight"], request["X"]), got["output"], "")
        == ""
    )

    # the design this replaces (the layer applied where student code runs) leaks them:
    cls(SIZES["units"])(tf.constant(request["X"]))
    leaked = [t for t in cls.seen[len(seen) :] if not tf.is_symbolic_tensor(t)]
    assert any(np.allclose(t.numpy(), request["X"]) for t in leaked)


# --- layers that cannot be graphs ---------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "hint"),
    [
        ("return X * X.numpy()", ".numpy()"),
        ("return tf.signal.rfft(np.asarray(X))", "NumPy"),
        ("return X * float(X[0, 0])", "float()"),
        ("return X if bool(tf.reduce_all(X >= 0)) else -X", "condição"),
        ("return np.zeros((2, 3), np.float32)", "ndarray"),
        ("return [X, X]", "list"),
        ("return X * tf.Variable(2.0)", "build"),
    ],
    ids=["numpy", "np-asarray", "float", "bool", "ndarray-output", "list-output", "new-variable"],
)
def test_graph_incompatible_layers_are_not_exportable(call, hint, tmp_path):
    cls = load_class(layer_source("FourierHalf", call), "FourierHalf")
    with pytest.raises(NotExportable) as caught:
        export(cls, "FourierHalf", tmp_path, [2, 3])
    message = str(caught.value)
    assert message.startswith("a camada não pôde ser exportada como grafo do TensorFlow")
    assert hint in message
    assert "tf." in message  # says what to use instead


@pytest.mark.parametrize(
    ("numpy_call", "op"),
    [
        ("tf.numpy_function(lambda a: np.fft.rfft(a)[..., :2], [X], tf.complex128)", "PyFunc"),
        ("tf.py_function(lambda a: tf.signal.rfft(a)[..., :2], [X], tf.complex64)", "EagerPyFunc"),
    ],
    ids=["numpy_function", "py_function"],
)
def test_python_functions_fail_at_export_or_evaluation(numpy_call, op, tmp_path):
    """Calling Python from the graph is refused: .numpy() at export, py_function after."""
    numpy_cls = load_class(
        layer_source("FourierHalf", "return tf.signal.rfft(X.numpy())[..., :2]"), "FourierHalf"
    )
    with pytest.raises(NotExportable):
        export(numpy_cls, "FourierHalf", tmp_path / "numpy", [2, 3])
    cls = load_class(layer_source("FourierHalf", f"return {numpy_call}"), "FourierHalf")
    assert cls()(tf.ones([2, 3])).shape == (2, 2)  # runs fine eagerly
    meta = export(cls, "FourierHalf", tmp_path / "py", [2, 3])  # and traces
    with pytest.raises(GraphRefused) as caught:
        ev.evaluate(str(tmp_path / "py"), meta, fourier_request(np.random.default_rng(7), [2, 3]))
    assert op in str(caught.value) and "não permitidas" in str(caught.value)


def test_student_exceptions_name_their_stage(tmp_path):
    constructor = (
        "import tensorflow as tf\n"
        "class FourierHalf(tf.keras.layers.Layer):\n"
        "    def __init__(self):\n"
        "        raise KeyError('x')\n"
    )
    build_error = layer_source("FourierHalf", "raise ValueError('no')")
    # raises only when traced (its second call): a forward error, not a graph problem
    traced_only = layer_source(
        "FourierHalf",
        "self.calls = getattr(self, 'calls', 0) + 1\n"
        "        if self.calls > 1:\n"
        "            raise ValueError('second call')\n"
        "        return X",
    )
    cases = [(constructor, "construct", KeyError), (build_error, "build", ValueError)]
    cases.append((traced_only, "forward", ValueError))
    for index, (source, stage, kind) in enumerate(cases):
        with pytest.raises(StageError) as caught:
            export(load_class(source, "FourierHalf"), "FourierHalf", tmp_path / str(index), [2, 3])
        assert caught.value.stage == stage and isinstance(caught.value.error, kind)


def test_graph_incompatibility_classifier():
    assert ex.graph_incompatibility(ValueError("second call")) is None
    assert ex.graph_incompatibility(KeyboardInterrupt()) is None
    reason = ex.graph_incompatibility(
        AttributeError("'SymbolicTensor' object has no attribute 'numpy'")
    )
    assert reason is not None and ".numpy()" in reason


# --- hand-made and tampered graphs ------------------------------------------------------

META = {"format": ev.FORMAT, "params": [], "weight": None, "weight_index": None, "member": 0}


class LoaderCalled(Exception):
    """Raised by the stand-in for tf.saved_model.load."""


def forbid_loader(monkeypatch) -> list:
    """Replace tf.saved_model.load; the list records every call (it must stay empty)."""
    calls = []

    def forbidden(path, *args, **kwargs):
        calls.append(path)
        raise LoaderCalled(path)

    monkeypatch.setattr(tf.saved_model, "load", forbidden)
    return calls


def spy_loader(monkeypatch) -> list:
    """Count the calls of tf.saved_model.load (and still load)."""
    real, calls = tf.saved_model.load, []

    def spy(path, *args, **kwargs):
        calls.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(tf.saved_model, "load", spy)
    return calls


def count_checks(monkeypatch) -> list:
    """Record each call of the evaluator's allow-list check (and still check)."""
    real, calls = ev.check_saved_model, []

    def counting(proto):
        calls.append(proto)
        return real(proto)

    monkeypatch.setattr(ev, "check_saved_model", counting)
    return calls


def save_module(folder: Path, body, shape=(2, 3)) -> Path:
    """``members``: one tf.Module with ``forward = tf.function(body)``, as the exporter does."""
    module = tf.Module()
    module.params = []
    module.forward = tf.function(body, input_signature=[tf.TensorSpec(shape, tf.float32)])
    root = tf.Module()
    root.members = [module]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tf.saved_model.save(root, str(folder), signatures={})
    return folder


def _reading(path: str):
    def read(x):
        return x + tf.cast(tf.strings.length(tf.io.read_file(path)), tf.float32)

    return read


def _hostile_bodies(secret: str) -> dict:
    read = _reading(secret)
    nested = tf.function(read)

    def writing(x):
        tf.io.write_file(secret + ".copy", tf.strings.as_string(x[0, 0]))
        return x * 2

    return {
        "read_file": read,
        "read_in_nested_function": lambda x: nested(x),
        "read_in_cond_branch": lambda x: tf.cond(tf.reduce_sum(x) > 0, lambda: read(x), lambda: x),
        "write_file": writing,
        "print": lambda x: (tf.print(x), x * 2)[1],
        "random": lambda x: x + tf.random.normal(tf.shape(x)),
    }


@pytest.mark.parametrize(
    "name",
    [
        "read_file",
        "read_in_nested_function",
        "read_in_cond_branch",
        "write_file",
        "print",
        "random",
    ],
)
def test_hostile_graphs_refused_before_loading(name, tmp_path, monkeypatch):
    secret = tmp_path / "secret.txt"
    secret.write_text("senha", encoding="utf-8")
    folder = save_module(tmp_path / "model", _hostile_bodies(str(secret))[name])
    calls = forbid_loader(monkeypatch)
    with pytest.raises(GraphRefused) as caught:
        ev.evaluate(str(folder), META, fourier_request(np.random.default_rng(8), [2, 3]))
    assert calls == []
    message = str(caught.value)
    expected = {"write_file": "WriteFile", "print": "PrintV2", "random": "RandomStandardNormal"}
    assert expected.get(name, "ReadFile") in message
    assert message.startswith("o grafo usa operações não permitidas: ")


def test_pure_hand_made_graph_reaches_the_loader(tmp_path, monkeypatch):
    """The control: the same layout without I/O passes the checks and is loaded."""
    folder = save_module(tmp_path / "model", lambda x: x * 2)
    request = fourier_request(np.random.default_rng(9), [2, 3])
    got = ev.evaluate(str(folder), META, request)
    np.testing.assert_allclose(got["output"], request["X"] * 2)
    calls = forbid_loader(monkeypatch)
    with pytest.raises(GraphRefused, match="não carregou"):  # the stand-in loader's failure
        ev.evaluate(str(folder), META, request)
    assert len(calls) == 1


def test_loader_reads_a_private_copy(tmp_path, monkeypatch):
    folder = save_module(tmp_path / "model", lambda x: x * 2)
    paths = spy_loader(monkeypatch)
    ev.evaluate(str(folder), META, fourier_request(np.random.default_rng(10), [2, 3]))
    assert len(paths) == 1 and Path(paths[0]).resolve() != folder.resolve()
    assert not os.path.exists(paths[0])  # removed after the evaluation


def _exported(tmp_path: Path, saver: bool = False) -> tuple[Path, dict]:
    """The reference layer exported; with ``saver``, saved as ``tf.saved_model.save`` does
    by default, with the saver functions the exporter leaves out (a student may not)."""
    cls = load_class(catalogue.reference_source("TensorReduction", "tensorflow"), "TensorReduction")
    folder = tmp_path / "model"
    if not saver:
        return folder, export(cls, "TensorReduction", folder)
    the_spec = spec("TensorReduction", [SIZES["batch"], SIZES["in_units"]])
    member = ex.trace_layer(cls, "TensorReduction", the_spec)
    root = tf.Module()
    root.members = [member.module]
    tf.saved_model.save(root, str(folder), signatures={})
    return folder, {**member.metadata, "member": 0}


def _rewrite(folder: Path, edit) -> None:
    path = folder / "saved_model.pb"
    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString(path.read_bytes())
    edit(proto.meta_graphs[0])
    path.write_bytes(proto.SerializeToString())


def _function(meta, prefix: str):
    return next(f for f in meta.graph_def.library.function if f.signature.name.startswith(prefix))


def _add_node(nodes, op: str, **funcs):
    node = nodes.add()
    node.name = f"tampered_{op}"
    node.op = op
    for attr, name in funcs.items():
        node.attr[attr].func.name = name
    return node


TAMPERINGS = {
    "read_file_in_forward": lambda m: _add_node(
        _function(m, "__inference_forward").node_def, "ReadFile"
    ),
    "saver_op_in_forward": lambda m: _add_node(
        _function(m, "__inference_forward").node_def, "SaveV2"
    ),
    "read_file_in_saver": lambda m: _add_node(
        _function(m, "__inference__traced_save").node_def, "ReadFile"
    ),
    "math_in_saver": lambda m: _add_node(
        _function(m, "__inference__traced_restore").node_def, "Sin"
    ),
    "read_file_in_main_graph": lambda m: _add_node(m.graph_def.node, "ReadFile"),
    "forward_calls_saver": lambda m: _add_node(
        _function(m, "__inference_forward").node_def,
        "StatefulPartitionedCall",
        f=_function(m, "__inference__traced_save").signature.name,
    ),
    "forward_calls_missing_function": lambda m: _add_node(
        _function(m, "__inference_forward").node_def, "PartitionedCall", f="nowhere"
    ),
    "no_object_graph": lambda m: m.ClearField("object_graph_def"),
    "asset_object": lambda m: m.object_graph_def.nodes.add().asset.SetInParent(),
    "unknown_op": lambda m: _add_node(_function(m, "__inference_forward").node_def, "MyOwnOp"),
}


@pytest.mark.parametrize("name", sorted(TAMPERINGS))
def test_tampered_graphs_are_refused(name, tmp_path, monkeypatch):
    folder, meta = _exported(tmp_path, saver="saver" in name)
    request = reduction_request(np.random.default_rng(11))
    ev.evaluate(str(folder), meta, request)  # the control: intact, it evaluates
    _rewrite(folder, TAMPERINGS[name])
    calls = forbid_loader(monkeypatch)
    with pytest.raises(GraphRefused):
        ev.evaluate(str(folder), meta, request)
    assert calls == []


def _symlinked_pb(folder: Path) -> None:
    real = folder.parent / "elsewhere.pb"
    shutil.move(folder / "saved_model.pb", real)
    (folder / "saved_model.pb").symlink_to(real)


LAYOUTS = {
    "symlinked_file": _symlinked_pb,
    "fifo": lambda folder: os.mkfifo(folder / "variables" / "pipe"),
    "extra_file": lambda folder: (folder / "evil.py").write_text("x", encoding="utf-8"),
    "asset_file": lambda folder: (folder / "assets" / "vocab.txt").write_text(
        "x", encoding="utf-8"
    ),
    "extra_folder": lambda folder: (folder / "debug").mkdir(),
    "missing_pb": lambda folder: (folder / "saved_model.pb").unlink(),
    "garbage_pb": lambda folder: (folder / "saved_model.pb").write_bytes(b"\xff" * 64),
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_unexpected_files_are_refused(name, tmp_path, monkeypatch):
    folder, meta = _exported(tmp_path)
    ev.evaluate(str(folder), meta, reduction_request(np.random.default_rng(12)))  # the control
    LAYOUTS[name](folder)
    calls = forbid_loader(monkeypatch)
    with pytest.raises(GraphRefused):
        ev.evaluate(str(folder), meta, reduction_request(np.random.default_rng(12)))
    assert calls == []


def test_symlinked_folder_and_oversize_files_are_refused(tmp_path, monkeypatch):
    folder, meta = _exported(tmp_path)
    link = tmp_path / "link"
    link.symlink_to(folder, target_is_directory=True)
    request = reduction_request(np.random.default_rng(13))
    ev.evaluate(str(folder), meta, request)  # the control
    with pytest.raises(GraphRefused, match="pasta"):
        ev.evaluate(str(link), meta, request)
    monkeypatch.setattr(ev, "MAX_PB_BYTES", (folder / "saved_model.pb").stat().st_size - 1)
    with pytest.raises(GraphRefused, match="grande demais"):
        ev.evaluate(str(folder), meta, request)


def test_untrusted_metadata(tmp_path):
    folder, meta = _exported(tmp_path)
    request = reduction_request(np.random.default_rng(14))
    for bad in (None, [], {**meta, "format": "other"}):
        with pytest.raises(GraphRefused):
            ev.evaluate(str(folder), bad, request)
    # an index that points nowhere (or is not an int): the name still finds the weight
    for index in (7, -1, "0", True, None):
        got = ev.evaluate(str(folder), {**meta, "weight_index": index}, request)
        assert got["weight"] is not None
    # a name that names nothing: the weight is absent, so it cannot be set
    no_weight = reduction_request(np.random.default_rng(15), set_weight=False)
    for name in ("bias", "", 3, None):
        got = ev.evaluate(str(folder), {**meta, "weight": name}, no_weight)
        assert got["weight"] is None and got["grad_weight"] is None
        assert got["params"][0]["name"] == "weight" and got["weight_named"] is True
        with pytest.raises(LookupError):
            ev.evaluate(str(folder), {**meta, "weight": name}, request)


def test_allow_lists_hold_no_io_python_or_randomness():
    dangerous = {
        "PyFunc",
        "PyFuncStateless",
        "EagerPyFunc",
        "ReadFile",
        "WriteFile",
        "MatchingFiles",
        "PrintV2",
        "Print",
        "StringFormat",
        "RandomStandardNormal",
        "RandomUniform",
        "StatelessRandomNormalV2",
        "Assert",
        "AssignVariableOp",
        "AssignAddVariableOp",
        "VarHandleOp",
        "HashTableV2",
        "SaveV2",
        "RestoreV2",
    }
    assert not dangerous & ev.PURE_OPS
    assert (
        not (dangerous - {"SaveV2", "RestoreV2", "AssignVariableOp", "VarHandleOp"}) & ev.SAVER_OPS
    )
    assert not (ev.PURE_OPS & ev.SAVER_OPS) - {
        "Const",
        "Identity",
        "NoOp",
        "Pack",
        "Select",
        "ReadVariableOp",
        "StatefulPartitionedCall",
        "PartitionedCall",
    }


# --- the files alone, as in the sandbox ---------------------------------------------------


def _standalone(tmp_path: Path) -> Path:
    folder = tmp_path / "alone"
    folder.mkdir()
    for path in (
        "grading/child/exportable.py",
        "grading/child/quiet.py",
        "grading/child/export_tensorflow.py",
        "grading/evaluator/refusal.py",
        "grading/evaluator/files.py",
        "grading/evaluator/eval_tensorflow.py",
    ):
        shutil.copy(REPO / path, folder)
    return folder


def test_modules_import_alone_without_tensorflow(tmp_path):
    folder = _standalone(tmp_path)
    code = (
        "import sys; sys.modules['grading'] = None; sys.path.insert(0, sys.argv[1])\n"
        "import export_tensorflow, eval_tensorflow\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported at module level'\n"
        "assert export_tensorflow.NotExportable.__module__ == 'exportable'\n"
        "assert eval_tensorflow.GraphRefused.__module__ == 'refusal'\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", code, str(folder)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_standalone_round_trip_in_two_processes(tmp_path):
    """Export in one interpreter, evaluate in another, each with only its files."""
    folder = _standalone(tmp_path)
    model = tmp_path / "model"
    model.mkdir()
    source = catalogue.reference_source("TensorReduction", "tensorflow")
    exporter = (
        "import json, sys; sys.modules['grading'] = None; sys.path.insert(0, sys.argv[1])\n"
        "import export_tensorflow\n"
        "ns = {}; exec(sys.stdin.read(), ns)\n"
        "spec = {'exercise': 'TensorReduction', 'sizes': {'units': 3}, 'shape': [2, 4]}\n"
        "meta = export_tensorflow.export_layer(\n"
        "    ns['TensorReduction'], 'TensorReduction', spec, sys.argv[2])\n"
        "print(json.dumps(meta))\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", exporter, str(folder), str(model)],
        input=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    meta = done.stdout.strip().splitlines()[-1]
    evaluator = (
        "import json, sys; import numpy as np; sys.modules['grading'] = None\n"
        "sys.path.insert(0, sys.argv[1]); import eval_tensorflow\n"
        "rng = np.random.default_rng(0); X = rng.standard_normal((2, 4)).astype(np.float32)\n"
        "W = rng.standard_normal((4, 4, 3)).astype(np.float32)\n"
        "request = {'exercise': 'TensorReduction', 'X': X, 'set_weight': W, 'want_grad': False}\n"
        "got = eval_tensorflow.evaluate(sys.argv[2], json.loads(sys.argv[3]), request)\n"
        "expected = np.einsum('bi,bj,ijk->bk', X, X, W)\n"
        "assert np.allclose(got['output'], expected, atol=1e-4), got\n"
        "assert 'export_tensorflow' not in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", evaluator, str(folder), str(model), meta],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


# --- a class's layers saved together ----------------------------------------------------


def _reference_members(count: int) -> list:
    """``count`` traced reference layers (each its own weights), as the student process has."""
    cls = load_class(catalogue.reference_source("TensorReduction", "tensorflow"), "TensorReduction")
    the_spec = spec("TensorReduction", [SIZES["batch"], SIZES["in_units"]])
    return [ex.trace_layer(cls, "TensorReduction", the_spec) for _ in range(count)]


def test_members_of_one_folder_share_one_check_and_one_load(tmp_path, monkeypatch):
    members = _reference_members(3)
    together = ex.save_members(members, str(tmp_path / "juntos"))
    alone = [ex.save_members([m], str(tmp_path / f"so-{i}"))[0] for i, m in enumerate(members)]
    assert [meta["member"] for meta in together] == [0, 1, 2]
    requests = [reduction_request(np.random.default_rng(20 + i)) for i in range(3)]
    expected = [
        ev.evaluate(str(tmp_path / f"so-{i}"), meta, request)
        for i, (meta, request) in enumerate(zip(alone, requests, strict=True))
    ]
    checked = count_checks(monkeypatch)
    loads, loaded = spy_loader(monkeypatch), {}
    for meta, request, want in zip(together, requests, expected, strict=True):
        got = ev.evaluate(str(tmp_path / "juntos"), meta, request, loaded)
        for key in ("output", "weight", "grad_X", "grad_weight"):
            np.testing.assert_array_equal(got[key], want[key])
    assert len(loads) == 1 and len(checked) == 1


def test_a_weight_one_job_sets_is_put_back_before_the_next(tmp_path):
    """Two members reading one variable: a job's trusted weight must not reach the next job,
    whose initial weights the `parameter` check judges."""
    n, k, b = SIZES["in_units"], SIZES["units"], SIZES["batch"]
    initial = np.full((n, n, k), 0.5, np.float32)
    shared = tf.Variable(initial, name="weight")
    root = tf.Module()
    root.members = []
    for _ in range(2):
        function = tf.function(
            lambda X: tf.einsum("bi,bj,ijk->bk", X, X, shared),
            input_signature=[tf.TensorSpec([b, n], tf.float32)],
        )
        member = tf.Module()
        member.params, member.captured = [shared], []
        member.forward = function.get_concrete_function()
        root.members.append(member)
    tf.saved_model.save(root, str(tmp_path), signatures={})
    meta = {**META, "weight": "weight", "weight_index": 0}
    loaded = {}
    setting = reduction_request(np.random.default_rng(30))
    got = ev.evaluate(str(tmp_path), meta, setting, loaded)
    np.testing.assert_array_equal(got["weight"], setting["set_weight"])
    reading = reduction_request(np.random.default_rng(31), set_weight=False, grad=False)
    got = ev.evaluate(str(tmp_path), {**meta, "member": 1}, reading, loaded)
    np.testing.assert_array_equal(got["weight"], initial)
    X = reading["X"]
    np.testing.assert_allclose(got["output"], np.einsum("bi,bj,ijk->bk", X, X, initial), rtol=1e-5)


def test_a_job_that_fails_midway_drops_the_loaded_graph(tmp_path, monkeypatch):
    metas = ex.save_members(_reference_members(2), str(tmp_path))
    loads, loaded = spy_loader(monkeypatch), {}
    wrong = reduction_request(np.random.default_rng(32))
    wrong["X"] = wrong["X"][:, :-1]  # a shape the graph refuses, after the weight was set
    with pytest.raises(Exception):  # noqa: B017  (TensorFlow's own error)
        ev.evaluate(str(tmp_path), metas[0], wrong, loaded)
    assert loaded == {}
    ev.evaluate(str(tmp_path), metas[1], reduction_request(np.random.default_rng(33)), loaded)
    assert len(loads) == 2


def test_a_refused_folder_refuses_every_member_without_loading(tmp_path, monkeypatch):
    secret = tmp_path / "secret.txt"
    secret.write_text("senha", encoding="utf-8")
    folder = save_module(tmp_path / "model", _hostile_bodies(str(secret))["read_file"])
    calls, loaded = forbid_loader(monkeypatch), {}
    checked = count_checks(monkeypatch)
    for _ in range(3):
        with pytest.raises(GraphRefused, match="ReadFile"):
            ev.evaluate(
                str(folder), META, fourier_request(np.random.default_rng(8), [2, 3]), loaded
            )
    assert calls == [] and len(checked) == 1


@pytest.mark.parametrize("member", [1, -1, True, "0", None])
def test_a_member_the_folder_lacks_is_refused(member, tmp_path):
    folder = save_module(tmp_path / "model", lambda x: x * 2)
    with pytest.raises(GraphRefused, match="membro"):
        ev.evaluate(
            str(folder),
            {**META, "member": member},
            fourier_request(np.random.default_rng(9), [2, 3]),
        )


def test_a_forward_with_two_signatures_is_refused(tmp_path):
    module = tf.Module()
    module.params = []
    module.forward = tf.function(lambda x: x * 2)
    module.forward.get_concrete_function(tf.TensorSpec([2, 3], tf.float32))
    module.forward.get_concrete_function(tf.TensorSpec([4, 3], tf.float32))
    root = tf.Module()
    root.members = [module]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tf.saved_model.save(root, str(tmp_path), signatures={})
    with pytest.raises(GraphRefused, match="uma só assinatura"):
        ev.evaluate(str(tmp_path), META, fourier_request(np.random.default_rng(9), [2, 3]))
