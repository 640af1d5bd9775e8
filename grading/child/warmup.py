"""Tiny layers of our own, exported once so that later exports skip first-call costs.

A student-process template (``template.py``), where no student code has run, warms its
exporters up before it forks: each child then traces and saves its first graph fast.
(Warming a long-lived evaluator's loaders up the same way was measured to save nothing.)
"""

from __future__ import annotations

import os
import tempfile
from typing import Any


def spec(framework: str) -> dict[str, Any]:
    return {
        "id": "warm",
        "exercise": "FourierHalf",
        "framework": framework,
        "sizes": None,
        "shape": [2, 4],
        "dtype": "float32",
    }


def layer(framework: str) -> type:
    """A small FourierHalf-like layer of the framework (not the exercise's answer)."""
    if framework == "pytorch":
        import torch

        class Warm(torch.nn.Module):
            def forward(self, X):
                return torch.fft.rfft(X)[..., :2]

    elif framework == "tensorflow":
        import tensorflow as tf

        class Warm(tf.keras.layers.Layer):
            def call(self, X):
                return tf.signal.rfft(X)[..., :2]

    else:
        from mxnet import np as mnp
        from mxnet.gluon import nn

        class Warm(nn.Block):
            def forward(self, X):
                return mnp.stack([X, -X], axis=-1)[..., :2, :]

    return Warm


def warm_up(exporters: dict[str, Any], export_one: Any) -> None:
    """Export the tiny layer with each of ``exporters`` (``framework -> module``)."""
    with tempfile.TemporaryDirectory(prefix="grading-warm-") as folder:
        for framework, exporter in exporters.items():
            target = os.path.join(folder, framework)
            os.mkdir(target)
            export_one(exporter, layer(framework), spec(framework), target)
