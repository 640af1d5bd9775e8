"""Export a student's TensorFlow layer as a SavedModel (runs in the student process).

``export_layer`` follows the contract of ``exportable.py``: it builds the layer on zeros of
the spec's shape (it never sees a probe value), traces its forward pass into a
``tf.function`` with a fixed input signature and saves it with ``tf.saved_model.save``::

    folder/saved_model.pb, folder/fingerprint.pb, folder/variables/variables.{index,data-*}

Saving and loading cost far more than tracing, so the student process traces each of a
class's layers (``trace_layer``) and saves them together (``save_members``): one SavedModel
whose root ``tf.Module`` has a list ``members``, one ``tf.Module`` per layer (``export_layer``
saves a list of one). Each member has three attributes, the names the evaluator
(``grading/evaluator/eval_tensorflow.py``) looks for:

``forward``
    the traced forward pass, a concrete function whose signature is the spec's shape and
    dtype (``TensorSpec(shape, float32)``);
``params``
    the layer's ``weights`` as ``tf.Variable``s, in the order of the metadata's ``params``
    (still variables in the graph, so the evaluator can assign them);
``captured``
    any other variable the forward pass reads (not registered with Keras, so not a param).

A member's metadata carries its index in ``members``. The SavedModel has no saver functions
(``experimental_skip_saver``): TensorFlow 2 restores variables with its own loader.

Imports the standard library at import time; TensorFlow inside the functions.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

try:
    from grading.child.exportable import NotExportable, StageError
    from grading.child.quiet import quiet_tensorflow
except ImportError:  # copied alone into the sandbox, beside exportable.py and quiet.py
    from exportable import NotExportable, StageError
    from quiet import quiet_tensorflow

FORMAT = "tensorflow-saved-model/2"
MEMBERS_ATTRIBUTE = "members"
FUNCTION_ATTRIBUTE = "forward"
PARAMS_ATTRIBUTE = "params"
CAPTURED_ATTRIBUTE = "captured"
DETAIL_LIMIT = 100

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_KERAS_BOLD = re.compile(r"\x1b\[1m(.*?)\x1b\[0m", re.DOTALL)

_PREFIX = "a camada não pôde ser exportada como grafo do TensorFlow"
_ADVICE = (
    "use só operações do TensorFlow (tf.*) no call, sem .numpy() nem NumPy, e devolva um tf.Tensor"
)
_NUMPY = (
    f"{_PREFIX}: o call sai do TensorFlow, convertendo um tensor para NumPy ou Python "
    "(.numpy(), np.*, float(), int()), e o que se calcula fora dele fica sem grafo e sem "
    "gradiente; use só operações do TensorFlow (tf.*) e devolva um tf.Tensor"
)
_CONDITION = (
    f"{_PREFIX}: o call usa o valor de um tensor como condição Python (if, while, bool(), "
    "and/or); calcule sem desvios, com operações do TensorFlow (tf.where, tf.cond)"
)
_VARIABLES = (
    f"{_PREFIX}: o call cria variáveis a cada chamada; crie os pesos uma vez só, em build "
    f"(self.add_weight), e use-os no call"
)
_OTHER_GRAPH = f"{_PREFIX}: o call usa algo que só funciona fora de um grafo; {_ADVICE}"


def _import_tensorflow():
    """TensorFlow, with its C++ start-up logs off when this is its first import."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return tf


def _detail(error: BaseException) -> str:
    """The heart of an error message, one short line (Keras puts it in bold)."""
    text = str(error)
    bold = _KERAS_BOLD.findall(text)
    if bold:
        text = bold[-1]
    lines = [line.strip() for line in _ANSI.sub("", text).splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].startswith("in user code"):
        lines = lines[-1:]
    line = " ".join(lines)
    if len(line) > DETAIL_LIMIT:
        line = line[: DETAIL_LIMIT - 1] + "…"
    return f"{type(error).__name__}: {line}" if line else type(error).__name__


def _first_sentence(error: BaseException) -> str:
    """``_detail`` cut after its first sentence: the framework's words, kept short."""
    detail = _detail(error)
    head, dot, _ = detail.partition(". ")
    return f"{head}." if dot else detail


def graph_incompatibility(error: BaseException) -> str | None:
    """The Portuguese reason when a trace failed for want of graph support, else None.

    Called only after the same layer ran eagerly on an input of the same shape, so these
    errors come from graph mode itself (a symbolic tensor where a value was expected).
    """
    import tensorflow as tf

    if not isinstance(error, Exception):
        return None  # a timeout, SystemExit or KeyboardInterrupt is not about graphs
    text = _ANSI.sub("", str(error))
    if isinstance(error, tf.errors.OperatorNotAllowedInGraphError):
        return _CONDITION
    if "singleton tf.Variable" in text or "tf.Variable created" in text:
        return _VARIABLES
    if isinstance(error, AttributeError | TypeError | NotImplementedError) and (
        "SymbolicTensor" in text
        or "symbolic tf.Tensor" in text
        or "symbolic Tensor" in text
        or "numpy" in text.lower()
    ):
        return _NUMPY
    if type(error).__name__ == "InaccessibleTensorError":  # a tensor of another graph
        return _OTHER_GRAPH
    return None


def _constructor_args(exercise: str, spec: dict[str, Any]) -> tuple[int, ...]:
    """The contract's constructor arguments: ``TensorReduction(units)``, ``FourierHalf()``."""
    if exercise == "TensorReduction":
        return (int(spec["sizes"]["units"]),)
    return ()


def _tf_variable(tf, value: Any) -> Any:
    """The ``tf.Variable`` behind a Keras 3 variable (or the variable itself)."""
    if isinstance(value, tf.Variable):
        return value
    inner = getattr(value, "value", None)
    if isinstance(inner, tf.Variable):
        return inner
    raise NotExportable(
        f"{_PREFIX}: o peso {getattr(value, 'name', '?')!s} não é uma variável do TensorFlow; "
        "crie-o com self.add_weight em build"
    )


def _short_name(name: str) -> str:
    """``tensor_reduction/weight:0`` -> ``weight``."""
    return str(name).split(":")[0].split("/")[-1]


def _params(tf, layer: Any) -> tuple[list[dict[str, Any]], list[Any]]:
    """``[{name, shape, trainable}]`` for ``layer.weights`` and the matching tf.Variables."""
    trainable_ids = {id(v) for v in layer.trainable_weights}
    described, variables = [], []
    for weight in layer.weights:
        variable = _tf_variable(tf, weight)
        trainable = id(weight) in trainable_ids
        if variable.trainable != trainable and hasattr(variable, "_trainable"):
            # Keras may mark a weight (or the whole layer) non-trainable after the variable
            # was made; the saved flag must say what Keras says, as trainable_weights does.
            variable._trainable = trainable
        described.append(
            {
                "name": _short_name(getattr(weight, "name", variable.name)),
                "shape": [int(d) for d in variable.shape],
                "trainable": trainable,
            }
        )
        variables.append(variable)
    return described, variables


def _weight_name(params: list[dict[str, Any]]) -> tuple[str | None, int | None]:
    """The parameter named ``...weight`` (or the only parameter) and its index."""
    for index, param in enumerate(params):
        if param["name"].endswith("weight"):
            return param["name"], index
    if len(params) == 1:
        return params[0]["name"], 0
    return None, None


def _shape(spec: dict[str, Any]) -> list[int]:
    shape = spec.get("shape")
    if not isinstance(shape, list | tuple) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in shape
    ):
        raise ValueError(f"spec shape must be a list of positive integers, got {shape!r}")
    return [int(d) for d in shape]


@dataclass
class Member:
    """One traced layer, ready to be saved: its ``tf.Module`` and its metadata."""

    module: Any
    metadata: dict[str, Any]


def trace_layer(layer_class: type, exercise: str, spec: dict[str, Any]) -> Member:
    """Build and trace the layer for ``spec``'s shape; raise as the contract says."""
    tf = _import_tensorflow()
    shape = _shape(spec)
    dtype = tf.as_dtype(spec.get("dtype") or "float32")
    args = _constructor_args(exercise, spec)
    with quiet_tensorflow():
        try:
            layer = layer_class(*args)
        except BaseException as error:  # the student's code may raise anything
            raise StageError("construct", error) from None
        try:
            layer(tf.zeros(shape, dtype))
        except BaseException as error:
            raise StageError("build", error) from None
        try:
            params, variables = _params(tf, layer)
        except NotExportable:
            raise
        except BaseException as error:  # a layer may override weights with its own code
            raise StageError("parameters", error) from None
        concrete = _trace(tf, layer, shape, dtype)
    known = {id(v) for v in variables}
    module = tf.Module()
    setattr(module, PARAMS_ATTRIBUTE, variables)
    setattr(module, CAPTURED_ATTRIBUTE, [v for v in concrete.variables if id(v) not in known])
    # the concrete function itself: saving a tf.function would trace it once more
    setattr(module, FUNCTION_ATTRIBUTE, concrete)
    weight, weight_index = _weight_name(params)
    output = concrete.structured_outputs
    metadata = {
        "format": FORMAT,
        "params": params,
        "weight": weight,
        "weight_index": weight_index,
        "function": FUNCTION_ATTRIBUTE,
        "variables": PARAMS_ATTRIBUTE,
        "input": {"shape": shape, "dtype": dtype.name},
        "output": {
            "shape": None if output.shape.rank is None else [d for d in output.shape.as_list()],
            "dtype": output.dtype.name,
        },
    }
    return Member(module, metadata)


def save_members(members: list[Member], folder: str) -> list[dict[str, Any]]:
    """Save ``members`` as one SavedModel in ``folder``; each one's metadata, in order."""
    tf = _import_tensorflow()
    root = tf.Module()
    setattr(root, MEMBERS_ATTRIBUTE, [member.module for member in members])
    options = tf.saved_model.SaveOptions(experimental_skip_saver=True)
    with quiet_tensorflow():
        try:
            tf.saved_model.save(root, folder, signatures={}, options=options)
        except OSError:
            raise
        except Exception as error:  # an odd object a forward pass captured
            raise NotExportable(
                f"{_PREFIX}: o TensorFlow não conseguiu salvar o grafo ({_detail(error)}); "
                "guarde na camada só pesos criados com self.add_weight"
            ) from None
    return [{**member.metadata, "member": index} for index, member in enumerate(members)]


def export_layer(
    layer_class: type, exercise: str, spec: dict[str, Any], folder: str
) -> dict[str, Any]:
    """Build, trace and save the layer into ``folder``; return the metadata (contract)."""
    return save_members([trace_layer(layer_class, exercise, spec)], folder)[0]


class _Traced:
    """What the traced body saw of the student's output: its type, and whether a tensor."""

    def __init__(self):
        self.output_type: str | None = None
        self.is_tensor = False


def _trace(tf, layer: Any, shape: list[int], dtype: Any) -> Any:
    """Trace ``layer`` into a ``tf.function`` with a fixed signature; its concrete function."""
    seen = _Traced()

    def forward(X):
        out = layer(X)
        seen.output_type = type(out).__name__
        seen.is_tensor = isinstance(out, tf.Tensor | tf.Variable) or (
            isinstance(out, tf.__internal__.types.Tensor)
            and not isinstance(out, tf.__internal__.CompositeTensor)
        )
        if not seen.is_tensor:
            return tf.constant(0.0)  # stop here: the caller refuses this export
        return tf.identity(out)

    function = tf.function(forward, input_signature=[tf.TensorSpec(shape, dtype, name="X")])
    try:
        concrete = function.get_concrete_function()
    except BaseException as error:  # the student's forward pass, traced
        reason = graph_incompatibility(error)
        if reason is None:
            raise StageError("forward", error) from None
        raise NotExportable(f"{reason}. Mensagem do TensorFlow: {_first_sentence(error)}") from None
    if not seen.is_tensor:
        raise NotExportable(
            f"{_PREFIX}: o call devolveu {seen.output_type}, não um tf.Tensor; {_ADVICE}"
        )
    return concrete
