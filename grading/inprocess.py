"""Run an exercise's checks on a layer class in the current process.

This is the runner behind ``grading.notebook.check``: it exports the layer exactly as the
student process of the grader does (``grading.child.export_<framework>``) and applies the
graph exactly as the evaluator does (``grading.evaluator``), so a learner meets the same
messages, a layer that cannot be exported included. It is fine in the learner's own
kernel and never used for grading (student code could patch anything in this process).
"""

from __future__ import annotations

import importlib
import json
import tempfile

from grading import checks, ipc
from grading.child.exportable import export_one
from grading.evaluator.apply import apply_graph
from grading.results import ExerciseResult
from grading.runs import export_spec


def probe(layer_class: type, framework: str, probe_id: str, request: dict) -> dict:
    """Export ``layer_class`` for ``request``'s shapes, then evaluate it on ``request``."""
    exporter = importlib.import_module(f"grading.child.export_{framework}")
    evaluator = importlib.import_module(f"grading.evaluator.eval_{framework}")
    with tempfile.TemporaryDirectory(prefix="check-") as folder:
        spec = export_spec(probe_id, framework, request)
        exported = json.loads(json.dumps(export_one(exporter, layer_class, spec, folder)))
        if "error" in exported:
            return ipc.sanitize_response(exported)
        raw = apply_graph(evaluator, folder, exported["metadata"], request)
    return ipc.sanitize_response(raw)


def run_checks(layer_class: type, exercise: str, framework: str, seed: int) -> ExerciseResult:
    """Apply every check of ``exercise`` to ``layer_class`` and judge the answers."""
    results = []
    for check in checks.checks_for(exercise):
        request = check.request(seed)
        response = probe(layer_class, framework, check.key, request)
        results.append(check.evaluate(request, response, framework))
    return ExerciseResult(exercise, framework, tuple(results))
