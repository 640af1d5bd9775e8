"""Run ``grading.notebook.check`` over the catalogue for one framework; print JSON.

Used by ``test_checks_inprocess.py`` in a fresh interpreter per framework, so the three
frameworks never share a process (MXNet cannot be imported after TensorFlow).
"""

import json
import sys

from grading.notebook import check
from solutions import catalogue

STUBS = {
    "pytorch": """
from torch import nn
class {name}(nn.Module):
    def __init__(self, *args):
        super().__init__()
    def forward(self, X):
        raise NotImplementedError
""",
    "mxnet": """
from mxnet.gluon import nn
class {name}(nn.Block):
    def __init__(self, *args, **kwargs):
        super().__init__(**kwargs)
    def forward(self, X):
        raise NotImplementedError
""",
    "tensorflow": """
import tensorflow as tf
class {name}(tf.keras.layers.Layer):
    def __init__(self, *args, **kwargs):
        super().__init__(**kwargs)
    def call(self, X):
        raise NotImplementedError
""",
}


def load(source: str, name: str) -> type:
    namespace: dict = {}
    exec(compile(source, f"<{name}>", "exec"), namespace)
    return namespace[name]


def summary(report) -> dict:
    return {
        "score": report.score,
        "failed": [c.key for c in report.result.checks if not c.passed],
        "statuses": [c.status for c in report.result.checks],
        "text": repr(report),
        "html": report._repr_html_(),
    }


def main(framework: str, seed: int) -> None:
    out: dict = {"reference": {}, "correct": {}, "wrong": {}, "stub": {}, "repeat": {}}
    for exercise in catalogue.EXERCISES:
        cls = load(catalogue.reference_source(exercise, framework), exercise)
        out["reference"][exercise] = summary(check(cls, seed=seed))
        out["repeat"][exercise] = repr(check(cls, seed=seed))
        stub = load(STUBS[framework].format(name=exercise), exercise)
        out["stub"][exercise] = summary(check(stub, seed=seed))
    for kind, entries in (("correct", catalogue.CORRECT_STYLES), ("wrong", catalogue.WRONG)):
        for impl in entries:
            if impl.framework == framework:
                cls = load(impl.source, impl.exercise)
                key = f"{impl.exercise}/{impl.name}"
                out[kind][key] = summary(check(cls, seed=seed))
    print("JSON:" + json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
