"""Evaluate an exported MXNet graph on trusted inputs; never imports or runs student code.

The student process (``grading/child/export_mxnet.py``) wrote ``graph.json`` (an MXNet
Symbol recorded by autograd), ``.npy`` files (the weight's initial value, other parameters,
constants) and metadata. All of it is untrusted data. :func:`evaluate`:

1. validates the metadata (names, file names, shapes, roles) and reads every file itself:
   regular files only (no symlinks, FIFOs or devices), opened without following links,
   size-capped; ``.npy`` headers are checked (version, header size, dtype, shape, byte
   count) before NumPy loads the array, always with ``allow_pickle=False``;
2. parses ``graph.json`` with ``json.loads`` after a nesting-depth scan (no recursion
   bomb), refusing duplicate keys and NaN/Infinity, checks its structure (topological
   inputs, one head, known keys only) and every node's ``op`` against :data:`ALLOWED_OPS`,
   pure tensor operators reviewed by hand; a ``null`` node (a free variable) must be the
   declared input, weight, copy of the weight, other parameter or constant. Anything else
   (``Custom`` Python operators, ``_CachedOp``, control flow, random sampling, unknown
   ops) raises :class:`GraphRefused` naming the refused ops, *before* any MXNet loader
   sees the text;
3. only then hands MXNet the re-serialised, validated JSON (``mx.sym.load_json``), binds
   ``X = request["X"]``, the weight (``request["set_weight"]`` or the exported initial
   value) and the constants in an executor, runs the forward pass and, when
   ``request["want_grad"]``, the backward pass with the head gradient of the exercise's
   loss: ``sum(out * grad_output)`` for TensorReduction (head = ``grad_output``),
   ``out.sum()`` for FourierHalf (head = ones).

The response::

    {"output": ndarray, "weight": ndarray | None, "grad_X": ndarray | None,
     "grad_weight": ndarray | None, "params": [{"name", "shape", "trainable"}],
     "weight_named": bool, "output_is_tensor": True}

``grad_weight`` is None when there is no weight, when it is not trainable or when the graph
does not use it (a detached weight). As the other evaluators do, a failure of the graph on
the request raises an ordinary exception that ``apply.py`` turns into an error entry:
``LookupError`` when a weight is sent to a layer without one, ``ValueError`` for a weight or
an output whose shape does not fit, ``MXNetError`` when MXNet itself fails (shapes that
do not match inside the graph). Messages are in Portuguese, for the student.

Imports only the standard library and NumPy at module level (MXNet inside functions).
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import stat
from typing import Any

import numpy as np

try:
    from grading.evaluator.files import UnreadableFile, read_regular
    from grading.evaluator.refusal import GraphRefused
except ImportError:  # copied alone into a sandbox, beside refusal.py
    from files import UnreadableFile, read_regular
    from refusal import GraphRefused

FORMAT = "mxnet-autograd-symbol/1"
GRAPH_LIMIT = 8 * 1024 * 1024  # bytes of graph.json
ARRAY_FILE_LIMIT = 64 * 1024 * 1024  # bytes of one .npy file
TOTAL_LIMIT = 256 * 1024 * 1024  # bytes of all files together
MAX_ELEMENTS = 16 * 1024 * 1024  # elements of one array
MAX_NODES = 100_000
MAX_INPUTS = 1_000  # inputs of one node (a stack of many slices)
MAX_DEPTH = 8  # JSON nesting: graph -> nodes -> node -> inputs -> entry is 5
MAX_VARIABLES = 1_000
MAX_PARAMS = 64
MAX_NDIM = 8
MAX_DIM = 1 << 24
NPY_HEADER_LIMIT = 4096
# The graph's MXNet version: 1.9.x, the version the checks below assume, which spares the
# graph MXNet's upgrade passes for legacy JSON formats.
MXNET_VERSIONS = (10900, 11000)
_VAR_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
_GRAPH_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}\.json")
_ARRAY_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}\.npy")
_NODE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:\-]{0,127}")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_ATTR_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_ATTR_VALUE = re.compile(r"[\x20-\x7e]{0,4096}")
ARRAY_DTYPES = frozenset(
    {"<f2", "<f4", "<f8", "|b1", "|i1", "|u1", "<i4", "<i8"}
)  # little-endian, no objects, no structures
GRAPH_ATTRS = frozenset({"is_np_shape", "mxnet_version"})
NODE_KEYS = frozenset({"op", "name", "inputs", "attrs"})
META_KEYS = frozenset(
    {
        "format",
        "exercise",
        "mode",
        "graph",
        "input",
        "input_shape",
        "input_dtype",
        "output_shape",
        "output_dtype",
        "params",
        "weight",
        "weight_named",
        "weight_file",
        "weight_var",
        "weight_copies",
        "other_params",
        "constants",
    }
)

# Pure, deterministic tensor operators, reviewed by hand: arithmetic, elementwise math,
# linear algebra, reductions, shape and indexing. Collected from every MXNet
# implementation of the catalogue (correct and wrong) and the reference, under
# ``npx.set_np()`` (``_np*``/``_npi*``/``_npx*`` and the legacy ops they record) and under
# the legacy ``nd`` API, plus their plain neighbours. Nothing that runs Python (``Custom``,
# ``_CustomFunction``), nests graphs (``_CachedOp``, ``_foreach``, ``_while_loop``,
# ``_cond``), samples random numbers (``Dropout``, ``_random_*``, ``_npi_*normal``...),
# keeps state (``BatchNorm``'s auxiliary states) or touches files or the network. Every op
# here round-trips (values and gradients) in tests/grading/test_graph_mxnet.py; ``hstack``
# and ``dstack`` are left out because their symbolic backward fails in MXNet 1.9.1.
ALLOWED_OPS: frozenset[str] = frozenset(
    {
        # --- NumPy mode: arithmetic ---
        "_npi_add",
        "_npi_subtract",
        "_npi_multiply",
        "_npi_true_divide",
        "_npi_mod",
        "_npi_power",
        "_npi_negative",
        "_npi_add_scalar",
        "_npi_subtract_scalar",
        "_npi_rsubtract_scalar",
        "_npi_multiply_scalar",
        "_npi_true_divide_scalar",
        "_npi_rtrue_divide_scalar",
        "_npi_mod_scalar",
        "_npi_rmod_scalar",
        "_npi_power_scalar",
        "_npi_rpower_scalar",
        "_npi_hypot",
        "_npi_arctan2",
        "_npi_copysign",
        # --- NumPy mode: elementwise math ---
        "_npi_absolute",
        "_npi_sign",
        "_npi_square",
        "_npi_sqrt",
        "_npi_cbrt",
        "_npi_reciprocal",
        "_npi_exp",
        "_npi_expm1",
        "_npi_log",
        "_npi_log1p",
        "_npi_sin",
        "_npi_cos",
        "_npi_tan",
        "_npi_arcsin",
        "_npi_arccos",
        "_npi_arctan",
        "_npi_sinh",
        "_npi_cosh",
        "_npi_tanh",
        "_npi_degrees",
        "_npi_radians",
        "_npi_floor",
        "_npi_ceil",
        "_npi_rint",
        "_npi_trunc",
        "_npi_fix",
        # --- NumPy mode: comparisons and selection ---
        "_npi_equal",
        "_npi_not_equal",
        "_npi_greater",
        "_npi_greater_equal",
        "_npi_less",
        "_npi_less_equal",
        "_npi_equal_scalar",
        "_npi_not_equal_scalar",
        "_npi_greater_scalar",
        "_npi_greater_equal_scalar",
        "_npi_less_scalar",
        "_npi_less_equal_scalar",
        "_npi_where",
        "_npi_where_lscalar",
        "_npi_where_rscalar",
        # --- NumPy mode: linear algebra ---
        "_np_dot",
        "_npi_matmul",
        "_npi_einsum",
        "_npi_tensordot",
        "_npi_tensordot_int_axes",
        # --- NumPy mode: reductions ---
        "_np_sum",
        "_np_prod",
        "_np_max",
        "_np_min",
        "_npi_mean",
        "_npi_std",
        "_npi_var",
        "_npi_average",
        "_npi_norm",
        "_np_cumsum",
        # --- NumPy mode: shape, joining, indexing ---
        "_np_reshape",
        "_npx_reshape",
        "_np_transpose",
        "_np_moveaxis",
        "_np_squeeze",
        "_np_copy",
        "_np_diag",
        "_np_roll",
        "_np_atleast_1d",
        "_np_atleast_2d",
        "_np_atleast_3d",
        "_npi_stack",
        "_npi_concatenate",
        "_npi_vstack",
        "_npi_broadcast_to",
        "_npi_flip",
        "_npi_rot90",
        "_npi_tril",
        "_npi_pad",
        "_npi_full_like",
        "_split_v2",
        # --- NumPy extension (npx) ---
        "_npx_relu",
        "_npx_sigmoid",
        # --- legacy operators (nd, and recorded by the NumPy front end too) ---
        "Reshape",
        "reshape_like",
        "Flatten",
        "transpose",
        "SwapAxis",
        "expand_dims",
        "squeeze",
        "stack",
        "Concat",
        "SliceChannel",
        "slice",
        "slice_axis",
        "slice_like",
        "take",
        "pick",
        "gather_nd",
        "reverse",
        "tile",
        "repeat",
        "diag",
        "broadcast_to",
        "broadcast_axis",
        "broadcast_like",
        "zeros_like",
        "ones_like",
        "Cast",
        "_copy",
        "BlockGrad",
        "where",
        "clip",
        "dot",
        "batch_dot",
        "_linalg_gemm2",
        "FullyConnected",
        "sum",
        "mean",
        "prod",
        "max",
        "min",
        "norm",
        "add_n",
        "elemwise_add",
        "elemwise_sub",
        "elemwise_mul",
        "elemwise_div",
        "broadcast_add",
        "broadcast_sub",
        "broadcast_mul",
        "broadcast_div",
        "broadcast_mod",
        "broadcast_power",
        "broadcast_maximum",
        "broadcast_minimum",
        "broadcast_hypot",
        "broadcast_equal",
        "broadcast_not_equal",
        "broadcast_greater",
        "broadcast_greater_equal",
        "broadcast_lesser",
        "broadcast_lesser_equal",
        "_plus_scalar",
        "_minus_scalar",
        "_rminus_scalar",
        "_mul_scalar",
        "_div_scalar",
        "_rdiv_scalar",
        "_mod_scalar",
        "_rmod_scalar",
        "_power_scalar",
        "_rpower_scalar",
        "_maximum_scalar",
        "_minimum_scalar",
        "_equal_scalar",
        "_not_equal_scalar",
        "_greater_scalar",
        "_greater_equal_scalar",
        "_lesser_scalar",
        "_lesser_equal_scalar",
        "negative",
        "reciprocal",
        "abs",
        "sign",
        "square",
        "sqrt",
        "rsqrt",
        "cbrt",
        "exp",
        "expm1",
        "log",
        "log1p",
        "sin",
        "cos",
        "tan",
        "arcsin",
        "arccos",
        "arctan",
        "sinh",
        "cosh",
        "tanh",
        "floor",
        "ceil",
        "round",
        "rint",
        "fix",
        "trunc",
        "erf",
        "relu",
        "sigmoid",
        "softmax",
        "log_softmax",
    }
)
# Named in the refusal message with the reason, besides "not allowed".
_WHY = {
    "Custom": "operador Python personalizado (mx.operator.CustomOp)",
    "_CustomFunction": "função Python personalizada (autograd.Function)",
    "_CachedOp": "bloco hibridizado",
}


def _refuse(message: str) -> GraphRefused:
    """A refusal; the grader prefixes "grafo recusado pelo corretor: " to the message."""
    return GraphRefused(message)


# --- files ---------------------------------------------------------------------------------


class _Folder:
    """The export folder, opened once without following links; reads capped regular files."""

    def __init__(self, folder: str):
        try:
            info = os.lstat(folder)
        except OSError as error:
            raise _refuse(f"pasta da exportação inacessível ({error.strerror})") from None
        if not stat.S_ISDIR(info.st_mode):
            raise _refuse("a pasta da exportação não é uma pasta comum")
        self.folder = folder
        self.total = 0

    def read(self, name: str, limit: int) -> bytes:
        if not isinstance(name, str) or not (
            _GRAPH_NAME.fullmatch(name) or _ARRAY_NAME.fullmatch(name)
        ):
            raise _refuse(f"nome de arquivo inválido: {_show(name)}")
        try:
            directory = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError as error:
            raise _refuse(f"pasta da exportação inacessível ({error.strerror})") from None
        try:
            data = read_regular(name, limit, dir_fd=directory)
        except UnreadableFile as problem:
            raise _refuse(str(problem)) from None
        finally:
            os.close(directory)
        size = len(data)
        self.total += size
        if self.total > TOTAL_LIMIT:
            raise _refuse("os arquivos da exportação são grandes demais")
        return data


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def load_npy(data: bytes, name: str) -> np.ndarray:
    """An array from ``.npy`` bytes, its header checked before NumPy reads the data."""
    from numpy.lib import format as npy

    buffer = io.BytesIO(data)
    try:
        version = npy.read_magic(buffer)
    except ValueError:
        raise _refuse(f"{name} não é um arquivo .npy") from None
    if version not in ((1, 0), (2, 0)):
        raise _refuse(f"{name}: versão .npy {version} não aceita")
    width = 2 if version == (1, 0) else 4
    header_size = int.from_bytes(data[8 : 8 + width], "little")
    if header_size > NPY_HEADER_LIMIT:
        raise _refuse(f"{name}: cabeçalho .npy grande demais")
    try:
        if version == (1, 0):
            shape, fortran, dtype = npy.read_array_header_1_0(buffer)
        else:
            shape, fortran, dtype = npy.read_array_header_2_0(buffer)
    except (ValueError, SyntaxError, TypeError):
        raise _refuse(f"{name}: cabeçalho .npy inválido") from None
    if dtype.str not in ARRAY_DTYPES or dtype.fields is not None or dtype.subdtype is not None:
        raise _refuse(f"{name}: tipo {dtype.str} não aceito")
    if fortran:
        raise _refuse(f"{name}: ordem Fortran não aceita")
    _check_shape(shape, name)
    count = math.prod(shape)
    if count > MAX_ELEMENTS:
        raise _refuse(f"{name}: array grande demais")
    if len(data) - buffer.tell() != count * dtype.itemsize:
        raise _refuse(f"{name}: tamanho dos dados não confere com o cabeçalho")
    array = np.load(io.BytesIO(data), allow_pickle=False)
    if array.shape != tuple(shape) or array.dtype != dtype:
        raise _refuse(f"{name}: conteúdo não confere com o cabeçalho")
    return np.ascontiguousarray(array)


def _check_shape(shape: Any, what: str) -> tuple[int, ...]:
    if not isinstance(shape, list | tuple) or len(shape) > MAX_NDIM:
        raise _refuse(f"{what}: forma inválida")
    for dim in shape:
        if type(dim) is not int or not 0 <= dim <= MAX_DIM:
            raise _refuse(f"{what}: forma inválida")
    return tuple(shape)


# --- metadata ------------------------------------------------------------------------------


def is_weight_name(name: str) -> bool:
    """True for ``weight``, ``layer.weight``, ``tensorreduction0_weight``, ``x/weight:0``."""
    return name.split(":")[0].endswith("weight")


def _var(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _VAR_NAME.fullmatch(value):
        raise _refuse(f"{what}: nome de variável inválido ({_show(value)})")
    return value


def validate_metadata(metadata: Any) -> dict[str, Any]:
    """The metadata's fields, checked; refuses anything malformed or inconsistent."""
    if not isinstance(metadata, dict):
        raise _refuse("metadados ausentes ou inválidos")
    unknown = set(metadata) - META_KEYS
    if unknown:
        raise _refuse(f"campos desconhecidos nos metadados: {_show(sorted(map(str, unknown)))}")
    if metadata.get("format") != FORMAT:
        raise _refuse(f"formato de exportação desconhecido: {_show(metadata.get('format'))}")
    mode = metadata.get("mode")
    if mode not in ("np", "nd"):
        raise _refuse(f"modo desconhecido: {_show(mode)}")
    graph = metadata.get("graph")
    if not isinstance(graph, str) or not _GRAPH_NAME.fullmatch(graph):
        raise _refuse(f"arquivo do grafo inválido: {_show(graph)}")
    exercise = metadata.get("exercise")
    if exercise not in (None, "TensorReduction", "FourierHalf"):
        raise _refuse(f"exercício desconhecido: {_show(exercise)}")

    params_in = metadata.get("params")
    if not isinstance(params_in, list) or len(params_in) > MAX_PARAMS:
        raise _refuse("lista de parâmetros inválida")
    params = []
    for entry in params_in:
        if not isinstance(entry, dict) or set(entry) != {"name", "shape", "trainable"}:
            raise _refuse("parâmetro inválido nos metadados")
        name = entry["name"]
        if not isinstance(name, str) or not 0 < len(name) <= 200 or not name.isprintable():
            raise _refuse(f"nome de parâmetro inválido: {_show(name)}")
        if not isinstance(entry["trainable"], bool):
            raise _refuse(f"parâmetro {name}: trainable inválido")
        shape = _check_shape(entry["shape"], f"parâmetro {name}")
        params.append({"name": name, "shape": list(shape), "trainable": entry["trainable"]})
    names = [p["name"] for p in params]
    if len(set(names)) != len(names):
        raise _refuse("nomes de parâmetros repetidos")

    weight = metadata.get("weight")
    weight_entry = None
    if weight is not None:
        weight_entry = next((p for p in params if p["name"] == weight), None)
        if weight_entry is None:
            raise _refuse(f"o peso {_show(weight)} não está na lista de parâmetros")
    expected_weight = next((p for p in params if is_weight_name(p["name"])), None)
    if expected_weight is None and len(params) == 1:
        expected_weight = params[0]
    if weight_entry is not expected_weight:
        raise _refuse("o peso indicado não é o parâmetro chamado weight")
    weight_file = metadata.get("weight_file")
    if (weight is None) != (weight_file is None):
        raise _refuse("arquivo do peso ausente ou inesperado")
    weight_var = metadata.get("weight_var")
    if weight_var is not None:
        _var(weight_var, "weight_var")
        if weight is None:
            raise _refuse("variável do peso sem parâmetro weight")

    variables: dict[str, dict[str, Any]] = {}  # graph variable -> role

    def declare(var: str, role: dict[str, Any]) -> None:
        if var in variables:
            raise _refuse(f"variável {var} declarada duas vezes")
        if len(variables) >= MAX_VARIABLES:
            raise _refuse("variáveis demais")
        variables[var] = role

    input_var = _var(metadata.get("input"), "input")
    declare(input_var, {"role": "input"})
    if weight_var is not None:
        declare(weight_var, {"role": "weight"})
    copies = metadata.get("weight_copies")
    if not isinstance(copies, list):
        raise _refuse("weight_copies inválido")
    for var in copies:
        if weight is None:
            raise _refuse("cópia do peso sem parâmetro weight")
        declare(_var(var, "weight_copies"), {"role": "weight_copy"})
    others = metadata.get("other_params")
    if not isinstance(others, list):
        raise _refuse("other_params inválido")
    for entry in others:
        if not isinstance(entry, dict) or set(entry) != {"var", "param", "file"}:
            raise _refuse("other_params inválido")
        param = next((p for p in params if p["name"] == entry["param"]), None)
        if param is None or param is weight_entry:
            raise _refuse(f"parâmetro desconhecido: {_show(entry['param'])}")
        declare(
            _var(entry["var"], "other_params"),
            {"role": "param", "param": param, "file": entry["file"]},
        )
    constants = metadata.get("constants")
    if not isinstance(constants, list):
        raise _refuse("constants inválido")
    for entry in constants:
        if not isinstance(entry, dict) or set(entry) != {"var", "file"}:
            raise _refuse("constants inválido")
        declare(_var(entry["var"], "constants"), {"role": "constant", "file": entry["file"]})
    arrays = [weight_file] * (weight_file is not None)
    arrays += [role["file"] for role in variables.values() if "file" in role]
    for name in arrays:
        if not isinstance(name, str) or not _ARRAY_NAME.fullmatch(name):
            raise _refuse(f"nome de arquivo inválido: {_show(name)}")
    used = [graph, *arrays]
    if len(set(used)) != len(used):
        raise _refuse("o mesmo arquivo aparece duas vezes nos metadados")
    return {
        "mode": mode,
        "graph": graph,
        "input": input_var,
        "params": params,
        "weight": weight,
        "weight_entry": weight_entry,
        "weight_file": weight_file,
        "weight_var": weight_var,
        "variables": variables,
        "exercise": exercise,
    }


# --- the graph -----------------------------------------------------------------------------


def _nesting_depth(text: str, limit: int) -> int:
    """Deepest ``[``/``{`` nesting outside JSON strings; stops counting past ``limit``."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_JSON_STRING.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
        else:
            depth -= 1
    return deepest


def _no_duplicates(pairs: list) -> dict:
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_constant(name: str):
    raise ValueError(f"{name} is not allowed")


def parse_graph(data: bytes) -> dict[str, Any]:
    """``graph.json`` as plain data, without recursion bombs, duplicates or NaN."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse("graph.json não é texto UTF-8") from None
    if _nesting_depth(text, MAX_DEPTH) > MAX_DEPTH:
        raise _refuse("graph.json aninhado demais")
    try:
        graph = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise _refuse("graph.json não é um JSON válido") from None
    if not isinstance(graph, dict):
        raise _refuse("graph.json não descreve um grafo")
    return graph


_INDICES = re.compile(r"[\[(]\s*(-?\d+\s*(,\s*-?\d+\s*)*,?)?[\])]")


def _output_count(op: str, attrs: dict[str, str]) -> int:
    """How many outputs a node has: 1, except the two split operators.

    An entry naming an output a node does not have crashes MXNet's loader (a bus error,
    not an exception), so every entry is checked against this before MXNet sees it.
    """
    try:
        if op == "SliceChannel":
            count = int(attrs.get("num_outputs", "1"))
        elif op == "_split_v2":
            count = int(attrs.get("sections", "0"))
            if count <= 0:
                indices = attrs.get("indices", "")
                if not _INDICES.fullmatch(indices):
                    return 0
                count = len(re.findall(r"-?\d+", indices))
        else:
            return 1
    except ValueError:
        return 0
    return count if 0 < count <= MAX_INPUTS else 0


def _entry(value: Any, outputs: list[int], what: str) -> list[int]:
    """``[node, output, version]`` naming an earlier node's existing output."""
    if (
        not isinstance(value, list)
        or len(value) != 3
        or not all(type(v) is int for v in value)
        or not 0 <= value[0] < len(outputs)
        or not 0 <= value[1] < outputs[value[0]]
        or value[2] != 0
    ):
        raise _refuse(f"{what}: referência inválida")
    return list(value)


def check_graph(graph: dict[str, Any], meta: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The graph rebuilt from its checked parts, and its free variables in order.

    Refuses (``GraphRefused``) an op outside :data:`ALLOWED_OPS`, an undeclared variable and
    anything malformed, before MXNet sees the graph.
    """
    unknown = set(graph) - {"nodes", "arg_nodes", "node_row_ptr", "heads", "attrs"}
    if unknown:
        raise _refuse(f"campos desconhecidos no grafo: {_show(sorted(map(str, unknown)))}")
    nodes_in = graph.get("nodes")
    if not isinstance(nodes_in, list) or not 0 < len(nodes_in) <= MAX_NODES:
        raise _refuse("lista de nós ausente ou grande demais")
    nodes, refused, free, names, outputs = [], set(), [], set(), []
    for index, node in enumerate(nodes_in):
        if not isinstance(node, dict) or not {"op", "name", "inputs"} <= set(node) <= NODE_KEYS:
            raise _refuse(f"nó {index} malformado")
        op, name, inputs = node["op"], node["name"], node["inputs"]
        if not isinstance(op, str) or not isinstance(name, str) or not _NODE_NAME.fullmatch(name):
            raise _refuse(f"nó {index}: nome ou operação inválidos")
        if name in names:
            raise _refuse(f"nó {index}: nome repetido {_show(name)}")
        names.add(name)
        if not isinstance(inputs, list) or len(inputs) > MAX_INPUTS:
            raise _refuse(f"nó {index}: entradas inválidas")
        inputs = [_entry(entry, outputs, f"nó {index}") for entry in inputs]
        attrs = node.get("attrs", {})
        if not isinstance(attrs, dict) or len(attrs) > 64:
            raise _refuse(f"nó {index}: atributos inválidos")
        for key, value in attrs.items():
            if not _ATTR_KEY.fullmatch(key) or not isinstance(value, str):
                raise _refuse(f"nó {index}: atributo inválido {_show(key)}")
            if not _ATTR_VALUE.fullmatch(value):
                raise _refuse(f"nó {index}: valor de atributo inválido")
        if op == "null":
            if inputs or attrs:
                raise _refuse(f"variável {_show(name)} malformada")
            if name not in meta["variables"]:
                raise _refuse(f"variável {_show(name)} não declarada nos metadados")
            free.append(name)
        elif op not in ALLOWED_OPS:
            refused.add(op)
        rebuilt = {"op": op, "name": name, "inputs": inputs}
        if attrs:
            rebuilt["attrs"] = dict(attrs)
        nodes.append(rebuilt)
        outputs.append(_output_count(op, attrs))
    if refused:
        ops = sorted(refused)
        listed = ", ".join(
            _show(op)[1:-1] + (f" ({_WHY[op]})" if op in _WHY else "") for op in ops[:6]
        )
        if len(ops) > 6:
            listed += f" e mais {len(ops) - 6}"
        raise GraphRefused(
            f"o grafo usa operações não permitidas: {listed}. Use só operações de tensores do "
            "MXNet (aritmética, np.dot, np.einsum, np.tensordot, reshape, fatias, np.stack, "
            "np.concatenate...), sem operadores Python personalizados nem hybridize()."
        )
    declared = set(meta["variables"])
    missing = declared - set(free) - {meta["input"]}  # the input alone may go unused
    if missing:
        raise _refuse(f"variáveis declaradas que o grafo não usa: {_show(sorted(missing))}")
    heads = graph.get("heads")
    if not isinstance(heads, list) or len(heads) != 1:
        raise _refuse("o grafo deve ter exatamente uma saída")
    head = _entry(heads[0], outputs, "saída")
    arg_nodes = graph.get("arg_nodes")
    expected_args = [i for i, n in enumerate(nodes) if n["op"] == "null"]
    if arg_nodes != expected_args:
        raise _refuse("arg_nodes não confere com as variáveis do grafo")
    attrs = graph.get("attrs", {})
    if not isinstance(attrs, dict) or set(attrs) - GRAPH_ATTRS:
        raise _refuse("atributos do grafo inválidos")
    clean_attrs = {}
    for key, value in attrs.items():
        if not (
            isinstance(value, list)
            and len(value) == 2
            and value[0] == "int"
            and type(value[1]) is int
            and 0 <= value[1] < 10**8
            and (key != "mxnet_version" or MXNET_VERSIONS[0] <= value[1] < MXNET_VERSIONS[1])
        ):
            raise _refuse(f"atributo do grafo {key} inválido")
        clean_attrs[key] = ["int", value[1]]
    if "mxnet_version" not in clean_attrs:
        raise _refuse("versão do MXNet ausente no grafo")
    np_shape = clean_attrs.get("is_np_shape", ["int", 0])[1]
    if np_shape not in (0, 1) or (np_shape == 1) != (meta["mode"] == "np"):
        raise _refuse("o modo do grafo (NumPy ou nd) não confere com os metadados")
    rebuilt = {"nodes": nodes, "arg_nodes": expected_args, "heads": [head]}
    if clean_attrs:
        rebuilt["attrs"] = clean_attrs
    return rebuilt, free


# --- evaluation ----------------------------------------------------------------------------


def _unbroadcast(gradient: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``gradient`` down to ``shape`` (the reverse of NumPy broadcasting)."""
    extra = gradient.ndim - len(shape)
    if extra > 0:
        gradient = gradient.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, dim in enumerate(shape) if dim == 1 and gradient.shape[i] != 1)
    if axes:
        gradient = gradient.sum(axis=axes, keepdims=True)
    return gradient


def _head_gradient(exercise: str, output_shape, grad_output) -> np.ndarray:
    """d loss / d output: ``grad_output`` for TensorReduction, ones for FourierHalf."""
    if exercise != "TensorReduction":
        return np.ones(output_shape, dtype=np.float64)
    if grad_output is None:
        raise ValueError("grad_output ausente no pedido")
    G = np.asarray(grad_output, dtype=np.float64)
    try:
        shape = np.broadcast_shapes(tuple(output_shape), G.shape)
    except ValueError:
        raise ValueError(
            f"a saída de forma {tuple(output_shape)} não combina com grad_output de forma "
            f"{G.shape} na perda sum(saída * grad_output)"
        ) from None
    return _unbroadcast(np.broadcast_to(G, shape), tuple(output_shape))


def _float_array(value: Any, what: str) -> np.ndarray:
    array = np.array(value, copy=True)
    if array.dtype.kind not in "fiub":
        raise ValueError(f"{what}: tipo {array.dtype} não numérico")
    return array


def evaluate(
    folder: str, metadata: Any, request: dict[str, Any], loaded: Any = None
) -> dict[str, Any]:
    """Apply the exported graph in ``folder`` to ``request``; plain arrays back.

    ``loaded`` (graphs shared by a submission's jobs) is unused: each probe has its own.

    Raises :class:`GraphRefused` (before MXNet loads anything) for a refused graph or
    malformed metadata; ``LookupError``, ``ValueError`` or ``MXNetError`` when the graph
    fails on the request.
    """
    meta = validate_metadata(metadata)
    exercise = request.get("exercise") or meta["exercise"]
    if meta["exercise"] is not None and meta["exercise"] != exercise:
        raise _refuse("o exercício dos metadados não confere com o pedido")
    files = _Folder(folder)
    graph, free = check_graph(parse_graph(files.read(meta["graph"], GRAPH_LIMIT)), meta)
    weight_entry = meta["weight_entry"]
    weight_initial = None
    if weight_entry is not None:
        weight_initial = load_npy(files.read(meta["weight_file"], ARRAY_FILE_LIMIT), "weight")
        if list(weight_initial.shape) != weight_entry["shape"]:
            raise _refuse("o arquivo do peso não tem a forma declarada do parâmetro")
    values: dict[str, np.ndarray] = {}
    for var in free:
        role = meta["variables"][var]
        if "file" in role:
            values[var] = load_npy(files.read(role["file"], ARRAY_FILE_LIMIT), var)
            if role["role"] == "param" and list(values[var].shape) != role["param"]["shape"]:
                raise _refuse(f"{var}: forma diferente da declarada para o parâmetro")

    X = _float_array(request["X"], "X")
    weight = weight_initial
    if request.get("set_weight") is not None:
        new = _float_array(request["set_weight"], "set_weight")
        if weight_initial is None:
            raise LookupError("nenhum parâmetro chamado weight")
        if new.shape != weight_initial.shape:
            raise ValueError(
                f"weight tem forma {weight_initial.shape}, mas o peso da correção tem forma "
                f"{new.shape}"
            )
        weight = new.astype(weight_initial.dtype)
    want_grad = bool(request.get("want_grad"))
    weight_trainable = weight_entry is not None and weight_entry["trainable"]
    input_var = meta["input"]
    for var in free:
        role = meta["variables"][var]["role"]
        if role == "input":
            values[var] = X
        elif role in ("weight", "weight_copy"):
            values[var] = weight
    grad_vars = set()
    if want_grad:
        grad_vars = {input_var} & set(free)
        if weight_trainable and meta["weight_var"] in free:
            grad_vars.add(meta["weight_var"])

    output, grads = _run(graph, free, values, grad_vars, meta["mode"] == "np", exercise, request)
    return {
        "output": output,
        "weight": None if weight is None else np.array(weight, copy=True),
        "grad_X": grads.get(input_var),
        "grad_weight": grads.get(meta["weight_var"]) if meta["weight_var"] else None,
        "params": meta["params"],
        "weight_named": weight_entry is not None and is_weight_name(weight_entry["name"]),
        "output_is_tensor": True,
    }


def _check_sizes(symbol: Any, shapes: dict[str, tuple[int, ...]]) -> None:
    """Refuse, before any allocation, a graph whose intermediate arrays are enormous."""
    _, sizes, _ = symbol.get_internals().infer_shape_partial(**shapes)
    for shape in sizes or ():
        if shape is not None and math.prod(max(int(d), 0) for d in shape) > MAX_ELEMENTS:
            raise ValueError(
                f"o grafo cria um array de forma {tuple(shape)}, grande demais para a correção"
            )


def _run(graph, free, values, grad_vars, np_shape, exercise, request):
    """Load, bind, forward and (for ``grad_vars``) backward; output and gradients."""
    import mxnet as mx
    from mxnet import util

    previous = os.environ.get("MXNET_SUBGRAPH_VERBOSE")
    os.environ["MXNET_SUBGRAPH_VERBOSE"] = "0"  # no "MKLDNN is activated" line per bind
    try:
        with util.np_shape(np_shape):
            symbol = mx.sym.load_json(json.dumps(graph))
            if symbol.list_auxiliary_states() or sorted(symbol.list_arguments()) != sorted(free):
                raise _refuse("as variáveis do grafo carregado não conferem")
            _check_sizes(symbol, {name: values[name].shape for name in free})
            args = {name: mx.nd.array(values[name], dtype=values[name].dtype) for name in free}
            grads = {
                name: mx.nd.zeros(args[name].shape, dtype=args[name].dtype) for name in grad_vars
            }
            requirements = {name: "write" if name in grad_vars else "null" for name in free}
            executor = symbol.bind(mx.cpu(), args, args_grad=grads or None, grad_req=requirements)
            result = executor.forward(is_train=bool(grad_vars))[0].asnumpy()
            if not grad_vars:
                return result, {}
            head = _head_gradient(exercise, result.shape, request.get("grad_output"))
            executor.backward([mx.nd.array(head, dtype=result.dtype)])
            return result, {name: grads[name].asnumpy() for name in grad_vars}
    finally:
        if previous is None:
            os.environ.pop("MXNET_SUBGRAPH_VERBOSE", None)
        else:
            os.environ["MXNET_SUBGRAPH_VERBOSE"] = previous
