"""The contract between the student process, which exports layers, and the evaluator.

Student side (``grading/child/export_<framework>.py``, run where student code runs)::

    export_layer(layer_class, exercise, spec, folder) -> metadata

``spec`` is plain data chosen by the trusted side, never a probe value::

    {"id": "tr-pytorch-values", "exercise": "TensorReduction", "framework": "pytorch",
     "sizes": {"in_units": 4, "units": 3, "batch": 2} or None,
     "shape": [2, 4], "dtype": "float32"}

The exporter builds the layer with the contract's constructor and ``sizes``, traces or
compiles its forward pass on placeholder inputs of ``shape`` (zeros or random values the
exporter draws itself) and writes the framework graph into ``folder`` (an empty directory),
keeping the parameter ``weight`` a named parameter of the graph, not a constant. It returns
small JSON-able metadata: ``{"params": [{"name", "shape", "trainable"}], "weight": name or
None, ...}`` plus whatever its evaluator needs (file names, variable names).

An exporter whose saves cost far more than its traces (TensorFlow) may also offer::

    trace_layer(layer_class, exercise, spec) -> member
    save_members([member, ...], folder) -> [metadata, ...]

and the student process then saves each class's layers in one folder, the first layer's
(each metadata says which member it is; the trusted side names the folder to the evaluator).

A layer that cannot become a graph (a Python ``if`` on tensor values, a NumPy round trip,
an output that is not a tensor) raises :class:`NotExportable` with a Portuguese message
saying why and what to change. An exception raised by the student's own code is re-raised
as :class:`StageError` naming the stage (``construct``, ``build``, ``forward``).

Evaluator side (``grading/evaluator/eval_<framework>.py``, never runs student code)::

    evaluate(folder, metadata, request, loaded) -> response

checks every op of the graph against its allow-list *before* the framework loads it,
raises ``GraphRefused`` (``grading/evaluator/refusal.py``) otherwise, sets the weight to
``request["set_weight"]`` when given, applies the graph to ``request["X"]`` and, when
``request["want_grad"]``, back-propagates the exercise's loss with its own autograd.
``loaded`` is a dict, one per submission, where it may keep a graph several jobs share.

Every framework module imports only the standard library, NumPy and its framework, and
imports this module as ``grading.child.exportable`` or, copied alone into a sandbox, as
``exportable``.
"""

from __future__ import annotations

from typing import Any

MESSAGE_LIMIT = 400
_MODULE_PREFIXES = (
    ("torch.", "pytorch"),
    ("mxnet.", "mxnet"),
    ("keras.", "tensorflow"),
    ("tf_keras.", "tensorflow"),
    ("tensorflow.", "tensorflow"),
)


class NotExportable(Exception):
    """The layer runs but cannot be exported as a graph; the message is for the student."""

    stage = "export"


class StageError(Exception):
    """The student's code raised at ``stage``; ``error`` is the original exception."""

    def __init__(self, stage: str, error: BaseException):
        super().__init__(stage)
        self.stage = stage
        self.error = error


def clean_message(error: BaseException | str) -> str:
    """One line, at most ``MESSAGE_LIMIT`` characters (MXNet's C++ traces reduced)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].startswith("Traceback"):
        lines = lines[-1:]
    text = " ".join(lines)
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def export_one(exporter: Any, layer_class: type, spec: dict[str, Any], folder: str) -> dict:
    """``exporter.export_layer`` as plain data: ``{"metadata": ...}`` or ``{"error": ...}``."""
    return guarded(
        lambda: {"metadata": exporter.export_layer(layer_class, spec["exercise"], spec, folder)}
    )


def trace_one(exporter: Any, layer_class: type, spec: dict[str, Any]) -> dict:
    """``exporter.trace_layer`` (an exporter that saves a class's layers together)."""
    return guarded(lambda: {"member": exporter.trace_layer(layer_class, spec["exercise"], spec)})


def guarded(call: Any) -> dict:
    """``call()``, or ``{"error": ...}`` naming the stage of whatever it raised."""
    try:
        return call()
    except NotExportable as error:
        failure = {"stage": "export", "type": "NotExportable", "message": clean_message(error)}
    except StageError as error:
        inner = error.error
        failure = {"stage": error.stage, "type": type(inner).__name__}
        failure["message"] = clean_message(inner)
    except BaseException as error:  # anything else the student's code raised
        failure = {"stage": "forward", "type": type(error).__name__}
        failure["message"] = clean_message(error)
    return {"error": failure}


def framework_of(cls: type) -> str | None:
    """The framework a layer class belongs to, read off its bases' modules (imports nothing)."""
    for base in getattr(cls, "__mro__", ()):
        module = f"{getattr(base, '__module__', '') or ''}."
        for prefix, framework in _MODULE_PREFIXES:
            if module.startswith(prefix):
                return framework
    return None
