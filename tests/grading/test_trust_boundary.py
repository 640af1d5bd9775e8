"""The trust boundary: the evaluator applies graphs, never student code, behind an allow-list.

PyTorch cases; the MXNet and TensorFlow loaders have their own files
(``test_graph_mxnet.py``, ``test_graph_tensorflow.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from grading import checks, grader, runs, sandbox
from grading.child import export_pytorch
from grading.child.exportable import NotExportable
from grading.evaluator import eval_pytorch
from grading.evaluator.refusal import GraphRefused
from grading.notebook import check
from solutions import catalogue, reference


def _load(source: str, name: str) -> type:
    namespace: dict = {}
    exec(compile(textwrap.dedent(source), f"<{name}>", "exec"), namespace)
    return namespace[name]


def _scripted(tmp_path, module: torch.nn.Module):
    torch.jit.save(torch.jit.script(module), tmp_path / "layer.pt")
    return str(tmp_path)


def _request(key: str = "new_weight", exercise: str = "TensorReduction") -> dict:
    chosen = next(c for c in checks.checks_for(exercise) if c.key == key)
    return chosen.request(5)


class Reader(torch.nn.Module):
    def forward(self, X):
        data = torch.from_file("/etc/hostname", False, 4, dtype=torch.uint8)
        return X + data.sum().float()


class Looper(torch.nn.Module):
    def forward(self, X):
        i = 0
        while i < 3:
            X = X + 1
            i += 1
        return X


class WithState(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(3))

    def forward(self, X):
        return X * self.weight.sum()

    @torch.jit.export
    def __getstate__(self):
        return (self.weight, self.training)

    @torch.jit.export
    def __setstate__(self, state: tuple[torch.Tensor, bool]):
        self.weight = state[0]
        self.training = state[1]


def test_a_file_reading_op_is_refused_before_the_graph_runs(tmp_path):
    folder = _scripted(tmp_path, Reader())
    with pytest.raises(GraphRefused, match="aten::from_file"):
        eval_pytorch.evaluate(folder, {"weight": None}, _request("shape", "FourierHalf"))


def test_control_flow_is_refused(tmp_path):
    with pytest.raises(GraphRefused, match="prim::Loop"):
        eval_pytorch.load(_scripted(tmp_path, Looper()))


def test_a_setstate_method_is_refused_before_torch_loads_the_archive(tmp_path, monkeypatch):
    folder = _scripted(tmp_path, WithState())

    def never(*args, **kwargs):
        raise AssertionError("torch.jit.load ran on an unchecked archive")

    monkeypatch.setattr(torch.jit, "load", never)
    with pytest.raises(GraphRefused, match="métodos"):
        eval_pytorch.load(folder)


def test_a_link_or_a_foreign_entry_is_refused(tmp_path):
    (tmp_path / "layer.pt").symlink_to("/etc/hostname")
    with pytest.raises(GraphRefused):
        eval_pytorch.load(str(tmp_path))


def test_the_reference_round_trips_and_follows_the_weight_it_is_given(tmp_path):
    layer_class = _load(catalogue.reference_source("TensorReduction", "pytorch"), "TensorReduction")
    request = _request("weight_grad")
    spec = runs.export_spec("tr", "pytorch", request)
    metadata = export_pytorch.export_layer(layer_class, "TensorReduction", spec, str(tmp_path))
    response = eval_pytorch.evaluate(str(tmp_path), metadata, request)
    W, X, G = request["set_weight"], request["X"], request["grad_output"]
    np.testing.assert_allclose(response["output"], reference.tensor_reduction(W, X), rtol=1e-4)
    np.testing.assert_allclose(
        response["grad_weight"], reference.tensor_reduction_weight_grad(X, G), rtol=1e-4
    )
    np.testing.assert_allclose(
        response["grad_X"], reference.tensor_reduction_input_grad(W, X, G), rtol=1e-4, atol=1e-5
    )
    assert response["params"] == [{"name": "weight", "shape": list(W.shape), "trainable": True}]


FORGERS = {
    # no framework at all: classes that only claim to be torch modules
    "fake_module": """
        class TensorReduction:
            __module__ = "torch.nn"
            def __init__(self, *args):
                pass
            def __call__(self, X):
                return X
    """,
    # the answer computed with NumPy, handed back as a tensor
    "numpy_forward": """
        import numpy, torch
        from torch import nn
        class TensorReduction(nn.Module):
            def __init__(self, i, u):
                super().__init__()
                self.weight = nn.Parameter(torch.randn(i, i, u))
            def forward(self, X):
                W, x = self.weight.detach().numpy(), X.detach().numpy()
                return torch.tensor(numpy.einsum("ijk,bi,bj->bk", W, x, x))
    """,
    # gradients written by hand in a custom backward
    "hand_gradients": """
        import torch
        from torch import nn
        class Forged(torch.autograd.Function):
            @staticmethod
            def forward(ctx, X, W):
                ctx.save_for_backward(X, W)
                return torch.einsum("bi,bj,ijk->bk", X, X, W)
            @staticmethod
            def backward(ctx, grad):
                X, W = ctx.saved_tensors
                return torch.ones_like(X), torch.ones_like(W)
        class TensorReduction(nn.Module):
            def __init__(self, i, u):
                super().__init__()
                self.weight = nn.Parameter(torch.randn(i, i, u))
            def forward(self, X):
                return Forged.apply(X, self.weight)
    """,
}


@pytest.mark.parametrize("name", FORGERS)
def test_forged_layers_earn_nothing_on_values_and_gradients(name):
    report = check(_load(FORGERS[name], "TensorReduction"), seed=3)
    earned = {c.key for c in report.result.checks if c.passed}
    assert not earned & {"values", "new_weight", "weight_grad", "input_grad", "batch_one"}, repr(
        report
    )


def test_a_value_dependent_forward_cannot_be_exported():
    layer_class = _load(
        """
        import torch
        from torch import nn
        class FourierHalf(nn.Module):
            def forward(self, X):
                if X.sum() > 0:
                    return torch.fft.rfft(X)[..., : (X.shape[-1] + 1) // 2]
                return torch.fft.fft(X)[..., : (X.shape[-1] + 1) // 2]
        """,
        "FourierHalf",
    )
    spec = {"id": "x", "exercise": "FourierHalf", "shape": [64, 6], "dtype": "float32"}
    with pytest.raises(NotExportable, match="valores da entrada"):
        export_pytorch.export_layer(layer_class, "FourierHalf", spec, "/nonexistent")


EVALUATE_ALONE = """
import json, sys
import numpy as np
from grading.evaluator import eval_pytorch
request = {key: np.array(value, dtype=np.float32) for key, value in json.loads(sys.argv[2]).items()}
request.update(exercise="TensorReduction", want_grad=False, set_weight=None)
response = eval_pytorch.evaluate(sys.argv[1], json.loads(sys.argv[3]), request)
print(json.dumps({"imported": sorted(m for m in sys.modules if "aluno" in m),
                  "output": response["output"].tolist()}))
"""


def test_the_evaluator_runs_the_graph_without_the_students_module(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "aluno_camadas.py").write_text(
        catalogue.reference_source("TensorReduction", "pytorch")
    )
    sys.path.insert(0, str(source))
    try:
        import aluno_camadas  # a module only the student's side can import
    finally:
        sys.path.remove(str(source))
        sys.modules.pop("aluno_camadas", None)
    exported = tmp_path / "graph"
    exported.mkdir()
    spec = {"sizes": {"in_units": 3, "units": 2, "batch": 2}, "shape": [2, 3], "dtype": "float32"}
    metadata = export_pytorch.export_layer(
        aluno_camadas.TensorReduction, "TensorReduction", spec, str(exported)
    )
    X = np.arange(6, dtype=np.float32).reshape(2, 3) / 7
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            EVALUATE_ALONE,
            str(exported),
            json.dumps({"X": X.tolist()}),
            json.dumps(metadata),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["imported"] == []
    traced_weight = torch.jit.load(str(exported / "layer.pt")).weight.detach().numpy()
    expected = reference.tensor_reduction(traced_weight, X)
    np.testing.assert_allclose(result["output"], expected, rtol=1e-4, atol=1e-6)


def test_the_evaluator_gets_graphs_and_inputs_and_the_student_gets_neither(
    tmp_path, monkeypatch, helpers
):
    marker = "# MARCA-DO-ALUNO-7f3a"
    cells = [
        f"%%tab pytorch\n{marker}\n" + catalogue.reference_source(e, "pytorch")
        for e in catalogue.EXERCISES
    ]
    notebook = helpers.write_notebook(tmp_path / "aluno.ipynb", cells)
    calls = []
    original = sandbox.Sandbox.run

    def spy(self, program, config, folders, *args, **kwargs):
        calls.append((program, json.dumps(config), {n: w for n, (_, w) in folders.items()}))
        return original(self, program, config, folders, *args, **kwargs)

    monkeypatch.setattr(sandbox.Sandbox, "run", spy)
    report = grader.grade_submission(notebook, grader.GradeOptions(seed=11))
    assert report.score == 20.0, report.notes
    probes = grader._probes(["pytorch"], 11)
    values = [
        f"{float(array.flat[0]):.6f}"[:8]
        for _, _, request in probes.values()
        for array in request.values()
        if isinstance(array, np.ndarray)
    ]
    student = [c for c in calls if c[0] == "child"]
    evaluator = [c for c in calls if c[0] == "evaluator"]
    assert student and evaluator
    for _, config, folders in student:
        assert marker in config and "requests" not in folders
        assert not any(value in config for value in values)
    for _, config, folders in evaluator:
        assert marker not in config and "TensorReduction(nn.Module)" not in config
        assert folders == {"work": True, "exports": False, "requests": False, "responses": True}
