"""Every custom layer the section defines passes gradients to its input and parameters.

The classes come from the executed notebook itself (its per-framework namespaces), not
from a copy. Each analytic gradient of ``L = sum(layer(X) * R)`` is compared with a central
finite difference, so a cut gradient (PyTorch's ``.data``) fails.
"""

from __future__ import annotations

import numpy as np
import pytest

from frametabs.frameworks import FRAMEWORKS

# How to build each custom layer of the chapter, and the input width it expects.
CONSTRUCTORS = {
    ("mxnet", "CenteredLayer"): (lambda cls: cls(), 5),
    ("mxnet", "MyDense"): (lambda cls: cls(3, in_units=5), 5),
    ("pytorch", "CenteredLayer"): (lambda cls: cls(), 5),
    ("pytorch", "MyLinear"): (lambda cls: cls(5, 3), 5),
    ("tensorflow", "CenteredLayer"): (lambda cls: cls(), 5),
    ("tensorflow", "MyDense"): (lambda cls: cls(3), 5),
}
SEED_MYLINEAR_WITH_DATA = """
class MyLinear(nn.Module):
    def __init__(self, in_units, units):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_units, units))
        self.bias = nn.Parameter(torch.randn(units,))
    def forward(self, X):
        linear = torch.matmul(X, self.weight.data) + self.bias.data
        return F.relu(linear)
"""
EPSILON = 1e-3
TOLERANCE = 1e-2
PROBES_PER_TENSOR = 4


class MXNetAdapter:
    """Forward, gradients and parameter access for a Gluon block."""

    def base(self):
        from mxnet.gluon import nn

        return nn.Block

    def prepare(self, layer, X):
        layer.initialize()
        layer(self._array(X))

    def _array(self, value):
        from mxnet import np as mnp

        return mnp.array(value, dtype="float32")

    def parameters(self, layer):
        return {name: param for name, param in layer.collect_params().items()}

    def get(self, param):
        return param.data().asnumpy()

    def set(self, param, value):
        param.set_data(self._array(value))

    def loss(self, layer, X, R):
        return float((layer(self._array(X)) * self._array(R)).sum())

    def gradients(self, layer, X, R):
        from mxnet import autograd

        X = self._array(X)
        X.attach_grad()
        with autograd.record():
            loss = (layer(X) * self._array(R)).sum()
        loss.backward()
        grads = {"X": X.grad.asnumpy()}
        for name, param in self.parameters(layer).items():
            grads[name] = param.grad().asnumpy()
        return grads


class PyTorchAdapter:
    """Forward, gradients and parameter access for an ``nn.Module``."""

    def base(self):
        from torch import nn

        return nn.Module

    def prepare(self, layer, X):
        pass

    def parameters(self, layer):
        return dict(layer.named_parameters())

    def get(self, param):
        return param.detach().numpy().copy()

    def set(self, param, value):
        import torch

        with torch.no_grad():
            param.copy_(torch.as_tensor(value))

    def loss(self, layer, X, R):
        import torch

        with torch.no_grad():
            return float((layer(torch.as_tensor(X)) * torch.as_tensor(R)).sum())

    def gradients(self, layer, X, R):
        import torch

        X = torch.as_tensor(X).requires_grad_(True)
        layer.zero_grad()
        (layer(X) * torch.as_tensor(R)).sum().backward()
        grads = {"X": X.grad.numpy()}
        for name, param in self.parameters(layer).items():
            grads[name] = None if param.grad is None else param.grad.numpy().copy()
        return grads


class TensorFlowAdapter:
    """Forward, gradients and variable access for a Keras layer or model."""

    def base(self):
        import tensorflow as tf

        return tf.keras.layers.Layer

    def prepare(self, layer, X):
        layer(X)

    def parameters(self, layer):
        return {variable.path: variable for variable in layer.trainable_weights}

    def get(self, param):
        return param.numpy().copy()

    def set(self, param, value):
        param.assign(value)

    def loss(self, layer, X, R):
        import tensorflow as tf

        return float(tf.reduce_sum(layer(tf.constant(X)) * R))

    def gradients(self, layer, X, R):
        import tensorflow as tf

        X = tf.constant(X)
        variables = list(self.parameters(layer).values())
        with tf.GradientTape() as tape:
            tape.watch(X)
            loss = tf.reduce_sum(layer(X) * R)
        grads = tape.gradient(loss, [X, *variables])
        names = ["X", *self.parameters(layer)]
        return {
            name: None if grad is None else np.asarray(grad)
            for name, grad in zip(names, grads, strict=True)
        }


ADAPTERS = {"mxnet": MXNetAdapter(), "pytorch": PyTorchAdapter(), "tensorflow": TensorFlowAdapter()}


def custom_layers(namespace, adapter):
    """Names of the layer classes the notebook itself defined in ``namespace``."""
    base = adapter.base()
    return sorted(
        name
        for name, value in namespace.items()
        if isinstance(value, type)
        and issubclass(value, base)
        and value.__module__ == namespace["__name__"]
    )


def gradient_problems(adapter, layer, width, seed=0):
    """Compare autograd with finite differences; return a list of what is wrong."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.5, 1.5, size=(4, width)).astype(np.float32)
    adapter.prepare(layer, X)
    R = rng.normal(size=np.asarray(adapter_forward_shape(adapter, layer, X))).astype(np.float32)
    grads = adapter.gradients(layer, X, R)
    problems = []
    targets = {"X": None, **adapter.parameters(layer)}
    for name, param in targets.items():
        grad = grads.get(name)
        if grad is None:
            problems.append(f"{name}: no gradient reaches it")
            continue
        value = X if param is None else adapter.get(param)
        for flat in rng.choice(value.size, size=min(PROBES_PER_TENSOR, value.size), replace=False):
            index = np.unravel_index(flat, value.shape)
            estimate = finite_difference(adapter, layer, X, R, param, value, index)
            if not np.isclose(grad[index], estimate, rtol=TOLERANCE, atol=TOLERANCE):
                problems.append(
                    f"{name}{index}: autograd {grad[index]:.5f}, numeric {estimate:.5f}"
                )
    return problems


def adapter_forward_shape(adapter, layer, X):
    """Shape of the layer's output for ``X`` (a loss weight of that shape is drawn)."""
    if isinstance(adapter, PyTorchAdapter):
        import torch

        with torch.no_grad():
            return tuple(layer(torch.as_tensor(X)).shape)
    if isinstance(adapter, MXNetAdapter):
        return tuple(layer(adapter._array(X)).shape)
    return tuple(layer(X).shape)


def finite_difference(adapter, layer, X, R, param, value, index):
    """Central difference of the loss along one entry of ``X`` or of a parameter."""
    results = []
    for step in (EPSILON, -EPSILON):
        shifted = value.copy()
        shifted[index] += step
        if param is None:
            results.append(adapter.loss(layer, shifted, R))
        else:
            adapter.set(param, shifted)
            results.append(adapter.loss(layer, X, R))
    if param is not None:
        adapter.set(param, value)
    return (results[0] - results[1]) / (2 * EPSILON)


def test_the_chapter_defines_exactly_the_expected_layers(chapter_namespaces):
    found = {
        (framework, name)
        for framework in FRAMEWORKS
        for name in custom_layers(chapter_namespaces[framework], ADAPTERS[framework])
    }
    assert found == set(CONSTRUCTORS), "update CONSTRUCTORS when the chapter's layers change"


@pytest.mark.parametrize(("framework", "name"), sorted(CONSTRUCTORS))
def test_gradients_reach_input_and_every_parameter(chapter_namespaces, framework, name):
    build, width = CONSTRUCTORS[framework, name]
    layer = build(chapter_namespaces[framework][name])
    adapter = ADAPTERS[framework]
    assert gradient_problems(adapter, layer, width) == []
    if name != "CenteredLayer":
        assert adapter.parameters(layer), f"{name} registers no trainable parameter"


def test_the_seed_data_version_of_mylinear_is_caught(chapter_namespaces):
    namespace = dict(chapter_namespaces["pytorch"])
    exec(SEED_MYLINEAR_WITH_DATA, namespace)
    layer = namespace["MyLinear"](5, 3)
    problems = gradient_problems(ADAPTERS["pytorch"], layer, 5)
    assert any(p.startswith("weight: no gradient") for p in problems), problems
    assert any(p.startswith("bias: no gradient") for p in problems), problems


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_centered_network_output_has_mean_near_zero(chapter_namespaces, framework):
    """The cells showing ``Y.mean()`` skip output comparison; their claim is checked here."""
    Y = chapter_namespaces[framework]["Y"]
    values = (
        Y.asnumpy()
        if framework == "mxnet"
        else np.asarray(Y.detach() if framework == "pytorch" else Y)
    )
    assert values.shape == (4, 128)
    assert abs(float(values.mean())) < 1e-6
    assert float(np.abs(values).max()) > 1e-3, "the network output should not be trivially zero"
