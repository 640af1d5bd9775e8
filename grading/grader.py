"""Grade one submission: parse it, run its processes (``grading.runs``), judge the arrays.

Data flows one way: the student process exports graphs, the evaluator applies them to the
trusted inputs, and this module judges the plain arrays it gets back against
``solutions.reference`` and chooses each exercise's best framework.
"""

from __future__ import annotations

import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from frametabs.frameworks import FRAMEWORKS, available_frameworks
from grading import checks, runs
from grading.results import LABELS, CheckResult, ExerciseResult
from grading.runs import RunState
from grading.sandbox import Limits, Sandbox
from grading.submission import SubmissionError, read_submission

AUTO = "auto"
INTERNAL_ERROR = "erro interno do corretor (o professor foi avisado; os detalhes não vão ao aluno)"
SHORT = {"TensorReduction": "tr", "FourierHalf": "fh"}


@dataclass(frozen=True)
class GradeOptions:
    """What the command line decides for every submission of a batch."""

    seed: int
    framework: str | None = None
    limits: Limits = field(default_factory=Limits)
    isolation: str | None = None  # None: the strongest available (see grading.sandbox)
    evaluators: Any = None  # a grading.serve.EvaluatorPool shared by the batch, or None
    templates: Any = None  # a grading.templates.TemplatePool shared by the batch, or None


@dataclass(frozen=True)
class ExerciseGrade:
    """The exercise's score: the best framework's result (None when no class was found)."""

    exercise: str
    chosen: ExerciseResult | None
    attempts: tuple[ExerciseResult, ...]
    message: str

    @property
    def score(self) -> float:
        return self.chosen.score if self.chosen else 0.0


@dataclass(frozen=True)
class SubmissionReport:
    """Everything the reports need about one graded submission."""

    submission_id: str
    path: str
    seed: int
    status: str  # ok | timeout | crashed | invalid | grader_error
    exercises: tuple[ExerciseGrade, ...]
    notes: tuple[str, ...]
    cell_errors: tuple[dict[str, Any], ...]
    isolation: str
    elapsed: float
    timings: dict[str, float]
    log: str

    @property
    def score(self) -> float:
        return round(sum(grade.score for grade in self.exercises), 4)

    @property
    def max_score(self) -> float:
        return 10.0 * len(checks.EXERCISES)


RESERVED_IDS = frozenset({"gradebook.csv", "manifest.json"})


def submission_id(path: Path) -> str:
    """The student's id: the file name without ``.ipynb``, never a name the batch uses.

    The id names the report folder ``out/<id>/``: an id equal to a reserved name (the
    gradebook), empty, or starting with ``.`` (``..``, temporary files) gets a ``_`` in
    front. Ids that already start with ``_`` get one too, so two files never share an id.
    """
    name = path.name.removesuffix(".ipynb")
    if name in RESERVED_IDS or name[:1] in ("", ".", "_"):
        return "_" + name
    return name


def _probe_id(exercise: str, framework: str, key: str) -> str:
    return f"{SHORT[exercise]}-{framework}-{key}"


def _probes(
    frameworks: list[str], seed: int
) -> dict[str, tuple[checks.Check, str, dict[str, Any]]]:
    """``probe id -> (check, framework, request)`` for every exercise and framework."""
    probes = {}
    for exercise in checks.EXERCISES:
        for check in checks.checks_for(exercise):
            request = check.request(seed)
            for framework in frameworks:
                probes[_probe_id(exercise, framework, check.key)] = (check, framework, request)
    return probes


def _judge(exercise: str, framework: str, probes: dict, state: RunState) -> ExerciseResult:
    results: list[CheckResult] = []
    for check in checks.checks_for(exercise):
        probe_id = _probe_id(exercise, framework, check.key)
        _, _, request = probes[probe_id]
        export = state.exports.get(probe_id, {})
        if probe_id in state.responses:
            results.append(check.evaluate(request, state.responses[probe_id], framework))
        elif "error" in export:
            results.append(check.evaluate(request, export, framework))
        else:
            status, message = state.failed.get(probe_id, ("crashed", "sem resposta do processo"))
            results.append(check.unanswered(framework, status, message))
    return ExerciseResult(exercise, framework, tuple(results))


def _choose(exercise: str, attempts: list[ExerciseResult], frameworks: list[str]) -> ExerciseGrade:
    if not attempts:
        where = ", ".join(LABELS[f] for f in frameworks) or "nenhum framework disponível"
        return ExerciseGrade(exercise, None, (), f"classe {exercise} não encontrada ({where})")
    best = max(attempts, key=lambda r: (r.score, -FRAMEWORKS.index(r.framework)))
    if best.not_implemented:
        message = "ainda não implementado"
    else:
        message = f"nota do melhor framework: {LABELS[best.framework]}"
    return ExerciseGrade(exercise, best, tuple(attempts), message)


def _plan(submission, options: GradeOptions, state: RunState) -> dict[str, list[str]]:
    installed = available_frameworks({})
    named = list(submission.frameworks)
    for framework in named:
        if framework not in installed:
            state.notes.append(
                f"{LABELS[framework]} não está instalado no ambiente de correção: "
                "as células desse framework não foram executadas"
            )
    wanted = [options.framework] if options.framework else list(FRAMEWORKS)
    if named:
        frameworks = [f for f in named if f in installed and f in wanted]
        namespaces = list(frameworks)
    else:
        frameworks = [f for f in installed if f in wanted]
        namespaces = [AUTO]
    return {
        "frameworks": frameworks,
        "namespaces": namespaces,
        "exercises": list(checks.EXERCISES),
        "preload": frameworks if named else [],
    }


def _student_processes(plan: dict[str, list[str]]) -> list[dict[str, list[str]]]:
    """One student process per framework the notebook names, one after the other.

    Each imports only its framework and runs only the cells of that framework's tab (and the
    shared ones), in the same scratch folder: a tab that crashes or hangs costs only its own
    checks, and a batch needs one template per framework, never one per set of them. A
    notebook that names none runs in one process, which finds the classes' frameworks.
    """
    if len(plan["preload"]) <= 1:
        return [plan]
    return [{**plan, "frameworks": [f], "namespaces": [f], "preload": [f]} for f in plan["preload"]]


def grade_submission(path: Path, options: GradeOptions) -> SubmissionReport:
    """Grade one notebook; never raises for anything the submission does."""
    started = time.monotonic()
    state = RunState()
    sandbox = None
    isolation = "-"
    grades: list[ExerciseGrade] = []
    try:
        submission = read_submission(path)
        state.notes.extend(submission.notes)
        plan = _plan(submission, options, state)
        probes = _probes(plan["frameworks"], options.seed)
        if plan["frameworks"] and submission.cells:
            mode = {"mode": options.isolation} if options.isolation else {}
            sandbox = Sandbox(options.limits, **mode)
            isolation = sandbox.mode
            folders = runs.make_folders(sandbox)
            cells = [
                {"index": c.index, "namespaces": list(c.namespaces), "code": c.code}
                for c in submission.cells
            ]
            deadline = started + options.limits.submission_timeout
            for part in _student_processes(plan):
                runs.run_student(
                    sandbox,
                    folders,
                    {p: probe for p, probe in probes.items() if probe[1] in part["frameworks"]},
                    part,
                    cells,
                    options.limits,
                    deadline,
                    state,
                    options.templates,
                    options.seed,
                )
            runs.run_evaluator(
                sandbox, folders, probes, options.limits, deadline, state, options.evaluators
            )
        for exercise in checks.EXERCISES:
            attempts = [
                _judge(exercise, framework, probes, state)
                for framework in plan["frameworks"]
                if (exercise, framework) in state.found
            ]
            grades.append(_choose(exercise, attempts, plan["frameworks"]))
        timed_out = any(
            check.status == "timeout" for g in grades if g.chosen for check in g.chosen.checks
        )
        if timed_out and state.status == "ok":
            state.status = "timeout"
    except SubmissionError as error:
        state.status = "invalid"
        state.notes.append(f"notebook inválido: {error}")
        message = f"notebook inválido: {error}"
        grades = [ExerciseGrade(e, None, (), message) for e in checks.EXERCISES]
    except Exception:  # a bug of the grader: reported to the instructor, never hidden
        state.status = "grader_error"
        state.notes.append(INTERNAL_ERROR)
        print(f"erro interno do corretor em {path}:\n{traceback.format_exc()}", file=sys.stderr)
        grades = [ExerciseGrade(e, None, (), "erro interno do corretor") for e in checks.EXERCISES]
    finally:
        if sandbox is not None:
            sandbox.close()
    return SubmissionReport(
        submission_id=submission_id(path),
        path=str(path),
        seed=options.seed,
        status=state.status,
        exercises=tuple(grades),
        notes=tuple(state.notes),
        cell_errors=tuple(state.cell_errors),
        isolation=isolation,
        elapsed=time.monotonic() - started,
        timings=state.timings,
        log=state.log,
    )
