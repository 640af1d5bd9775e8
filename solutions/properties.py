"""Property checks for the two exercises, shared by the tests and usable by the grader.

A check is a function ``check(driver, cls, case)`` that builds the layer class ``cls`` through
a framework :class:`Driver`, feeds it seeded random data and compares the results with the
NumPy ground truth in :mod:`solutions.reference`, raising :class:`AssertionError` on a
mismatch (explicitly, never with an ``assert`` statement, so ``python -O`` keeps every
check). The drivers hide the three frameworks' differences (constructors, dtype
conversion, autograd, optimisers); each imports its framework only when it is created, so
importing this module imports none, and each switches on whatever global settings its
framework needs only inside :meth:`Driver.active`, restoring them afterwards.

Tolerances are stated once, per dtype, in :data:`TOLERANCES`.
"""

from __future__ import annotations

import abc
import contextlib
import functools
import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from solutions import reference

# --- tolerances and cases ---------------------------------------------------------------------


@dataclass(frozen=True)
class Tolerance:
    """``|actual - expected| <= atol * max(1, max|expected|) + rtol * |expected|``."""

    rtol: float
    atol: float

    def assert_close(self, actual, expected, what: str) -> None:
        actual = np.asarray(actual)
        expected = np.asarray(expected)
        if actual.shape != expected.shape:
            raise AssertionError(f"{what}: shape {actual.shape}, expected {expected.shape}")
        scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
        np.testing.assert_allclose(
            actual, expected, rtol=self.rtol, atol=self.atol * scale, err_msg=what
        )


TOLERANCES: dict[str, Tolerance] = {
    "float32": Tolerance(rtol=1e-4, atol=1e-5),
    "float64": Tolerance(rtol=1e-10, atol=1e-12),
}
"""The one place where the checks' tolerances are stated, per input dtype."""

COMPLEX_DTYPES = {"float32": "complex64", "float64": "complex128"}
LEARNING_RATE = 0.125  # exact in float32: Keras keeps the rate as a float32 variable


@dataclass(frozen=True)
class ReductionCase:
    batch: int
    in_units: int
    units: int
    dtype: str = "float32"
    seed: int = 0

    def data(self):
        """Seeded ``(weight, X, grad_output)`` in the case's dtype."""
        rng = np.random.default_rng(self.seed)
        weight = rng.standard_normal((self.in_units, self.in_units, self.units))
        X = rng.standard_normal((self.batch, self.in_units))
        grad_output = rng.standard_normal((self.batch, self.units))
        return tuple(a.astype(self.dtype) for a in (weight, X, grad_output))


@dataclass(frozen=True)
class FourierCase:
    shape: tuple[int, ...]
    dtype: str = "float32"
    seed: int = 0

    def data(self):
        """A seeded input ``X`` in the case's dtype."""
        return np.random.default_rng(self.seed).standard_normal(self.shape).astype(self.dtype)


REDUCTION_CASES: tuple[ReductionCase, ...] = (
    ReductionCase(3, 4, 4, "float32", 1),  # in_units == units: k swapped with i or j runs
    ReductionCase(1, 1, 1, "float64", 2),
    ReductionCase(2, 3, 5, "float64", 3),
    ReductionCase(4, 5, 2, "float32", 4),  # in_units > units
)
"""Fixed cases that together exercise every check; the catalogue tests use them."""

FOURIER_CASES: tuple[FourierCase, ...] = (
    FourierCase((3, 8), "float32", 1),  # even n: n // 2 + 1 differs from ceil(n / 2)
    FourierCase((2, 3, 7), "float64", 2),  # odd n, channels
    FourierCase((1, 1), "float32", 3),
    FourierCase((4, 2, 16), "float32", 4),
    FourierCase((2, 64), "float64", 5),
)


# --- drivers ----------------------------------------------------------------------------------


class Driver(abc.ABC):
    """One framework's way to build, run, differentiate and train a layer.

    A framework that needs process-wide settings (MXNet's NumPy semantics) switches them on
    only inside :meth:`active`, which :func:`run_checks`, :func:`assert_passes`, every
    ``check_*`` function, :meth:`load` and :meth:`solution` enter; code that calls the other
    methods directly wraps them in ``with driver.active():``.
    """

    framework: str
    complex_output: bool = True  # MXNet returns (..., m, 2) real arrays instead

    def active(self) -> contextlib.AbstractContextManager[None]:
        """A context in which the driver's methods work; the previous settings come back."""
        return contextlib.nullcontext()

    def load(self, source: str, exercise: str) -> type:
        """``exec`` self-contained source in a fresh dict and return its class ``exercise``."""
        namespace: dict[str, Any] = {"__name__": f"catalogue_{self.framework}"}
        with self.active():  # a source that changes the settings (npx.set_np()) is undone
            exec(compile(source, f"<{self.framework} {exercise}>", "exec"), namespace)
        return namespace[exercise]

    def solution(self, exercise: str) -> type:
        """The package's own solution class."""
        with self.active():
            module = importlib.import_module(f"solutions.{self.framework}")
        return getattr(module, exercise)

    # Each framework implements these.
    @abc.abstractmethod
    def reduction(self, cls, in_units: int, units: int, dtype: str):
        """A ``TensorReduction`` layer, built (weight created), converted to ``dtype``."""

    @abc.abstractmethod
    def fourier(self, cls, dtype: str):
        """A ``FourierHalf`` layer converted to ``dtype``."""

    @abc.abstractmethod
    def parameters(self, layer) -> dict[str, Any]:
        """The layer's registered trainable parameters, by name."""

    @abc.abstractmethod
    def value(self, parameter) -> np.ndarray:
        """A parameter's current value."""

    @abc.abstractmethod
    def assign(self, parameter, value: np.ndarray) -> None:
        """Overwrite a parameter's value in place."""

    @abc.abstractmethod
    def forward(self, layer, X: np.ndarray) -> np.ndarray:
        """The layer's output for ``X``, outside any gradient recording."""

    @abc.abstractmethod
    def reduction_gradients(self, layer, parameter, X, grad_output):
        """``(Y, dX, dW)`` for the loss ``sum(Y * grad_output)``."""

    @abc.abstractmethod
    def fourier_gradient(self, layer, X) -> np.ndarray:
        """``dX`` for the loss ``sum(Re C) + sum(Im C)`` (every output entry, for MXNet)."""

    @abc.abstractmethod
    def sgd_step(self, layer, X, grad_output, learning_rate: float) -> None:
        """One step of the framework's SGD optimiser on the loss ``sum(Y * grad_output)``."""

    @abc.abstractmethod
    def sequential(self, layer):
        """The layer alone inside the framework's Sequential container."""


class PyTorchDriver(Driver):
    framework = "pytorch"

    def __init__(self, device: str = "cpu"):
        self.torch = importlib.import_module("torch")
        self.device = device

    def _tensor(self, array, requires_grad=False):
        return self.torch.tensor(array, device=self.device, requires_grad=requires_grad)

    def _numpy(self, tensor):
        return tensor.detach().cpu().numpy()

    def _convert(self, layer, dtype):
        layer = layer.double() if dtype == "float64" else layer
        return layer.to(self.device)

    def reduction(self, cls, in_units, units, dtype):
        return self._convert(cls(in_units, units), dtype)

    def fourier(self, cls, dtype):
        return self._convert(cls(), dtype)

    def parameters(self, layer):
        return {name: p for name, p in layer.named_parameters() if p.requires_grad}

    def value(self, parameter):
        return self._numpy(parameter)

    def assign(self, parameter, value):
        with self.torch.no_grad():
            parameter.copy_(self._tensor(value))

    def forward(self, layer, X):
        with self.torch.no_grad():
            return self._numpy(layer(self._tensor(X)))

    def reduction_gradients(self, layer, parameter, X, grad_output):
        X = self._tensor(X, requires_grad=True)
        Y = layer(X)
        (Y * self._tensor(grad_output)).sum().backward()
        return self._numpy(Y), _grad(X.grad), _grad(parameter.grad)

    def fourier_gradient(self, layer, X):
        X = self._tensor(X, requires_grad=True)
        C = layer(X)
        (C.real.sum() + C.imag.sum()).backward()
        return _grad(X.grad)

    def sgd_step(self, layer, X, grad_output, learning_rate):
        optimizer = self.torch.optim.SGD(layer.parameters(), lr=learning_rate)
        optimizer.zero_grad()
        (layer(self._tensor(X)) * self._tensor(grad_output)).sum().backward()
        optimizer.step()

    def sequential(self, layer):
        return self.torch.nn.Sequential(layer)


class TensorFlowDriver(Driver):
    framework = "tensorflow"

    def __init__(self):
        self.tf = importlib.import_module("tensorflow")

    def reduction(self, cls, in_units, units, dtype):
        layer = cls(units, dtype=dtype)
        # The contract's build(X_shape) creates the weight, as a first call would, but
        # without running call: the parameter check does not depend on the forward pass.
        layer.build((1, in_units))
        return layer

    def fourier(self, cls, dtype):
        return cls(dtype=dtype)

    def parameters(self, layer):
        return {variable.path: variable for variable in layer.trainable_weights}

    def value(self, parameter):
        return parameter.numpy()

    def assign(self, parameter, value):
        parameter.assign(value)

    def forward(self, layer, X):
        return np.asarray(layer(self.tf.constant(X)))

    def reduction_gradients(self, layer, parameter, X, grad_output):
        X = self.tf.constant(X)
        with self.tf.GradientTape() as tape:
            tape.watch(X)
            Y = layer(X)
            loss = self.tf.reduce_sum(Y * grad_output)
        dX, dW = tape.gradient(loss, [X, parameter])
        return np.asarray(Y), _grad(dX), _grad(dW)

    def fourier_gradient(self, layer, X):
        tf = self.tf
        X = tf.constant(X)
        with tf.GradientTape() as tape:
            tape.watch(X)
            C = layer(X)
            loss = tf.reduce_sum(tf.math.real(C)) + tf.reduce_sum(tf.math.imag(C))
        return _grad(tape.gradient(loss, X))

    def sgd_step(self, layer, X, grad_output, learning_rate):
        variables = layer.trainable_variables
        with self.tf.GradientTape() as tape:
            loss = self.tf.reduce_sum(layer(self.tf.constant(X)) * grad_output)
        gradients = tape.gradient(loss, variables)
        optimizer = self.tf.keras.optimizers.SGD(learning_rate=learning_rate)
        optimizer.apply_gradients(zip(gradients, variables, strict=True))

    def sequential(self, layer):
        model = self.tf.keras.Sequential([layer])
        model.dtype_policy = layer.dtype_policy  # a model casts its inputs to its own dtype
        return model


class MXNetDriver(Driver):
    framework = "mxnet"
    complex_output = False

    def __init__(self, ctx=None):
        self.mx = importlib.import_module("mxnet")
        self.ctx = self.mx.cpu() if ctx is None else ctx

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """The NumPy semantics of ``npx.set_np()``, then the previous settings again.

        The chapter's notebooks call ``npx.set_np()`` once for the whole process; here the
        catalogue's classes (whose sources call it), Gluon's Trainer and the driver's
        arrays get the same semantics, but only inside this context, so other code in the
        same process (the exercise stubs' tests, the grader) sees MXNet as it found it.
        The semantics are per thread: enter the context in the thread that runs the checks.
        """
        util = self.mx.util
        previous_shape = util.is_np_shape()
        util.set_np_shape(True)
        try:
            with util.np_array(True):  # restores the previous array scope on exit, always
                yield
        finally:  # after the array semantics: MXNet refuses to drop the shape ones first
            util.set_np_shape(previous_shape)

    def _array(self, array):
        return self.mx.np.array(array, dtype=array.dtype, ctx=self.ctx)

    def _initialise(self, layer, dtype):
        layer.initialize(ctx=self.ctx)
        if dtype == "float64":
            layer.cast("float64")
        return layer

    def reduction(self, cls, in_units, units, dtype):
        return self._initialise(cls(units, in_units), dtype)

    def fourier(self, cls, dtype):
        return self._initialise(cls(), dtype)

    def parameters(self, layer):
        return {name: p for name, p in layer.collect_params().items() if p.grad_req != "null"}

    def value(self, parameter):
        return parameter.data(self.ctx).asnumpy()

    def assign(self, parameter, value):
        parameter.set_data(self._array(value))

    def forward(self, layer, X):
        return layer(self._array(X)).asnumpy()

    def reduction_gradients(self, layer, parameter, X, grad_output):
        autograd = self.mx.autograd
        X = self._array(X)
        X.attach_grad()
        with autograd.record():
            Y = layer(X)
            loss = (Y * self._array(grad_output)).sum()
        loss.backward()
        return Y.asnumpy(), X.grad.asnumpy(), parameter.grad(self.ctx).asnumpy()

    def fourier_gradient(self, layer, X):
        X = self._array(X)
        X.attach_grad()
        with self.mx.autograd.record():
            loss = layer(X).sum()  # the real and the imaginary parts
        loss.backward()
        return X.grad.asnumpy()

    def sgd_step(self, layer, X, grad_output, learning_rate):
        trainer = self.mx.gluon.Trainer(
            layer.collect_params(), "sgd", {"learning_rate": learning_rate}
        )
        with self.mx.autograd.record():
            loss = (layer(self._array(X)) * self._array(grad_output)).sum()
        loss.backward()
        trainer.step(1)

    def sequential(self, layer):
        net = self.mx.gluon.nn.Sequential()
        net.add(layer)
        return net


DRIVERS: dict[str, Callable[[], Driver]] = {
    "mxnet": MXNetDriver,
    "pytorch": PyTorchDriver,
    "tensorflow": TensorFlowDriver,
}


def _grad(gradient):
    if gradient is None:
        raise AssertionError("no gradient flows back")
    return np.asarray(gradient.detach().cpu() if hasattr(gradient, "detach") else gradient)


def _as_numpy(output) -> np.ndarray:
    return np.asarray(output.asnumpy() if hasattr(output, "asnumpy") else output)


# --- checks: helpers ---------------------------------------------------------------------------


def _require(condition: bool, message: str) -> None:
    """Raise :class:`AssertionError` unless ``condition``: a check that ``python -O`` keeps."""
    if not condition:
        raise AssertionError(message)


Check = Callable[[Driver, type, Any], None]


def _check(function: Check) -> Check:
    """Run a check inside ``driver.active()``, so that calling one directly works too."""

    @functools.wraps(function)
    def check(driver: Driver, cls: type, case: Any) -> None:
        with driver.active():
            function(driver, cls, case)

    return check


# --- checks: TensorReduction ------------------------------------------------------------------

INIT_SIZES = (16, 8)
"""``(in_units, units)`` of the layer whose initial weight the parameter check inspects."""
NORMAL_TAIL = 2.3
"""A normal or a uniform draw? Of 16 * 16 * 8 = 2048 normal draws, at least one lies beyond
2.3 sample standard deviations from the sample mean except with probability below 1e-18
(0.979 ** 2048); the farthest of 2048 uniform draws, on any interval, stays near
sqrt(3) = 1.73 (above 1.87 in none of 200,000 simulated draws). The grader's 1.9 on 384
values lets a uniform draw through about once in 90 (simulated)."""


def _weight(driver: Driver, layer) -> Any:
    """The layer's only trainable parameter, which must be named weight."""
    parameters = driver.parameters(layer)
    _require(
        len(parameters) == 1 and next(iter(parameters)).endswith("weight"),
        f"expected exactly one registered trainable parameter named weight, got {list(parameters)}",
    )
    return next(iter(parameters.values()))


@_check
def check_reduction_parameter(driver: Driver, cls: type, case: ReductionCase) -> None:
    """``weight``: registered, trainable, the contract's shape and dtype, drawn from a normal."""
    layer = driver.reduction(cls, case.in_units, case.units, case.dtype)
    value = driver.value(_weight(driver, layer))
    shape = (case.in_units, case.in_units, case.units)
    _require(value.shape == shape, f"weight shape {value.shape}, expected {shape}")
    _require(value.dtype == case.dtype, f"weight dtype {value.dtype}, expected {case.dtype}")
    # The distribution, on a layer large enough to tell a normal from a uniform draw.
    draw = driver.value(_weight(driver, driver.reduction(cls, *INIT_SIZES, case.dtype)))
    draw = draw.astype(np.float64)
    spread = float(draw.std())
    _require(spread > 0, "weight initialised to a constant, not drawn from a normal")
    tail = float(np.abs(draw - draw.mean()).max()) / spread
    _require(
        tail >= NORMAL_TAIL,
        f"weight not drawn from a normal: of {draw.size} initial values none is beyond "
        f"{tail:.2f} standard deviations from their mean (a uniform draw looks like this)",
    )


@_check
def check_reduction_values(driver: Driver, cls: type, case: ReductionCase) -> None:
    """Output shape, dtype and values for a weight set to known values."""
    weight, X, _ = case.data()
    layer = driver.reduction(cls, case.in_units, case.units, case.dtype)
    driver.assign(_weight(driver, layer), weight)
    Y = driver.forward(layer, X)
    _require(Y.dtype == case.dtype, f"output dtype {Y.dtype}, expected {case.dtype}")
    expected = reference.tensor_reduction(weight, X)
    TOLERANCES[case.dtype].assert_close(Y, expected, "TensorReduction output")


@_check
def check_reduction_gradients(driver: Driver, cls: type, case: ReductionCase) -> None:
    """Gradients of ``sum(Y * G)`` with respect to ``X`` and ``weight`` vs the analytic ones."""
    weight, X, G = case.data()
    layer = driver.reduction(cls, case.in_units, case.units, case.dtype)
    parameter = _weight(driver, layer)
    driver.assign(parameter, weight)
    Y, dX, dW = driver.reduction_gradients(layer, parameter, X, G)
    tolerance = TOLERANCES[case.dtype]
    tolerance.assert_close(Y, reference.tensor_reduction(weight, X), "output")
    tolerance.assert_close(
        dW, reference.tensor_reduction_weight_grad(X, G), "gradient with respect to weight"
    )
    tolerance.assert_close(
        dX, reference.tensor_reduction_input_grad(weight, X, G), "gradient with respect to X"
    )


@_check
def check_reduction_sgd_step(driver: Driver, cls: type, case: ReductionCase) -> None:
    """One SGD step moves ``weight`` by ``-lr * gradient``; the output follows the new weight."""
    weight, X, G = case.data()
    layer = driver.reduction(cls, case.in_units, case.units, case.dtype)
    parameter = _weight(driver, layer)
    driver.assign(parameter, weight)
    driver.sgd_step(layer, X, G, LEARNING_RATE)
    expected = weight - LEARNING_RATE * reference.tensor_reduction_weight_grad(X, G)
    tolerance = TOLERANCES[case.dtype]
    tolerance.assert_close(driver.value(parameter), expected, "weight after one SGD step")
    X_new = X[::-1] + 1  # other inputs: a bias that the step moved shows here
    tolerance.assert_close(
        driver.forward(layer, X_new),
        reference.tensor_reduction(driver.value(parameter), X_new),
        "output after one SGD step",
    )


@_check
def check_reduction_sequential(driver: Driver, cls: type, case: ReductionCase) -> None:
    """The layer works inside the framework's Sequential container."""
    weight, X, _ = case.data()
    layer = driver.reduction(cls, case.in_units, case.units, case.dtype)
    driver.assign(_weight(driver, layer), weight)
    Y = _as_numpy(driver.forward(driver.sequential(layer), X))
    TOLERANCES[case.dtype].assert_close(
        Y, reference.tensor_reduction(weight, X), "output inside Sequential"
    )


# --- checks: FourierHalf ----------------------------------------------------------------------


def _expected_fourier(driver: Driver, X: np.ndarray) -> np.ndarray:
    C = reference.fourier_half(X)
    return C if driver.complex_output else reference.as_real_imaginary(C)


def _expected_dtype(driver: Driver, dtype: str) -> str:
    return COMPLEX_DTYPES[dtype] if driver.complex_output else dtype


@_check
def check_fourier_no_parameters(driver: Driver, cls: type, case: FourierCase) -> None:
    """``FourierHalf`` has no trainable parameters."""
    layer = driver.fourier(cls, case.dtype)
    driver.forward(layer, case.data())
    parameters = driver.parameters(layer)
    _require(not parameters, f"unexpected parameters {list(parameters)}")


@_check
def check_fourier_values(driver: Driver, cls: type, case: FourierCase) -> None:
    """Output shape, dtype and values: the first ``ceil(n/2)`` coefficients, last axis only."""
    X = case.data()
    C = driver.forward(driver.fourier(cls, case.dtype), X)
    expected_dtype = _expected_dtype(driver, case.dtype)
    _require(C.dtype == expected_dtype, f"output dtype {C.dtype}, expected {expected_dtype}")
    TOLERANCES[case.dtype].assert_close(C, _expected_fourier(driver, X), "FourierHalf output")


@_check
def check_fourier_gradient(driver: Driver, cls: type, case: FourierCase) -> None:
    """Gradient of ``sum(Re C) + sum(Im C)`` with respect to ``X``, from the DFT definition."""
    X = case.data()
    dX = driver.fourier_gradient(driver.fourier(cls, case.dtype), X)
    TOLERANCES[case.dtype].assert_close(
        dX, reference.fourier_half_input_grad(X), "gradient with respect to X"
    )


@_check
def check_fourier_sequential(driver: Driver, cls: type, case: FourierCase) -> None:
    """The layer works inside the framework's Sequential container."""
    X = case.data()
    C = driver.forward(driver.sequential(driver.fourier(cls, case.dtype)), X)
    TOLERANCES[case.dtype].assert_close(C, _expected_fourier(driver, X), "output in Sequential")


CHECKS: dict[str, tuple[Check, ...]] = {
    "TensorReduction": (
        check_reduction_parameter,
        check_reduction_values,
        check_reduction_gradients,
        check_reduction_sgd_step,
        check_reduction_sequential,
    ),
    "FourierHalf": (
        check_fourier_no_parameters,
        check_fourier_values,
        check_fourier_gradient,
        check_fourier_sequential,
    ),
}
CASES: dict[str, tuple[Any, ...]] = {
    "TensorReduction": REDUCTION_CASES,
    "FourierHalf": FOURIER_CASES,
}


@dataclass(frozen=True)
class Failure:
    check: str
    case: Any
    error: str


def run_checks(
    driver: Driver, cls: type, exercise: str, cases: Iterable[Any] | None = None
) -> list[Failure]:
    """Every check of ``exercise`` on every case; the failures (empty when all pass)."""
    failures = []
    with driver.active():
        for case in CASES[exercise] if cases is None else cases:
            for check in CHECKS[exercise]:
                try:
                    check(driver, cls, case)
                except Exception as error:  # a crash in the layer is a failed check too
                    error_text = f"{type(error).__name__}: {error}"
                    failures.append(Failure(check.__name__, case, error_text))
    return failures


def assert_passes(driver: Driver, cls: type, exercise: str, case: Any) -> None:
    """Run every check of ``exercise`` on one case, raising the first failure as it is."""
    with driver.active():
        for check in CHECKS[exercise]:
            check(driver, cls, case)
