"""A TensorFlow class's layers are saved together: its verdicts stay those of one save each.

The student process traces a class's layers one by one and saves them in one SavedModel
(``grading/child/harness.py``). What happens to one layer must still be that layer's: a
crash while tracing it leaves the layers traced before it to be graded, a layer that cannot
be saved fails alone, and a save that hangs costs one timeout.
"""

from __future__ import annotations

import pytest

from grading import checks
from solutions import catalogue

pytestmark = pytest.mark.slow

SEED = 5
TITLES = {check.key: check.title for check in checks.checks_for("TensorReduction")}


def _reference(exercise: str) -> str:
    return catalogue.reference_source(exercise, "tensorflow")


def _reduction_with(before_return: str) -> str:
    """The reference TensorReduction with ``before_return`` run at the start of ``call``."""
    source = _reference("TensorReduction")
    head, call, body = source.partition("    def call(self, X):\n")
    assert call, "the reference has a call method"
    lines = "".join(f"        {line}\n" for line in before_return.splitlines())
    return f"import os, time\nimport tensorflow as tf\n{head}{call}{lines}{body}"


TABLE = (
    "import tensorflow as tf\n"
    "TABELA = tf.lookup.StaticHashTable(\n"
    "    tf.lookup.KeyValueTensorInitializer([1], [1.0]), 0.0)\n"
)
HANGING_SAVE = (
    "import sys, time\n"
    "for module in list(sys.modules.values()):\n"
    "    if hasattr(module, 'save_members'):\n"
    "        module.save_members = lambda members, folder: time.sleep(600)\n"
)
# the student's own save: each member's forward reads a file (the evaluator must refuse it)
FORGED_SAVE = """
import sys
import tensorflow as tf

def forjado(members, folder):
    root = tf.Module()
    root.members = []
    for member in members:
        shape = member.metadata["input"]["shape"]
        def ler(X):
            size = tf.strings.length(tf.io.read_file("/etc/hostname"))
            return tf.zeros([shape[0], 3]) + tf.cast(size, tf.float32)
        module = tf.Module()
        module.params, module.captured = list(member.module.params), []
        spec = [tf.TensorSpec(shape, tf.float32)]
        module.forward = tf.function(ler, input_signature=spec).get_concrete_function()
        root.members.append(module)
    tf.saved_model.save(root, folder, signatures={})
    return [{**member.metadata, "member": i} for i, member in enumerate(members)]

for module in list(sys.modules.values()):
    if hasattr(module, "save_members"):
        module.save_members = forjado
"""
NOTEBOOKS = {
    # os._exit while the batch-of-one layer is traced: the five before it wait for a save
    "cai_no_lote_um": [
        _reduction_with("if X.shape[0] == 1:\n    os._exit(1)"),
        _reference("FourierHalf"),
    ],
    # only the batch-of-one layer captures a lookup table, which TensorFlow cannot save
    "tabela_no_lote_um": [
        TABLE,
        _reduction_with("if X.shape[0] == 1:\n    X = X * TABELA.lookup(tf.constant(1))"),
    ],
    "salvar_trava": [_reference("TensorReduction"), HANGING_SAVE],
    "salvar_forjado": [_reference("TensorReduction"), FORGED_SAVE],
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, helpers):
    folder = tmp_path_factory.mktemp("entregas")
    out = tmp_path_factory.mktemp("notas")
    for name, cells in NOTEBOOKS.items():
        helpers.write_notebook(folder / f"{name}.ipynb", [f"%%tab tensorflow\n{c}" for c in cells])
    args = [str(folder), "--out", str(out), "--seed", str(SEED), "--check-timeout", "3"]
    done = helpers.run_cli([*args, "--jobs", "2"])
    assert done.returncode == 0, done.stderr[-3000:]
    return {name: helpers.read_results(out, name) for name in NOTEBOOKS}


def _reduction(results: dict) -> dict[str, dict]:
    """``check key -> results.json test`` of TensorReduction."""
    by_title = {}
    for test in results["tests"]:
        exercise, _, rest = test["name"].partition(" · ")
        if exercise == "TensorReduction":
            by_title[rest] = test
    found = {}
    for key, title in TITLES.items():
        found[key] = next(test for name, test in by_title.items() if title in name)
    return found


def test_a_crash_in_one_trace_leaves_the_layers_traced_before_it(graded, helpers):
    tests = _reduction(graded["cai_no_lote_um"])
    before = ["shape", "values", "new_weight", "weight_grad", "input_grad"]
    for key in before:
        assert tests[key]["score"] == tests[key]["max_score"], (key, tests[key]["output"])
    assert tests["batch_one"]["score"] == 0 and "código de saída 1" in tests["batch_one"]["output"]
    assert "não executada" in tests["parameter"]["output"]
    assert helpers.exercise_scores(graded["cai_no_lote_um"])["FourierHalf"] == 10.0


def test_a_layer_that_cannot_be_saved_fails_alone(graded):
    tests = _reduction(graded["tabela_no_lote_um"])
    assert "não conseguiu salvar o grafo" in tests["batch_one"]["output"]
    for key, test in tests.items():
        if key != "batch_one":
            assert test["score"] == test["max_score"], (key, test["output"])


def test_a_hanging_save_costs_one_timeout(graded):
    tests = _reduction(graded["salvar_trava"])
    outputs = [tests[key]["output"] for key in TITLES]
    assert "tempo esgotado" in outputs[0], outputs[0]
    assert all("não executada" in output for output in outputs[1:]), outputs


def test_a_save_the_student_replaced_is_refused_before_loading(graded):
    for key, test in _reduction(graded["salvar_forjado"]).items():
        assert test["score"] == 0, key
        assert "grafo recusado pelo corretor" in test["output"], (key, test["output"])
        assert "ReadFile" in test["output"], (key, test["output"])
