"""Grade one submission: parse it, run the child, judge the plain arrays it returns.

The child may be started more than once: when a probe hangs or kills the process, the
probes of that same class are scored as timed out or crashed and a fresh child runs the
remaining probes, so one bad class never costs the other exercise its points.
"""

from __future__ import annotations

import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from frametabs.frameworks import FRAMEWORKS, available_frameworks
from grading import checks, ipc
from grading.results import LABELS, CheckResult, ExerciseResult
from grading.sandbox import ChildRun, Limits, Sandbox
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
    hide: tuple[str, ...] = ()
    isolation: str | None = None  # None: the strongest available (see grading.sandbox)


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


RESERVED_IDS = frozenset({"gradebook.csv"})


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


def _write_requests(sandbox: Sandbox, probes: dict, pending: list[str]) -> None:
    entries = []
    for probe_id in pending:
        _, framework, request = probes[probe_id]
        entries.append({"id": probe_id, "framework": framework, **request})
    ipc.write_request_files(sandbox.requests, entries)


PROTOCOL_ERROR = "dados fora do protocolo vindos do processo (resultados forjados?)"
BEFORE_CLASSES = frozenset({"started", "import_failed", "imported", "cell_start", "cell_done"})


@dataclass
class _Protocol:
    """What the child's event log proves, read strictly in protocol order.

    The log is written by a process that also runs student code, so it is untrusted:
    exactly one ``classes`` event (after the cell events), then one ``probe_start`` /
    ``probe_done`` pair per announced probe, in request order, then ``finished``. A
    response counts only for a probe in ``done``; anything else is a ``violation``.
    """

    before: list[dict[str, Any]] = field(default_factory=list)
    found: set[tuple[str, str]] | None = None
    done: list[str] = field(default_factory=list)
    open: str | None = None
    finished: bool = False
    violation: bool = False


def _read_protocol(events: list[dict[str, Any]], pending: list[str], probes: dict) -> _Protocol:
    proto = _Protocol()
    frameworks = {probes[p][1] for p in pending}
    expected: list[str] = []
    for event in events:
        kind = event.get("event")
        if proto.found is None:
            if kind in BEFORE_CLASSES:
                proto.before.append(event)
                continue
            found = event.get("found") if kind == "classes" else None
            keys = [tuple(k) for k in found if isinstance(k, list)] if type(found) is list else []
            if (
                kind != "classes"
                or type(found) is not list
                or len(found) > len(checks.EXERCISES) * len(frameworks)
                or len(keys) != len(found)
                or not all(
                    len(k) == 2 and k[0] in checks.EXERCISES and k[1] in frameworks for k in keys
                )
            ):
                proto.violation = True
                return proto
            proto.found = set(keys)
            expected = [p for p in pending if (probes[p][2]["exercise"], probes[p][1]) in keys]
            continue
        position = len(proto.done)
        if proto.finished:
            proto.violation = True
        elif kind == "probe_start" and proto.open is None and position < len(expected):
            if event.get("id") != expected[position]:
                proto.violation = True
            proto.open = expected[position]
        elif kind == "probe_done" and proto.open is not None and event.get("id") == proto.open:
            proto.done.append(proto.open)
            proto.open = None
        elif kind == "finished" and proto.open is None and position == len(expected):
            proto.finished = True
        else:
            proto.violation = True
        if proto.violation:
            proto.open = None
            return proto
    return proto


def _failure(run: ChildRun, limits: Limits) -> tuple[str, str]:
    """Status and Portuguese message for a child that did not finish."""
    if run.killed_for == "deadline":
        return "timeout", f"tempo esgotado: a correção passou de {limits.submission_timeout:g} s"
    if run.killed_for == "stalled":
        return "timeout", "tempo esgotado: o código ficou preso (laço infinito?)"
    code = run.returncode
    if code is not None and code < 0:
        return "crashed", f"o processo foi encerrado pelo sinal {-code}"
    return "crashed", f"o processo terminou antes da hora (código de saída {code})"


@dataclass
class _Run:
    """Mutable state while grading one submission."""

    responses: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: dict[str, tuple[str, str]] = field(default_factory=dict)
    found: set[tuple[str, str]] = field(default_factory=set)
    cell_errors: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    status: str = "ok"
    timings: dict[str, float] = field(default_factory=dict)
    log: str = ""


def _record_timings(state: _Run, run: ChildRun, launched: float) -> None:
    times = {e["event"]: e.get("time") for e in run.events}
    started = next((e.get("at") for e in run.events if e["event"] == "started"), None)
    spans = {
        "child_start": (launched, started),
        "framework_import": (started, times.get("imported")),
        "cells": (times.get("imported"), times.get("classes")),
        "probes": (times.get("classes"), times.get("finished")),
    }
    for name, (begin, end) in spans.items():
        if isinstance(begin, float) and isinstance(end, float):
            state.timings[name] = state.timings.get(name, 0.0) + max(end - begin, 0.0)


def _short(value: Any, limit: int = 60) -> str:
    """Untrusted data from the child as a short string."""
    return str(value)[:limit]


def _record_events(state: _Run, proto: _Protocol, first: bool) -> None:
    """Classes found (every run), cell errors and import failures (first run only)."""
    state.found.update(proto.found or ())
    for event in proto.before:
        kind = event["event"]
        if first and kind == "cell_done" and isinstance(event.get("error"), dict):
            error = event["error"]
            line = error.get("line")
            state.cell_errors.append(
                {
                    "cell": _short(event.get("cell")),
                    "namespace": _short(event.get("namespace")),
                    "type": _short(error.get("type")),
                    "message": _short(error.get("message"), 400),
                    "line": line if type(line) is int else None,
                }
            )
        if first and kind == "import_failed":
            name, error = _short(event.get("framework")), _short(event.get("error"), 400)
            state.notes.append(f"falha ao importar {name}: {error}")


def _run_child(
    sandbox: Sandbox,
    probes: dict,
    plan: dict[str, list[str]],
    limits: Limits,
    deadline: float,
    state: _Run,
) -> None:
    pending = list(probes)
    first = True
    while pending and time.monotonic() < deadline:
        _write_requests(sandbox, probes, pending)
        launched = time.time()
        run = sandbox.run(plan["frameworks"], plan["namespaces"], plan["exercises"], deadline)
        _record_timings(state, run, launched)
        dropped = f"\n[… {run.output_dropped} bytes omitidos]" if run.output_dropped else ""
        state.log = run.output + dropped
        proto = _read_protocol(run.events, pending, probes)
        _record_events(state, proto, first)
        first = False
        for probe_id in proto.done:
            response = ipc.read_response(sandbox.responses, probe_id)
            if response is not None:
                state.responses[probe_id] = response
        pending = [p for p in pending if p not in state.responses]
        if proto.violation:
            state.status = "crashed"
            state.notes.append(PROTOCOL_ERROR)
            for probe_id in pending:
                state.failed[probe_id] = ("crashed", PROTOCOL_ERROR)
            return
        if proto.finished and run.killed_for is None:
            for probe_id in pending:  # announced as done, but no readable response
                state.failed.setdefault(probe_id, ("crashed", "sem resposta do processo"))
            return
        if not any(e["event"] == "started" for e in run.events) and run.killed_for is None:
            raise RuntimeError(f"o processo filho não iniciou: {run.output[-2000:]}")
        status, message = _failure(run, limits)
        state.status = status if state.status == "ok" else state.status
        culprit = proto.open
        if culprit is None or run.killed_for == "deadline":
            state.notes.append(message)
            for probe_id in pending:
                state.failed[probe_id] = (status, message)
            return
        _, framework, request = probes[culprit]
        state.failed[culprit] = (status, message)
        state.found.add((request["exercise"], framework))
        for probe_id in pending:
            _, other_framework, other = probes[probe_id]
            if (other["exercise"], other_framework) == (request["exercise"], framework):
                skipped = "não executada: uma verificação anterior desta classe falhou"
                state.failed.setdefault(probe_id, (status, skipped))
        pending = [p for p in pending if p not in state.failed]
    for probe_id in pending:
        state.failed[probe_id] = ("timeout", "tempo esgotado antes desta verificação")


def _judge(exercise: str, framework: str, probes: dict, state: _Run) -> ExerciseResult:
    results: list[CheckResult] = []
    for check in checks.checks_for(exercise):
        probe_id = _probe_id(exercise, framework, check.key)
        _, _, request = probes[probe_id]
        if probe_id in state.responses:
            results.append(check.evaluate(request, state.responses[probe_id], framework))
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


def _plan(submission, options: GradeOptions, state: _Run) -> dict[str, list[str]]:
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


def grade_submission(path: Path, options: GradeOptions) -> SubmissionReport:
    """Grade one notebook; never raises for anything the submission does."""
    started = time.monotonic()
    state = _Run()
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
            sandbox = Sandbox(options.limits, hide=options.hide, **mode)
            isolation = sandbox.mode
            sandbox.write(
                "cells.json",
                [
                    {"index": c.index, "namespaces": list(c.namespaces), "code": c.code}
                    for c in submission.cells
                ],
            )
            deadline = started + options.limits.submission_timeout
            run_plan = {**plan, "frameworks": plan["preload"]}
            _run_child(sandbox, probes, run_plan, options.limits, deadline, state)
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
