"""Run an exercise's checks on a layer class in the current process.

This is the runner behind ``grading.notebook.check``: fine in the learner's own kernel,
never used for grading (student code could patch anything in this process).
"""

from __future__ import annotations

from grading import checks, ipc
from grading.child.probe import run_probe
from grading.results import ExerciseResult


def run_checks(layer_class: type, exercise: str, framework: str, seed: int) -> ExerciseResult:
    """Apply every check of ``exercise`` to ``layer_class`` and judge the answers."""
    results = []
    for check in checks.checks_for(exercise):
        request = check.request(seed)
        response = ipc.sanitize_response(run_probe(layer_class, framework, request))
        results.append(check.evaluate(request, response, framework))
    return ExerciseResult(exercise, framework, tuple(results))
