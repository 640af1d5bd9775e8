"""Evaluate a TensorFlow SavedModel exported by the student process (never runs its code).

``evaluate(folder, metadata, request)`` follows the contract of ``exportable.py``:

1. it reads every file of ``folder`` once, refusing links, special files, unexpected names
   and oversize files, into memory;
2. it parses ``saved_model.pb`` itself (``saved_model_pb2``) and checks it *before* any
   TensorFlow loader sees it: one meta graph with an object graph (so the TF2 loader, never
   the TF1 one that runs main-graph ops, is used), only plain objects (modules, lists,
   functions, variables, constants), and every op of every function against an allow-list:

   * the functions the saved objects expose (the forward pass), their gradients and every
     function they call (``f`` of ``StatefulPartitionedCall``, branches of ``If``, bodies
     of ``While``, any function-valued attribute) may use only :data:`PURE_OPS`;
   * the main graph and every other function of the library (the saver's ``_traced_save``
     and ``_traced_restore``, which the TF2 loader does not even run) only
     :data:`SAVER_OPS`, the ops TensorFlow 2.17 itself writes there;

3. it writes the checked bytes into a private temporary folder and loads that copy with
   ``tf.saved_model.load`` (nothing can swap a file between the check and the load), sets
   the weight, applies the forward pass to ``request["X"]`` and back-propagates the
   exercise's loss with TensorFlow's own autograd.

The layout it expects is what ``grading/child/export_tensorflow.py`` writes: a root object
whose list ``members`` holds one module per exported layer (a class's layers are saved
together), each with ``forward`` (the traced forward pass), ``params`` (the layer's weights,
in the order of the metadata's ``params``) and ``captured`` (other variables the forward
pass reads); the metadata's ``member`` says which. A folder is checked and loaded once per
submission (``loaded``, the cache ``grading/evaluator/main.py`` keeps for one command), so
the members share one load; a weight a job sets is put back when the job ends, and a job
that fails midway drops the loaded graph, so no job sees another's inputs.

Imports the standard library and NumPy at import time; TensorFlow inside the functions.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
from typing import Any

import numpy as np

try:
    from grading.child.quiet import quiet_tensorflow
    from grading.evaluator.files import UnreadableFile, read_regular
    from grading.evaluator.refusal import GraphRefused
except ImportError:  # copied alone into the sandbox, beside refusal.py and quiet.py
    from files import UnreadableFile, read_regular
    from quiet import quiet_tensorflow
    from refusal import GraphRefused

FORMAT = "tensorflow-saved-model/2"
MEMBERS_ATTRIBUTE = "members"
MAX_MEMBERS = 64
FUNCTION_ATTRIBUTE = "forward"
PARAMS_ATTRIBUTE = "params"

MAX_PB_BYTES = 32 * 2**20  # saved_model.pb: graphs of unrolled loops stay far below this
MAX_FILE_BYTES = 64 * 2**20  # one checkpoint shard
MAX_TOTAL_BYTES = 96 * 2**20
MAX_ENTRIES = 16
MAX_FUNCTIONS = 256
MAX_NODES = 200_000  # all functions together
NAMES_SHOWN = 8

# Files and folders a TF 2.17 SavedModel of a tf.Module holds, and nothing else.
_FILES = re.compile(
    r"(saved_model\.pb|fingerprint\.pb|variables/variables\.index"
    r"|variables/variables\.data-\d{5}-of-\d{5})"
)
_FOLDERS = {"variables", "assets"}

# Pure tensor computations: no I/O, no state beyond reading a variable, no randomness.
# Seeded from every TensorFlow implementation of the catalogue (correct and wrong) and the
# reference solution, then extended by hand with the neighbouring pure math a student may
# reach for (tf.math, tf.linalg basics, tf.signal's FFTs, shape manipulation, comparisons
# for tf.where). Control flow is allowed because its branches and bodies are functions of
# the library, checked against this same list.
PURE_OPS = frozenset(
    {
        # seen in the catalogue and the reference solution
        "AddV2",
        "BatchMatMulV2",
        "Cast",
        "Complex",
        "ComplexAbs",
        "Const",
        "Cos",
        "Einsum",
        "FFT",
        "FFT2D",
        "Identity",
        "MatMul",
        "Mul",
        "Neg",
        "NoOp",
        "Pack",
        "RFFT",
        "Range",
        "ReadVariableOp",
        "Real",
        "RealDiv",
        "Relu",
        "Reshape",
        "Sin",
        "StopGradient",
        "StridedSlice",
        "Sum",
        # element-wise arithmetic
        "Abs",
        "Add",
        "AddN",
        "Ceil",
        "Conj",
        "Div",
        "DivNoNan",
        "Floor",
        "FloorDiv",
        "FloorMod",
        "Imag",
        "Angle",
        "Maximum",
        "Minimum",
        "Mod",
        "MulNoNan",
        "Pow",
        "Reciprocal",
        "Rint",
        "Round",
        "Rsqrt",
        "Sign",
        "Sqrt",
        "Square",
        "SquaredDifference",
        "Sub",
        "TruncateDiv",
        # exponentials, trigonometry, activations
        "Acos",
        "Asin",
        "Atan",
        "Atan2",
        "Cosh",
        "Elu",
        "Erf",
        "Exp",
        "Expm1",
        "LeakyRelu",
        "Log",
        "Log1p",
        "LogSoftmax",
        "Relu6",
        "Selu",
        "Sigmoid",
        "Sinh",
        "Softmax",
        "Softplus",
        "Tan",
        "Tanh",
        "BiasAdd",
        # comparisons and selection (tf.where)
        "Equal",
        "Greater",
        "GreaterEqual",
        "IsFinite",
        "IsInf",
        "IsNan",
        "Less",
        "LessEqual",
        "LogicalAnd",
        "LogicalNot",
        "LogicalOr",
        "NotEqual",
        "Select",
        "SelectV2",
        # products
        "BatchMatMul",
        "BatchMatMulV3",
        # reductions and scans
        "All",
        "Any",
        "ArgMax",
        "ArgMin",
        "Cumprod",
        "Cumsum",
        "EuclideanNorm",
        "Max",
        "Mean",
        "Min",
        "Prod",
        # Fourier transforms (tf.signal)
        "FFT3D",
        "FFTND",
        "IFFT",
        "IFFT2D",
        "IFFT3D",
        "IFFTND",
        "IRFFT",
        "IRFFT2D",
        "IRFFT3D",
        "IRFFTND",
        "RFFT2D",
        "RFFT3D",
        "RFFTND",
        # shapes, indexing, building tensors
        "BroadcastArgs",
        "BroadcastTo",
        "Concat",
        "ConcatV2",
        "ConjugateTranspose",
        "EnsureShape",
        "ExpandDims",
        "Fill",
        "Gather",
        "GatherNd",
        "GatherV2",
        "IdentityN",
        "LinSpace",
        "MirrorPad",
        "OneHot",
        "OnesLike",
        "Pad",
        "PadV2",
        "Rank",
        "ReverseV2",
        "Roll",
        "Shape",
        "ShapeN",
        "Size",
        "Slice",
        "Split",
        "SplitV",
        "Squeeze",
        "Tile",
        "Transpose",
        "Unpack",
        "ZerosLike",
        # calls and control flow: the functions they name are checked against this list
        "If",
        "PartitionedCall",
        "StatefulPartitionedCall",
        "StatelessIf",
        "StatelessWhile",
        "While",
    }
)

# What TF 2.17's tf.saved_model.save writes in the main graph and in the saver functions
# (listed from real saves of every catalogue entry): variable handles, the checkpoint's
# save and restore, the calls to them, and the string ops that build shard file names.
SAVER_OPS = frozenset(
    {
        "AssignVariableOp",
        "Const",
        "DisableCopyOnRead",
        "Identity",
        "MergeV2Checkpoints",
        "NoOp",
        "Pack",
        "PartitionedCall",
        "Placeholder",
        "ReadVariableOp",
        "RestoreV2",
        "SaveV2",
        "Select",
        "ShardedFilename",
        "StatefulPartitionedCall",
        "StaticRegexFullMatch",
        "StringJoin",
        "VarHandleOp",
    }
)

# Saved objects the loader may recreate: plain ones, whose revival runs no registered code.
_OBJECT_KINDS = {"user_object", "function", "bare_concrete_function", "variable", "constant"}
_USER_OBJECTS = {"_generic_user_object", "trackable_list_wrapper", "signature_map"}
# Classes the loader revives by name: only the one TF registers for captured constants.
_REGISTERED = {"constant": "tf.TrackableConstant"}
_COLLECTIONS = {"saved_model_main_op"}


def _refuse(reason: str) -> GraphRefused:
    """The refusal; the grader prefixes it with "grafo recusado pelo corretor"."""
    return GraphRefused(reason)


def _names(names: set[str] | list[str]) -> str:
    shown = sorted(names)[:NAMES_SHOWN]
    text = ", ".join(_printable(name) for name in shown)
    more = len(names) - len(shown)
    return text + (f" e mais {more}" if more > 0 else "")


def _printable(name: str) -> str:
    name = "".join(c if c.isprintable() else "?" for c in str(name))
    return name if len(name) <= 60 else name[:59] + "…"


# --- files ------------------------------------------------------------------------------


def read_folder(folder: str) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path with ``/`` -> bytes), or GraphRefused."""
    try:
        top = os.lstat(folder)
    except OSError as error:
        raise _refuse(f"pasta do grafo ilegível ({type(error).__name__})") from None
    if not stat.S_ISDIR(top.st_mode):
        raise _refuse("o grafo exportado não é uma pasta comum")
    files: dict[str, bytes] = {}
    total = 0
    entries = 0
    pending = [""]
    while pending:
        relative = pending.pop()
        try:
            names = sorted(os.listdir(os.path.join(folder, relative)))
        except OSError as error:
            raise _refuse(f"pasta do grafo ilegível ({type(error).__name__})") from None
        for name in names:
            entries += 1
            if entries > MAX_ENTRIES:
                raise _refuse(f"arquivos demais na pasta do grafo (mais de {MAX_ENTRIES})")
            path = f"{relative}/{name}" if relative else name
            info = os.lstat(os.path.join(folder, path))
            if stat.S_ISLNK(info.st_mode):
                raise _refuse(f"link simbólico na pasta do grafo: {_printable(path)}")
            if stat.S_ISDIR(info.st_mode):
                if path not in _FOLDERS:
                    raise _refuse(f"pasta inesperada no grafo: {_printable(path)}")
                pending.append(path)
                continue
            if not stat.S_ISREG(info.st_mode):
                raise _refuse(f"arquivo especial na pasta do grafo: {_printable(path)}")
            if not _FILES.fullmatch(path):
                raise _refuse(f"arquivo inesperado no grafo: {_printable(path)}")
            limit = MAX_PB_BYTES if path == "saved_model.pb" else MAX_FILE_BYTES
            data = _read_regular(os.path.join(folder, path), limit)
            if data is None:
                raise _refuse(f"arquivo grande demais no grafo: {_printable(path)}")
            total += len(data)
            if total > MAX_TOTAL_BYTES:
                raise _refuse(f"grafo grande demais (mais de {MAX_TOTAL_BYTES // 2**20} MiB)")
            files[path] = data
    if "saved_model.pb" not in files:
        raise _refuse("saved_model.pb não encontrado")
    return files


def _read_regular(path: str, limit: int) -> bytes | None:
    """The file's bytes (opened without following links), None when over ``limit``."""
    try:
        return read_regular(path, limit)
    except UnreadableFile as problem:
        if "grande demais" in str(problem):
            return None
        raise _refuse(f"arquivo ilegível ou especial na pasta do grafo ({problem})") from None


def _write_copy(files: dict[str, bytes]) -> str:
    """The checked bytes in a fresh private folder, which is what TensorFlow loads."""
    root = tempfile.mkdtemp(prefix="eval-tf-")
    os.makedirs(os.path.join(root, "variables"), exist_ok=True)
    os.makedirs(os.path.join(root, "assets"), exist_ok=True)
    for path, data in files.items():
        with open(os.path.join(root, *path.split("/")), "xb") as handle:
            handle.write(data)
    return root


# --- the graph --------------------------------------------------------------------------


def _function_refs(attrs: Any) -> set[str]:
    """Names of the functions an attribute map refers to (``f``, branches, bodies, lists)."""
    refs: set[str] = set()
    for value in attrs.values():
        kind = value.WhichOneof("value")
        if kind == "func":
            refs.add(value.func.name)
            refs |= _function_refs(value.func.attr)
        elif kind == "list":
            for func in value.list.func:
                refs.add(func.name)
                refs |= _function_refs(func.attr)
    return refs


def _node_calls(node: Any, library: set[str]) -> set[str]:
    calls = _function_refs(node.attr)
    if node.op in library:  # a node whose op is a library function calls it directly
        calls.add(node.op)
    return calls


def parse_saved_model(data: bytes) -> Any:
    """The ``SavedModel`` proto of ``data``, or GraphRefused."""
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    try:
        proto.ParseFromString(data)
    except Exception:  # protobuf's DecodeError, or a recursion limit
        raise _refuse("saved_model.pb malformado") from None
    return proto


def check_saved_model(proto: Any) -> dict[str, Any]:
    """Refuse (GraphRefused) any op, object or structure outside the allow-lists.

    Returns what it found: ``{"pure": [function names], "saver": [...], "ops": {op: n}}``.
    """
    if len(proto.meta_graphs) != 1:
        raise _refuse(f"esperado 1 meta-grafo, há {len(proto.meta_graphs)}")
    meta = proto.meta_graphs[0]
    if not meta.HasField("object_graph_def") or not meta.object_graph_def.nodes:
        raise _refuse("sem grafo de objetos (formato do TensorFlow 1, não aceito)")
    if meta.asset_file_def:
        raise _refuse("o grafo traz arquivos auxiliares (assets)")
    unexpected = set(meta.collection_def) - _COLLECTIONS
    if unexpected:
        raise _refuse(f"coleções inesperadas no grafo: {_names(unexpected)}")
    library = meta.graph_def.library
    functions = {f.signature.name: f for f in library.function}
    if len(functions) != len(library.function) or len(functions) > MAX_FUNCTIONS:
        raise _refuse("biblioteca de funções malformada ou grande demais")
    if sum(len(f.node_def) for f in library.function) + len(meta.graph_def.node) > MAX_NODES:
        raise _refuse("grafo grande demais")

    roots = _check_objects(meta.object_graph_def)
    roots |= {g.gradient_func for g in library.gradient}
    roots |= {g.gradient_func for g in library.registered_gradients}
    missing = roots - set(functions)
    if missing:
        raise _refuse(f"funções ausentes da biblioteca: {_names(missing)}")

    pure = _closure(roots, functions)
    names = set(functions)
    refused: dict[str, set[str]] = {}
    counts: dict[str, int] = {}
    missing: set[str] = set()
    graphs = [
        (name, f.node_def, PURE_OPS if name in pure else SAVER_OPS) for name, f in functions.items()
    ]
    graphs.append(("<grafo principal>", meta.graph_def.node, SAVER_OPS))
    for name, nodes, allowed in graphs:
        for node in nodes:
            counts[node.op] = counts.get(node.op, 0) + 1
            if node.op not in allowed and node.op not in names:
                refused.setdefault(node.op, set()).add(name)
            missing |= _node_calls(node, names) - names
    for function in functions.values():
        missing |= _function_refs(function.attr) - names
    if missing:
        raise _refuse(f"funções ausentes da biblioteca: {_names(missing)}")
    declared = {op.name for op in meta.meta_info_def.stripped_op_list.op}
    stray = declared - PURE_OPS - SAVER_OPS - names
    if refused or stray:
        ops = set(refused) | stray
        raise _refuse(
            f"o grafo usa operações não permitidas: {_names(ops)}. A camada só pode usar operações "
            "matemáticas puras do TensorFlow (tf.*): nada de tf.py_function, "
            "tf.numpy_function, leitura ou escrita de arquivos, print ou números aleatórios"
        )
    return {"pure": sorted(pure), "saver": sorted(set(functions) - pure), "ops": counts}


def _check_objects(graph: Any) -> set[str]:
    """Refuse saved objects whose revival could run more than TF's plain loaders.

    Returns the names of the concrete functions the objects expose.
    """
    exposed = set(graph.concrete_functions)
    for index, node in enumerate(graph.nodes):
        kind = node.WhichOneof("kind")
        if kind not in _OBJECT_KINDS:
            raise _refuse(f"objeto do tipo {_printable(kind)} no grafo (nó {index})")
        if kind == "user_object" and node.user_object.identifier not in _USER_OBJECTS:
            identifier = _printable(node.user_object.identifier)
            raise _refuse(f"objeto {identifier} no grafo (nó {index})")
        registered = node.registered_name and node.registered_name != _REGISTERED.get(kind)
        if node.saveable_objects or node.registered_saver or registered:
            raise _refuse(f"objeto com salvamento próprio no grafo (nó {index})")
        if node.slot_variables:
            raise _refuse(f"variáveis de otimizador no grafo (nó {index})")
        if kind == "function":
            exposed |= set(node.function.concrete_functions)
        elif kind == "bare_concrete_function":
            exposed.add(node.bare_concrete_function.concrete_function_name)
        for child in list(node.children) + list(node.dependencies):
            if not 0 <= child.node_id < len(graph.nodes):
                raise _refuse(f"grafo de objetos malformado (nó {index})")
    return exposed


def _closure(roots: set[str], functions: dict[str, Any]) -> set[str]:
    """``roots`` and every function they call, transitively."""
    names = set(functions)
    seen: set[str] = set()
    pending = [name for name in roots if name in functions]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        function = functions[name]
        calls = _function_refs(function.attr)
        for node in function.node_def:
            calls |= _node_calls(node, names)
        pending.extend(call for call in calls if call in functions and call not in seen)
    return seen


# --- evaluation -------------------------------------------------------------------------


def _short_name(name: str) -> str:
    return str(name).split(":")[0].split("/")[-1]


def _check_metadata(metadata: Any) -> tuple[str | None, int | None]:
    """The weight's name and index claimed by the (untrusted) metadata, if well formed."""
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise _refuse("metadados da exportação ausentes ou de outro formato")
    name = metadata.get("weight")
    index = metadata.get("weight_index")
    if not isinstance(name, str) or not name:
        name = None
    if not isinstance(index, int) or isinstance(index, bool):
        index = None
    return name, index


def _pick_weight(params: list[dict[str, Any]], name: str | None, index: int | None):
    """Index of the restored parameter the metadata names, or None when it names none."""
    if name is None:
        return None
    if index is not None and 0 <= index < len(params) and params[index]["name"] == name:
        return index
    return next((i for i, p in enumerate(params) if p["name"] == name), None)


def _to_numpy(tf, value: Any) -> np.ndarray | None:
    if value is None:
        return None
    if isinstance(value, tf.IndexedSlices):
        value = tf.convert_to_tensor(value)
    return np.array(value.numpy(), copy=True)


def _loss(tf, exercise: str, out: Any, grad_output: Any) -> Any:
    """The scalar whose gradients the checks know: ``sum(out * g)`` or ``sum(Re) + sum(Im)``."""
    if exercise == "TensorReduction":
        weights = tf.cast(tf.constant(np.asarray(grad_output)), out.dtype)
        return tf.reduce_sum(out * weights)
    return tf.reduce_sum(tf.math.real(out)) + tf.reduce_sum(tf.math.imag(out))


def _member_index(metadata: dict[str, Any]) -> int:
    index = metadata.get("member")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < MAX_MEMBERS:
        raise _refuse("metadados da exportação sem o índice do membro")
    return index


def load(folder: str) -> Any:
    """Check the SavedModel in ``folder``, then load a private copy; or GraphRefused."""
    files = read_folder(folder)
    check_saved_model(parse_saved_model(files["saved_model.pb"]))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    # Grappler's rewrites cost more than these small graphs take to run, on each first call
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    copy = _write_copy(files)
    try:
        with quiet_tensorflow():
            try:
                return tf.saved_model.load(copy)
            except Exception as error:
                raise _refuse(
                    f"o TensorFlow não carregou o grafo ({type(error).__name__})"
                ) from None
    finally:
        shutil.rmtree(copy, ignore_errors=True)


def _member(root: Any, index: int) -> Any:
    members = getattr(root, MEMBERS_ATTRIBUTE, None)
    try:
        return members[index]
    except (TypeError, IndexError, KeyError):
        raise _refuse(f"o grafo não tem o membro {index} da lista {MEMBERS_ATTRIBUTE}") from None


def evaluate(
    folder: str, metadata: Any, request: dict[str, Any], loaded: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Check, load and apply the exported layer in ``folder`` to the request's input.

    ``loaded`` maps a folder already loaded for this submission to its root (or to its
    refusal), so the members of one folder share one check and one load.
    """
    weight_name, weight_index = _check_metadata(metadata)
    index = _member_index(metadata)
    loaded = {} if loaded is None else loaded
    if folder not in loaded:
        try:
            loaded[folder] = load(folder)
        except GraphRefused as refusal:
            loaded[folder] = refusal
    root = loaded[folder]
    if isinstance(root, GraphRefused):
        raise GraphRefused(str(root))
    member = _member(root, index)
    import tensorflow as tf

    try:
        with quiet_tensorflow():
            return _apply(tf, member, weight_name, weight_index, request)
    except BaseException:
        loaded.pop(folder, None)  # stopped midway: a weight may not have been put back
        raise


def _concrete(tf, forward: Any) -> Any:
    """The one concrete function of the restored ``forward``, called without a retrace."""
    if isinstance(forward, tf.types.experimental.ConcreteFunction):
        return forward
    concrete = list(getattr(forward, "concrete_functions", None) or [])
    if len(concrete) != 1 or not callable(forward):
        raise _refuse(f"o grafo não tem a função {FUNCTION_ATTRIBUTE} com uma só assinatura")
    return concrete[0]


def _apply(tf, loaded, weight_name, weight_index, request) -> dict[str, Any]:
    forward = getattr(loaded, FUNCTION_ATTRIBUTE, None)
    if forward is None or not callable(forward):
        raise _refuse(f"o grafo não tem a função {FUNCTION_ATTRIBUTE}")
    forward = _concrete(tf, forward)
    variables = list(getattr(loaded, PARAMS_ATTRIBUTE, None) or [])
    if not all(isinstance(v, tf.Variable) for v in variables):
        raise _refuse(f"{PARAMS_ATTRIBUTE} do grafo não são variáveis")
    params = [
        {"name": _short_name(v.name), "shape": [int(d) for d in v.shape], "trainable": v.trainable}
        for v in variables
    ]
    picked = _pick_weight(params, weight_name, weight_index)
    weight = None if picked is None else variables[picked]
    response: dict[str, Any] = {
        "output": None,
        "weight": None,
        "grad_X": None,
        "grad_weight": None,
        "params": params,
        "weight_named": any(p["name"].endswith("weight") for p in params),
        "output_is_tensor": True,
    }
    if request.get("set_weight") is not None:
        if weight is None:
            raise LookupError("nenhum parâmetro chamado weight")
        kept = _to_numpy(tf, weight)
        weight.assign(np.asarray(request["set_weight"], dtype=weight.dtype.as_numpy_dtype))
        try:
            return _run(tf, forward, weight, request, response)
        finally:
            weight.assign(kept)  # the members of one load share nothing else the job changed
    return _run(tf, forward, weight, request, response)


def _run(tf, forward, weight, request, response) -> dict[str, Any]:
    """Apply ``forward`` (and its gradients) to the request; fill in ``response``."""
    if weight is not None:
        response["weight"] = _to_numpy(tf, weight)
    X = tf.constant(np.asarray(request["X"]))
    exercise = request.get("exercise", "TensorReduction")
    want_grad = bool(request.get("want_grad"))
    # Only a probe that asks for gradients records them: under a tape, TensorFlow builds the
    # restored function's backward pass on every call (most of an evaluation's time).
    with tf.GradientTape(persistent=False) if want_grad else contextlib.nullcontext() as tape:
        if want_grad:
            tape.watch(X)
        out = forward(X)
        if not isinstance(out, tf.Tensor):
            raise TypeError("o grafo não devolveu um tensor")
        loss = _loss(tf, exercise, out, request.get("grad_output")) if want_grad else None
    response["output"] = _to_numpy(tf, out)
    if want_grad:
        sources = [X] if weight is None else [X, weight]
        grads = tape.gradient(loss, sources)
        response["grad_X"] = _to_numpy(tf, grads[0])
        if weight is not None:
            response["grad_weight"] = _to_numpy(tf, grads[1])
    return response
