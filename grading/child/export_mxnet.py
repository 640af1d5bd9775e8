"""Export a student's MXNet (Gluon) layer as an MXNet graph, in the student process.

``export_layer`` follows the contract of ``exportable.py``: it builds the layer with the
contract's constructor (``TensorReduction(units, in_units)``, ``FourierHalf()``), calls
``initialize()`` and records the forward pass under ``autograd.record()`` on placeholder
inputs it draws itself. ``mx.autograd.get_symbol`` turns the recording into a Symbol whose
free variables are the input, the parameters' data and the constants the forward used
(arrays created outside the recording, e.g. a cached DFT matrix or matrices built with
``np.arange``/``np.cos``, which MXNet does not record because they have no recorded input).

MXNet names those variables ``var<k>``/``null<k>`` from a global counter. The exporter
identifies each one by asking the autograd graph for the name of every array it knows:
the placeholder input, every parameter's data and every array created while the layer was
built and run (kept alive by a temporary hook on the array constructor, removed after),
then, for anything still missing (a module-level constant), the arrays alive in the
process. A constant equal to the weight (the weight read with ``detach()`` under
``autograd.pause``) is marked as a copy of the weight: the evaluator binds the weight it
sets to it, with no gradient, as the in-process layer would have behaved. ``astype`` and
``copy`` record ``_copyto``, whose dtype a symbol cannot infer: it becomes a ``Cast``.
A hybridized block is exported un-hybridized (its ``_CachedOp`` would hide its ops).

The forward pass is recorded twice, on a normal sample and on the same scaled by -1.5
(every sign flipped, every magnitude changed). A graph that changes (a Python ``if`` on
tensor values) or a constant that changes (a round trip through NumPy, ``autograd.pause``
around the input's use, random numbers) cannot be exported; nor can an output with no
autograd history (``numpy.fft`` on ``X.asnumpy()``) or that is not an MXNet array, nor a
forward pass that hands an MXNet array to an official NumPy function (which MXNet refuses
while recording) or builds a complex array (MXNet has none); those two refusals say in
Portuguese what left MXNet and end with MXNet's own message. The graph, written with
stable names (``x``, ``weight``, ``param<i>``, ``const<i>``, ``weight_copy<i>``,
``node<i>``), is replayed in an executor on both placeholders and
must reproduce both recorded outputs: that checks the roles found for the variables.

Files written in ``folder``: ``graph.json`` (the Symbol's JSON), ``weight.npy`` (the
weight's initial value), ``param<i>.npy`` (other parameters the graph uses) and
``const<i>.npy`` (constants), all with ``allow_pickle=False``. The metadata::

    {"format": "mxnet-autograd-symbol/1", "exercise": ..., "mode": "np" | "nd",
     "graph": "graph.json",
     "input": "x", "input_shape": [...], "input_dtype": "float32",
     "output_shape": [...], "output_dtype": "float32",
     "params": [{"name": "weight", "shape": [4, 4, 3], "trainable": true}],
     "weight": "weight" | None,          # the weight parameter's name (prefix stripped)
     "weight_named": bool,               # its name ends with "weight"
     "weight_file": "weight.npy" | None, # its initial value
     "weight_var": "weight" | None,      # its variable in the graph (None: not used there)
     "weight_copies": ["weight_copy0"],  # constants equal to the weight (read detached)
     "other_params": [{"var": "param0", "param": "bias", "file": "param0.npy"}],
     "constants": [{"var": "const0", "file": "const0.npy"}]}

Imports only the standard library and NumPy at module level (MXNet inside functions).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import re
import warnings
from typing import Any

import numpy as np

try:
    from grading.child.exportable import NotExportable, StageError
except ImportError:  # copied alone into the sandbox, beside exportable.py
    from exportable import NotExportable, StageError

FORMAT = "mxnet-autograd-symbol/1"
GRAPH_FILE = "graph.json"
WEIGHT_FILE = "weight.npy"
INPUT_VAR = "x"
WEIGHT_VAR = "weight"
REPLAY_RTOL = 1e-4
REPLAY_ATOL = 1e-5
_AUTO_PREFIX = re.compile(r"^[A-Za-z_]*?\d+_")
_STUDENT_ERRORS = (Exception, SystemExit)  # SoftTimeout and KeyboardInterrupt pass through

CANNOT = "a camada não pôde ser exportada como grafo do MXNet"


def _cannot(reason: str) -> NotExportable:
    """The refusal, as one sentence a student reads on its own."""
    return NotExportable(f"{CANNOT}: {reason}")


NO_GRAPH = (
    "a saída não depende do grafo registrado pelo autograd do MXNet (uma ida e volta pelo "
    "NumPy com asnumpy() ou numpy.fft, ou autograd.pause()/detach() em torno de X). Calcule a "
    "saída só com operações do MXNet sobre X, para que o gradiente chegue à entrada."
)
GRAPH_CHANGES = (
    "o grafo registrado pelo autograd do MXNet muda com os valores de X (um if do Python "
    "sobre valores do tensor?). Use operações do MXNet (np.where, np.maximum...) em vez de "
    "desvios do Python."
)
CONSTANT_CHANGES = (
    "um valor que entra no grafo do MXNet como constante muda com X (uma ida e volta pelo "
    "NumPy com asnumpy(), autograd.pause()/detach() em torno de X, ou números aleatórios). "
    "Calcule-o com operações do MXNet sobre X."
)
NO_INPUT = (
    "a saída não depende nem de X nem dos parâmetros pelo grafo do autograd do MXNet. Calcule "
    "a saída com operações do MXNet sobre X."
)
NOT_REPRODUCED = (
    "o grafo registrado pelo autograd do MXNet não reproduz a saída da camada. Calcule a "
    "saída só com operações do MXNet sobre X e os parâmetros, sem alterar arrays no lugar."
)
LOST_CONSTANT = (
    "o forward usa um array do MXNet cujo valor não foi possível recuperar. Crie as "
    "constantes (por exemplo matrizes de cossenos e senos) com operações do MXNet no forward "
    "ou guarde-as como atributos da camada."
)
NOT_AN_ARRAY = (
    "o forward devolveu {kind}, não um array do MXNet (mxnet.np.ndarray ou mxnet.nd.NDArray): "
    "devolva o resultado das operações do MXNet, sem convertê-lo."
)
NOT_REPLAYED = "o grafo registrado pelo autograd do MXNet não pôde ser executado de novo ({error})."
NUMPY_FALLBACK = (
    "o forward aplica uma função do NumPy oficial (numpy.fft, numpy.dot…) a um array do "
    "MXNet: a conta sairia do MXNet, sem grafo e sem gradiente. Use as operações de mxnet.np "
    "sobre X (np.dot, np.einsum…; para a DFT, matrizes de cossenos e senos). Mensagem do "
    "MXNet: {error}"
)
COMPLEX_ARRAY = (
    "o forward cria um array do MXNet com números complexos, que o MXNet 1.x não tem (uma ida "
    "e volta pelo NumPy, com numpy.fft?). Devolva a parte real e a imaginária num último eixo "
    "de tamanho 2, calculadas com mxnet.np sobre X. Mensagem do MXNet: {error}"
)
DETAIL_LIMIT = 80
# MXNet's hand-over of an official NumPy function to NumPy, which it refuses while recording.
_FALLBACK_FRAMES = frozenset({"__array_function__", "__array_ufunc__"})
OPAQUE = "o forward usa {what}; use só operações de tensores do MXNet."


def is_weight_name(name: str) -> bool:
    """True for ``weight``, ``tensorreduction0_weight`` (prefix stripped first or not)."""
    return name.split(":")[0].endswith("weight")


def _uses_np(cls: type) -> bool:
    """True for a class under ``npx.set_np()`` or decorated with ``@use_np``."""
    from mxnet import util

    if util.is_np_array():
        return True
    for name in ("forward", "__init__", "hybrid_forward"):
        code = getattr(getattr(cls, name, None), "__code__", None)
        if code is not None and code.co_name.startswith("_with_np"):
            return True
    return False


@contextlib.contextmanager
def _mode(np_mode: bool):
    """MXNet's NumPy semantics for the export when the layer uses them; restored after."""
    from mxnet import util

    if not np_mode:
        yield
        return
    with util.np_shape(True), util.np_array(True):  # array semantics are dropped first
        yield


@contextlib.contextmanager
def _collecting(created: list):
    """Keep every MXNet array constructed meanwhile alive in ``created``.

    A constant the forward pass builds (``np.cos(angle)``) is a temporary whose Python
    object is gone once the forward returns; its value is needed to export the graph.
    """
    from mxnet.ndarray.ndarray import NDArray

    owner = next((klass for klass in NDArray.__mro__ if "__init__" in vars(klass)), None)
    original = vars(owner)["__init__"] if owner is not None else None

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        created.append(self)

    try:
        owner.__init__ = init
    except (AttributeError, TypeError):  # a compiled base class: fall back to live arrays
        yield
        return
    try:
        yield
    finally:
        owner.__init__ = original


def _student(stage: str, step):
    """Run a step of the student's code; its exceptions become :class:`StageError`."""
    try:
        return step()
    except _STUDENT_ERRORS as error:
        raise StageError(stage, error) from None


def _construct(layer_class: type, exercise: str, sizes: dict[str, int]):
    if exercise == "TensorReduction":
        layer = _student("construct", lambda: layer_class(sizes["units"], sizes["in_units"]))
    else:
        layer = _student("construct", layer_class)

    def initialize():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layer.initialize()

    _student("construct", initialize)
    if callable(getattr(layer, "hybridize", None)):
        # A hybridized block records one opaque _CachedOp: export its imperative ops.
        _student("construct", lambda: layer.hybridize(False))
    return layer


def _parameters(layer) -> list[tuple[str, Any, tuple[int, ...], bool]]:
    """``(name without the automatic prefix, Parameter, shape, trainable)`` for each one."""

    def collect():
        found = []
        for name, parameter in layer.collect_params().items():
            found.append(
                (
                    _AUTO_PREFIX.sub("", str(name)),
                    parameter,
                    tuple(int(d) for d in parameter.shape),
                    parameter.grad_req != "null",
                )
            )
        return found

    return _student("parameters", collect)


def _find_weight(params: list) -> tuple[int | None, bool]:
    """Index of the parameter named ``weight`` (or of the only one) and whether it is named."""
    for index, (name, *_) in enumerate(params):
        if is_weight_name(name):
            return index, True
    if len(params) == 1:
        return 0, False
    return None, False


def _variable_name(array) -> str | None:
    """The autograd graph's name for ``array`` when it is a free variable of a recording."""
    from mxnet import autograd
    from mxnet.base import MXNetError

    try:
        symbol = autograd.get_symbol(array)
    except (MXNetError, AssertionError, TypeError):
        return None
    if symbol.get_children() is not None:
        return None  # an op's output, not a variable
    return symbol.name


class _Recording:
    """One recorded forward pass: the placeholder, the output and the graph's variables."""

    def __init__(self, X: np.ndarray, output, symbol, graph: dict):
        self.X = X
        self.output = output
        self.output_value = output.asnumpy()
        self.symbol = symbol
        self.graph = graph
        self.free = [node["name"] for node in graph["nodes"] if node["op"] == "null"]
        self.roles: dict[str, tuple] = {}  # MXNet name -> ("input",) / ("param", i) / ...


def _placeholders(shape: tuple[int, ...], dtype: str) -> list[np.ndarray]:
    """Two inputs the exporter draws: a normal sample, then the same scaled by -1.5.

    The second flips every sign and changes every magnitude, so a Python ``if`` on the
    sign or the size of the values (``if X.sum() > 0``) takes another branch, and a
    value computed from X outside the graph changes.
    """
    first = np.random.default_rng().standard_normal(shape).astype(dtype)
    return [first, (first * -1.5).astype(dtype)]


def _record(layer, lib, X: np.ndarray) -> _Recording:
    from mxnet import autograd
    from mxnet.ndarray.ndarray import NDArray

    dtype = X.dtype
    x = lib.array(X, dtype=dtype)
    x.attach_grad()

    def forward():
        with autograd.record(train_mode=False):
            output = layer(x)
        if isinstance(output, NDArray):
            output.wait_to_read()  # MXNet runs asynchronously: its errors surface here
        return output

    try:
        output = _student("forward", forward)
    except StageError as error:
        reason = _left_mxnet(error.error)
        if reason is None:
            raise
        raise _cannot(reason.format(error=_detail(error.error))) from None
    if not isinstance(output, NDArray):
        raise _cannot(NOT_AN_ARRAY.format(kind=type(output).__name__))
    from mxnet.base import MXNetError

    try:
        symbol = autograd.get_symbol(output)
    except MXNetError:
        raise _cannot(NO_GRAPH) from None
    graph = json.loads(symbol.tojson())
    recording = _Recording(X, output, symbol, graph)
    input_name = _variable_name(x)
    if input_name is not None:
        recording.roles[input_name] = ("input",)
    return recording


def _assign_roles(recording: _Recording, params: list, created: list, weight: int | None):
    """Name every free variable of the graph: input, parameter or constant (with its value)."""
    wanted = set(recording.free) - set(recording.roles)
    for index, (_, parameter, _, _) in enumerate(params):
        try:
            data = parameter.data()
        except _STUDENT_ERRORS:
            continue
        name = _variable_name(data)
        if name in wanted:
            recording.roles[name] = ("param", index)
            wanted.discard(name)
    values = {}
    _find_values(wanted, created, values)
    if wanted - set(values):
        _find_values(wanted - set(values), _live_arrays(), values)
    missing = sorted(wanted - set(values))
    if missing:
        raise _cannot(LOST_CONSTANT)
    weight_value = None
    if weight is not None:
        weight_value = _student("parameters", lambda: params[weight][1].data().asnumpy())
    for name in recording.free:
        if name in values:
            value = values[name]
            if (
                weight_value is not None
                and value.shape == weight_value.shape
                and value.dtype == weight_value.dtype
                and np.array_equal(value, weight_value)
            ):
                recording.roles[name] = ("weight_copy",)
            else:
                recording.roles[name] = ("constant", value)


def _find_values(wanted: set, arrays, values: dict) -> None:
    """The values of the ``wanted`` graph variables found among ``arrays``, into ``values``."""
    remaining = set(wanted) - set(values)
    for array in arrays:
        if not remaining:
            return
        name = _variable_name(array)
        if name in remaining:
            values[name] = array.asnumpy()
            remaining.discard(name)


def _live_arrays() -> list:
    """Every MXNet array alive in the process (module-level constants, for instance)."""
    from mxnet.ndarray.ndarray import NDArray

    return [obj for obj in gc.get_objects() if isinstance(obj, NDArray)]


def _canonical(recording: _Recording, params: list, weight: int | None):
    """Stable variable names, the graph with them, and the structure to compare recordings."""
    names: dict[str, str] = {}
    counts = {"param": 0, "constant": 0, "weight_copy": 0}
    for name in recording.free:
        role = recording.roles[name]
        if role[0] == "input":
            names[name] = INPUT_VAR
        elif role[0] == "param" and role[1] == weight:
            names[name] = WEIGHT_VAR
        elif role[0] == "param":
            names[name] = f"param{counts['param']}"
            counts["param"] += 1
        elif role[0] == "constant":
            names[name] = f"const{counts['constant']}"
            counts["constant"] += 1
        else:
            names[name] = f"weight_copy{counts['weight_copy']}"
            counts["weight_copy"] += 1
    graph = json.loads(json.dumps(recording.graph))
    for node in graph["nodes"]:
        if node["op"] == "null":
            node["name"] = names[node["name"]]
    structure = json.dumps(
        {
            "nodes": [
                [n["op"], n["name"] if n["op"] == "null" else "", n.get("attrs"), n["inputs"]]
                for n in graph["nodes"]
            ],
            "heads": graph["heads"],
        },
        sort_keys=True,
    )
    renamed_roles = {names[name]: recording.roles[name] for name in recording.free}
    return graph, structure, renamed_roles


def _compare(first, other) -> None:
    """Refuse when two recordings differ in structure or in a constant's value."""
    _, structure, roles = first
    _, other_structure, other_roles = other
    if structure != other_structure:
        raise _cannot(GRAPH_CHANGES)
    for name, role in roles.items():
        other_role = other_roles[name]
        if role[0] != other_role[0] or (role[0] == "param" and role[1] != other_role[1]):
            raise _cannot(GRAPH_CHANGES)
        if role[0] == "constant":
            value, other_value = role[1], other_role[1]
            if value.shape != other_value.shape or not np.array_equal(
                value, other_value, equal_nan=value.dtype.kind == "f"
            ):
                raise _cannot(CONSTANT_CHANGES)


def export_layer(
    layer_class: type, exercise: str, spec: dict[str, Any], folder: str
) -> dict[str, Any]:
    """Build, record and write the layer's graph into ``folder``; return its metadata."""
    import mxnet as mx

    shape = tuple(int(d) for d in spec["shape"])
    dtype = str(spec.get("dtype") or "float32")
    np_mode = _uses_np(layer_class)
    created: list = []
    with _mode(np_mode):
        with _collecting(created):
            lib = mx.np if np_mode else mx.nd
            layer = _construct(layer_class, exercise, spec.get("sizes") or {})
            recordings = [_record(layer, lib, X) for X in _placeholders(shape, dtype)]
        params = _parameters(layer)  # after a forward: deferred shapes are known
        weight, weight_named = _find_weight(params)
        for recording in recordings:
            _assign_roles(recording, params, created, weight)
        canonical = [_canonical(recording, params, weight) for recording in recordings]
        for other in canonical[1:]:
            _compare(canonical[0], other)
        graph, _, roles = canonical[0]
        _rewrite_copies(graph, created)
        created.clear()
        if not any(role[0] in ("input", "param") for role in roles.values()):
            raise _cannot(NO_INPUT)
        _refuse_opaque(graph)
        _check_replay(graph, roles, params, weight, recordings)
        return _write(
            folder, exercise, np_mode, graph, roles, params, weight, weight_named, recordings[0]
        )


def _rewrite_copies(graph: dict, created: list) -> None:
    """``astype``/``copy`` record ``_copyto``, whose output dtype a symbol cannot infer.

    Each becomes a ``Cast`` to the dtype of the array the recording produced.
    """
    wanted = {node["name"] for node in graph["nodes"] if node["op"] == "_copyto"}
    if not wanted:
        return
    from mxnet import autograd
    from mxnet.base import MXNetError

    dtypes = {}
    for array in created:
        try:
            name = autograd.get_symbol(array).name
        except (MXNetError, AssertionError, TypeError):
            continue
        if name in wanted:
            dtypes[name] = np.dtype(array.dtype).name
    for node in graph["nodes"]:
        if node["op"] == "_copyto" and node["name"] in dtypes:
            node["op"] = "Cast"
            node["attrs"] = {"dtype": dtypes[node["name"]]}


def _check_replay(graph, roles, params, weight, recordings) -> None:
    """The exported graph, run in an executor, must give the outputs the layer gave."""
    import mxnet as mx

    try:
        executor = _executor(graph, roles, params, weight, recordings[0].X)
        for recording in recordings:
            if INPUT_VAR in executor.arg_dict:
                executor.arg_dict[INPUT_VAR][:] = recording.X
            replayed = executor.forward(is_train=False)[0].asnumpy()
            expected = recording.output_value
            atol = REPLAY_ATOL * max(1.0, float(np.max(np.abs(expected), initial=0.0)))
            if replayed.shape != expected.shape or not np.allclose(
                replayed, expected, rtol=REPLAY_RTOL, atol=atol, equal_nan=True
            ):
                raise _cannot(NOT_REPRODUCED)
    except mx.base.MXNetError as error:
        raise _cannot(NOT_REPLAYED.format(error=_short(error))) from None


def _executor(graph: dict, roles: dict, params: list, weight: int | None, X: np.ndarray):
    """The graph bound to ``X``, the parameters and the constants, as the evaluator binds it."""
    import mxnet as mx

    symbol = mx.sym.load_json(json.dumps(graph))
    args = {}
    for name in symbol.list_arguments():
        role = roles[name]
        if role[0] == "input":
            value = X
        elif role[0] == "param":
            value = params[role[1]][1].data().asnumpy()
        elif role[0] == "weight_copy":
            value = params[weight][1].data().asnumpy()
        else:
            value = role[1]
        args[name] = mx.nd.array(value, dtype=value.dtype)
    with _quiet_executor():
        return symbol.bind(mx.cpu(), args, grad_req="null")


@contextlib.contextmanager
def _quiet_executor():
    """No "Subgraph backend MKLDNN is activated" line on stderr for each bind."""
    previous = os.environ.get("MXNET_SUBGRAPH_VERBOSE")
    os.environ["MXNET_SUBGRAPH_VERBOSE"] = "0"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("MXNET_SUBGRAPH_VERBOSE", None)
        else:
            os.environ["MXNET_SUBGRAPH_VERBOSE"] = previous


_OPAQUE = {
    "_CachedOp": "um bloco hibridizado (não chame hybridize())",
    "Custom": "um operador Python personalizado (mx.operator.CustomOp)",
    "_CustomFunction": "uma função Python personalizada (autograd.Function)",
    "_foreach": "um laço simbólico (contrib.foreach)",
    "_while_loop": "um laço simbólico (contrib.while_loop)",
    "_cond": "um desvio simbólico (contrib.cond)",
}


def _refuse_opaque(graph: dict) -> None:
    """Ops that hide Python code or a nested graph: the evaluator would refuse them."""
    found = sorted({n["op"] for n in graph["nodes"] if n["op"] in _OPAQUE or "subgraphs" in n})
    if found:
        what = "; ".join(_OPAQUE.get(op, op) for op in found)
        raise _cannot(OPAQUE.format(what=what))


def _numpy_fallback(error: BaseException) -> bool:
    """True when ``error`` rose in MXNet's fallback from an official NumPy function."""
    trace = error.__traceback__
    while trace is not None:
        code = trace.tb_frame.f_code
        path = code.co_filename.replace("\\", "/")
        if code.co_name in _FALLBACK_FRAMES and path.endswith("mxnet/numpy/multiarray.py"):
            return True
        trace = trace.tb_next
    return False


def _left_mxnet(error: BaseException) -> str | None:
    """The reason (a template for ``{error}``) when the forward pass left MXNet, else None.

    An official NumPy function applied to an MXNet array (refused while recording, or
    with no implementation for the mix of arrays), or a complex array handed to MXNet.
    """
    text = str(error)
    if _numpy_fallback(error) or (
        isinstance(error, TypeError) and "__array_function__" in text and "mxnet" in text
    ):
        return NUMPY_FALLBACK
    if isinstance(error, KeyError | TypeError | ValueError) and "complex" in text:
        return COMPLEX_ARRAY
    return None


def _detail(error: BaseException) -> str:
    """MXNet's own words, cut to ``DETAIL_LIMIT`` characters, to follow a refusal."""
    text = " ".join(_short(error).split())
    return text if len(text) <= DETAIL_LIMIT else text[: DETAIL_LIMIT - 1] + "…"


def _short(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[-1] if lines else type(error).__name__
    return text[:200]


def _write(folder, exercise, np_mode, graph, roles, params, weight, weight_named, recording):
    def save(name: str, value: np.ndarray) -> str:
        with open(os.path.join(folder, name), "xb") as handle:
            np.save(handle, np.ascontiguousarray(value), allow_pickle=False)
        return name

    for index, node in enumerate(graph["nodes"]):
        if node["op"] != "null":
            node["name"] = f"node{index}"  # MXNet numbers them from a global counter
    with open(os.path.join(folder, GRAPH_FILE), "x", encoding="utf-8") as handle:
        handle.write(json.dumps(graph))
    weight_file = None
    if weight is not None:
        weight_file = save(WEIGHT_FILE, params[weight][1].data().asnumpy())
    other_params, constants, copies = [], [], []
    weight_var = None
    for name, role in roles.items():
        if role[0] == "param" and role[1] == weight:
            weight_var = name
        elif role[0] == "param":
            value = params[role[1]][1].data().asnumpy()
            other_params.append(
                {"var": name, "param": params[role[1]][0], "file": save(f"{name}.npy", value)}
            )
        elif role[0] == "constant":
            constants.append({"var": name, "file": save(f"{name}.npy", role[1])})
        elif role[0] == "weight_copy":
            copies.append(name)
    output = recording.output_value
    return {
        "format": FORMAT,
        "exercise": exercise,
        "mode": "np" if np_mode else "nd",
        "graph": GRAPH_FILE,
        "input": INPUT_VAR,
        "input_shape": [int(d) for d in recording.X.shape],
        "input_dtype": recording.X.dtype.name,
        "output_shape": [int(d) for d in output.shape],
        "output_dtype": str(output.dtype),
        "params": [
            {"name": name, "shape": list(p_shape), "trainable": bool(trainable)}
            for name, _, p_shape, trainable in params
        ],
        "weight": None if weight is None else params[weight][0],
        "weight_named": bool(weight_named),
        "weight_file": weight_file,
        "weight_var": weight_var,
        "weight_copies": copies,
        "other_params": other_params,
        "constants": constants,
    }
