"""Apply a student's layer to inputs chosen by the trusted side; return plain arrays.

A *request* is plain data: ``exercise``, ``sizes`` (constructor sizes, TensorReduction
only), ``X`` (input array), ``set_weight`` (array or None), ``grad_output`` (array or None)
and ``want_grad`` (bool). The *response* holds NumPy arrays (``output``, ``weight``,
``grad_X``, ``grad_weight``), the parameter list and, when the layer failed, the stage and
error. No expected value ever reaches this module.

Framework modules are imported inside the adapters, so importing this file loads none.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from typing import Any

import numpy as np

MESSAGE_LIMIT = 400
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{4,}")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_AUTO_PREFIX = re.compile(r"^[A-Za-z_]*?\d+_")


class _Stage(Exception):
    """A failure of the student's layer at a named stage (construct, forward, ...)."""

    def __init__(self, stage: str, error: BaseException):
        super().__init__(stage)
        self.stage = stage
        self.error = error


def clean_message(text: str) -> str:
    """Shorten an error message and hide memory addresses, which vary between runs."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].startswith("Traceback"):
        lines = lines[-1:]  # MXNet puts its C++ traceback in the message
    text = _ADDRESS.sub("0x…", _ANSI.sub("", " ".join(lines)))
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def to_numpy(value: Any) -> np.ndarray:
    """Convert a framework tensor (or anything array-like) to a plain ``ndarray``."""
    module = type(value).__module__ or ""
    if module.startswith("torch"):
        value = value.detach().cpu().resolve_conj().resolve_neg().numpy()
    elif module.startswith("mxnet"):
        value = value.asnumpy()
    elif hasattr(value, "numpy") and (module.startswith(("tensorflow", "keras"))):
        value = value.numpy()
    array = np.array(value, copy=True, subok=False)
    if array.dtype == object:
        raise TypeError(f"não é um array numérico (tipo {type(value).__name__})")
    return array


def _backward(step: Any) -> Any:
    """Run a backward step, blaming any failure on the gradient stage."""
    try:
        return step()
    except BaseException as error:
        raise _Stage("backward", error) from None


def is_weight_name(name: str) -> bool:
    """True for ``weight``, ``layer.weight``, ``tensorreduction0_weight``, ``x/weight:0``."""
    return name.split(":")[0].endswith("weight")


class _Adapter:
    """What a framework must provide to probe a layer."""

    framework = ""

    def mode(self, cls: type) -> contextlib.AbstractContextManager:
        """A context the whole probe runs in (MXNet's NumPy mode)."""
        return contextlib.nullcontext()

    def construct(self, cls: type, exercise: str, sizes: dict[str, int]) -> Any:
        raise NotImplementedError

    def tensor(self, array: np.ndarray) -> Any:
        raise NotImplementedError

    def parameters(self, layer: Any) -> list[tuple[str, Any, tuple[int, ...], bool]]:
        """``(name, handle, shape, trainable)`` for every registered parameter."""
        raise NotImplementedError

    def read(self, handle: Any) -> np.ndarray:
        raise NotImplementedError

    def assign(self, handle: Any, array: np.ndarray) -> None:
        raise NotImplementedError

    def forward_and_grad(
        self, layer: Any, X: np.ndarray, loss: Any, weight: Any
    ) -> tuple[Any, Any, Any]:
        """Output, gradient by X and gradient by the weight handle (None if absent)."""
        raise NotImplementedError

    def is_tensor(self, value: Any) -> bool:
        raise NotImplementedError


class _PyTorch(_Adapter):
    framework = "pytorch"

    def construct(self, cls, exercise, sizes):
        if exercise == "TensorReduction":
            return cls(sizes["in_units"], sizes["units"])
        return cls()

    def tensor(self, array):
        import torch

        return torch.tensor(array)

    def parameters(self, layer):
        return [
            (name, p, tuple(p.shape), bool(p.requires_grad)) for name, p in layer.named_parameters()
        ]

    def read(self, handle):
        return to_numpy(handle)

    def assign(self, handle, array):
        import torch

        with torch.no_grad():
            handle.copy_(torch.tensor(array))

    def forward_and_grad(self, layer, X, loss, weight):
        import torch

        x = torch.tensor(X, requires_grad=True)
        if weight is not None:
            weight.grad = None
        out = layer(x)
        _backward(lambda: loss(out, torch).backward())
        return out, x.grad, None if weight is None else weight.grad

    def is_tensor(self, value):
        import torch

        return isinstance(value, torch.Tensor)


def _uses_mxnet_np(cls: type) -> bool:
    """True for a class under ``npx.set_np()`` or decorated with ``@use_np``."""
    from mxnet import util

    if util.is_np_array():
        return True
    for name in ("forward", "__init__", "hybrid_forward"):
        code = getattr(getattr(cls, name, None), "__code__", None)
        if code is not None and code.co_name.startswith("_with_np"):
            return True
    return False


class _MXNet(_Adapter):
    framework = "mxnet"
    np_mode = False

    @contextlib.contextmanager
    def mode(self, cls):
        from mxnet import util

        self.np_mode = _uses_mxnet_np(cls)
        if not self.np_mode:
            yield
            return
        with util.np_shape(True), util.np_array(True):
            yield

    def _lib(self):
        if self.np_mode:
            from mxnet import np as lib
        else:
            from mxnet import nd as lib
        return lib

    def construct(self, cls, exercise, sizes):
        reduction = exercise == "TensorReduction"
        layer = cls(sizes["units"], sizes["in_units"]) if reduction else cls()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layer.initialize()
        return layer

    def tensor(self, array):
        return self._lib().array(array, dtype=array.dtype)

    def parameters(self, layer):
        found = []
        for name, p in layer.collect_params().items():
            found.append((_AUTO_PREFIX.sub("", name), p, tuple(p.shape), p.grad_req != "null"))
        return found

    def read(self, handle):
        return to_numpy(handle.data())

    def assign(self, handle, array):
        handle.set_data(self.tensor(array))

    def forward_and_grad(self, layer, X, loss, weight):
        from mxnet import autograd

        x = self.tensor(X)
        x.attach_grad()
        with autograd.record():
            out = layer(x)
            value = loss(out, self)
        _backward(value.backward)
        grad_weight = None
        if weight is not None and weight.grad_req != "null":
            grad_weight = weight.grad()
        return out, x.grad, grad_weight

    def is_tensor(self, value):
        from mxnet import nd

        return isinstance(value, nd.NDArray)


class _TensorFlow(_Adapter):
    framework = "tensorflow"

    def construct(self, cls, exercise, sizes):
        if exercise == "TensorReduction":
            return cls(sizes["units"])
        return cls()

    def tensor(self, array):
        import tensorflow as tf

        return tf.constant(array)

    def parameters(self, layer):
        trainable = {id(v) for v in layer.trainable_weights}
        return [
            (v.name.split("/")[-1], v, tuple(v.shape), id(v) in trainable) for v in layer.weights
        ]

    def read(self, handle):
        return to_numpy(handle)

    def assign(self, handle, array):
        handle.assign(array)

    def forward_and_grad(self, layer, X, loss, weight):
        import tensorflow as tf

        x = tf.constant(X)
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = layer(x)
            value = loss(out, tf)
        sources = [x] if weight is None else [x, weight]
        grads = _backward(lambda: tape.gradient(value, sources))
        return out, grads[0], None if weight is None else grads[1]

    def is_tensor(self, value):
        import tensorflow as tf

        return isinstance(value, tf.Tensor | tf.Variable)


ADAPTERS: dict[str, type[_Adapter]] = {
    "pytorch": _PyTorch,
    "mxnet": _MXNet,
    "tensorflow": _TensorFlow,
}


def _loss(exercise: str, framework: str, grad_output: np.ndarray | None):
    """The scalar whose gradient the trusted side knows how to compute."""

    def weighted(out, lib):
        if framework == "mxnet":
            return (out * lib.tensor(grad_output)).sum()
        if framework == "pytorch":
            return (out * lib.tensor(grad_output)).sum()
        return lib.reduce_sum(out * lib.constant(grad_output))

    def real_plus_imaginary(out, lib):
        if framework == "mxnet":
            return out.sum()
        if framework == "pytorch":
            return out.real.sum() + out.imag.sum() if out.is_complex() else out.sum()
        return lib.reduce_sum(lib.math.real(out)) + lib.reduce_sum(lib.math.imag(out))

    return weighted if exercise == "TensorReduction" else real_plus_imaginary


def _find_weight(params: list) -> tuple[Any, bool]:
    """The handle of the parameter named ``weight`` (or the only parameter) and its name check."""
    named = [p for p in params if is_weight_name(p[0])]
    if named:
        return named[0][1], True
    if len(params) == 1:
        return params[0][1], False
    return None, False


def run_probe(layer_class: type, framework: str, request: dict[str, Any]) -> dict[str, Any]:
    """Build the layer, apply it as the request says, return plain data (never raises)."""
    adapter = ADAPTERS[framework]()
    response: dict[str, Any] = {"params": None, "weight_named": None, "error": None}
    try:
        with adapter.mode(layer_class):
            _apply(adapter, layer_class, framework, request, response)
    except BaseException as failure:  # the student's code may raise anything, even SystemExit
        stage, error = ("construct", failure)
        if isinstance(failure, _Stage):
            stage, error = failure.stage, failure.error
        response["error"] = {
            "stage": stage,
            "type": type(error).__name__,
            "message": clean_message(error),
        }
    return response


def _apply(adapter, layer_class, framework, request, response) -> None:
    """``run_probe``'s body: fills ``response``; raises ``_Stage`` when the layer fails."""
    X = np.asarray(request["X"])
    exercise = request["exercise"]
    stage = "construct"
    try:
        layer = adapter.construct(layer_class, exercise, request.get("sizes") or {})
        weight = None
        if exercise == "TensorReduction":
            stage = "build"
            if framework == "tensorflow" or request.get("set_weight") is not None:
                layer(adapter.tensor(X))
            stage = "parameters"
            params = adapter.parameters(layer)
            response["params"] = [
                {"name": name, "shape": list(shape), "trainable": trainable}
                for name, _, shape, trainable in params
            ]
            weight, response["weight_named"] = _find_weight(params)
            if request.get("set_weight") is not None:
                stage = "set_weight"
                if weight is None:
                    raise LookupError("nenhum parâmetro chamado weight")
                adapter.assign(weight, np.asarray(request["set_weight"]))
        stage = "forward"
        if request.get("want_grad"):
            loss = _loss(exercise, framework, request.get("grad_output"))
            out, grad_x, grad_w = adapter.forward_and_grad(layer, X, loss, weight)
        else:
            out, grad_x, grad_w = layer(adapter.tensor(X)), None, None
        stage = "output"
        response["output_is_tensor"] = bool(adapter.is_tensor(out))
        response["output"] = to_numpy(out)
        if weight is not None:
            stage = "parameters"
            response["weight"] = adapter.read(weight)
        stage = "gradient"
        if grad_x is not None:
            response["grad_X"] = to_numpy(grad_x)
        if grad_w is not None:
            response["grad_weight"] = to_numpy(grad_w)
    except _Stage:
        raise
    except BaseException as error:  # the student's code may raise anything, even SystemExit
        raise _Stage(stage, error) from None


_MODULE_PREFIXES = (
    ("torch.", "pytorch"),
    ("mxnet.", "mxnet"),
    ("keras.", "tensorflow"),
    ("tf_keras.", "tensorflow"),
    ("tensorflow.", "tensorflow"),
)


def framework_of(cls: type) -> str | None:
    """The framework a layer class belongs to, read off its bases' modules (imports nothing)."""
    for base in getattr(cls, "__mro__", ()):
        module = f"{getattr(base, '__module__', '') or ''}."
        for prefix, framework in _MODULE_PREFIXES:
            if module.startswith(prefix):
                return framework
    return None
