"""Run one submission's two sandboxed processes: the student process, then the evaluator.

The *student process* (``grading/child``) runs the cells and exports each layer as a
framework graph for every probe's shapes (``export_spec``: never a probe value). The
*evaluator* (``grading/evaluator``), which never runs student code, applies the graphs to
the trusted requests. Either may be started more than once: when an export or an
evaluation hangs or kills the process, that class's remaining probes are scored as not
run (one timeout per class, not one per check) and a fresh process handles the others; a
cell that ends the process is skipped and the cells run again. Everything the processes
write is untrusted data, read through ``grading.ipc``.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from frametabs.frameworks import FRAMEWORKS
from grading import checks, ipc
from grading.sandbox import ChildRun, Limits, Sandbox


def export_spec(probe_id: str, framework: str, request: dict[str, Any]) -> dict[str, Any]:
    """What the student process may know of a probe: shapes and sizes, never values."""
    X = request["X"]
    return {
        "id": probe_id,
        "exercise": request["exercise"],
        "framework": framework,
        "sizes": request.get("sizes"),
        "shape": list(X.shape),
        "dtype": str(X.dtype),
    }


NOT_RUN = "não executada: uma verificação anterior desta classe travou ou derrubou o processo"


def _failure(run: ChildRun, limits: Limits, who: str) -> tuple[str, str]:
    """Status and Portuguese message for a process that did not finish."""
    if run.killed_for == "deadline":
        return "timeout", f"tempo esgotado: a correção passou de {limits.submission_timeout:g} s"
    if run.killed_for == "stalled":
        return "timeout", f"tempo esgotado: {who} ficou preso (laço infinito?)"
    code = run.returncode
    if code is not None and code < 0:
        return "crashed", f"{who} foi encerrado pelo sinal {-code}"
    return "crashed", f"{who} terminou antes da hora (código de saída {code})"


@dataclass
class RunState:
    """Mutable state while grading one submission."""

    exports: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> meta or error
    responses: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: dict[str, tuple[str, str]] = field(default_factory=dict)
    found: set[tuple[str, str]] = field(default_factory=set)
    cell_errors: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    status: str = "ok"
    timings: dict[str, float] = field(default_factory=dict)
    log: str = ""
    starts: int = 0  # student processes started, each with its own progress file
    spared: set[str] = field(default_factory=set)  # given another start once already


def _add_time(state: RunState, name: str, begin: Any, end: Any) -> None:
    if isinstance(begin, float) and isinstance(end, float) and end >= begin:
        state.timings[name] = state.timings.get(name, 0.0) + min(end - begin, 1e6)


def _record_timings(state: RunState, run: ChildRun, launched: float, names: dict[str, str]) -> None:
    """Spans between the events named in ``names`` (event -> span name), from the child."""
    times: dict[str, float] = {}
    for event in run.events:
        stamp = event.get("time")
        if isinstance(stamp, float) and math.isfinite(stamp):
            times.setdefault(event["event"], stamp)
    previous = launched
    for event, span in names.items():
        if event in times:
            _add_time(state, span, previous, times[event])
            previous = times[event]


def _short(value: Any, limit: int = 60) -> str:
    """Untrusted data from the child as a short string."""
    return str(value)[:limit]


def _record_cells(state: RunState, events: list[dict[str, Any]], first: bool) -> None:
    """Classes found and cell errors (each once), import failures (first run only)."""
    for event in events:
        kind = event["event"]
        if kind == "classes" and type(event.get("found")) is list:
            for key in event["found"]:
                if (
                    type(key) is list
                    and len(key) == 2
                    and key[0] in checks.EXERCISES
                    and key[1] in FRAMEWORKS
                ):
                    state.found.add((key[0], key[1]))
        if kind == "cell_error" and isinstance(event.get("error"), dict):
            error = event["error"]
            line = error.get("line")
            where = (_short(event.get("cell")), _short(event.get("namespace")))
            if any((e["cell"], e["namespace"]) == where for e in state.cell_errors):
                continue
            state.cell_errors.append(
                {
                    "cell": _short(event.get("cell")),
                    "namespace": _short(event.get("namespace")),
                    "type": _short(error.get("type")),
                    "message": _short(error.get("message"), 400),
                    "line": line if type(line) is int else None,
                }
            )
        if kind == "import_failed" and first:
            name, error = _short(event.get("framework")), _short(event.get("error"), 400)
            state.notes.append(f"falha ao importar {name}: {error}")


def _progress(events: list[dict[str, Any]], start: str, done: str) -> tuple[list[str], list[str]]:
    """Ids announced done, and those started and never done, in the order they started.

    The last of the second list is the culprit of a hang or a crash. The others were
    waiting for a save shared with it (``grading/child/harness.py``): they are not to blame.
    """
    started: dict[str, None] = {}  # ordered sets: a hostile log may hold many ids
    finished: dict[str, None] = {}
    for event in events:
        name = event.get("id")
        if not isinstance(name, str):
            continue
        if event["event"] == start:
            started.setdefault(name)
        elif event["event"] == done and name in started:
            finished.setdefault(name)
    return list(finished), [name for name in started if name not in finished]


def scrub_log(text: str, root: str) -> str:
    """The process's output without the grader's own frames or host paths.

    A traceback through the harness (``File "<root>/child/harness.py", line 9``) and the
    source line under it are dropped; any other mention of the sandbox's host folder is
    replaced, so no host path reaches a student.
    """
    kept: list[str] = []
    skip_source = False
    for line in text.split("\n"):
        if skip_source and line.startswith("    "):
            skip_source = False
            continue
        skip_source = False
        if root in line and line.lstrip().startswith("File "):
            skip_source = True
            continue
        kept.append(line.replace(root, "…"))
    return "\n".join(kept)


MAX_SKIPPED_CELLS = 3


def _last_cell(events: list[dict[str, Any]]) -> list[Any] | None:
    """``[index, namespace]`` of the cell that was running when the process stopped."""
    for event in reversed(events):
        if event["event"] == "cell":
            index, namespace = event.get("cell"), event.get("namespace")
            if type(index) is int and isinstance(namespace, str) and len(namespace) < 40:
                return [index, namespace]
            return None
    return None


def _class_of(probes: dict, probe_id: str) -> tuple[str, str]:
    _, framework, request = probes[probe_id]
    return request["exercise"], framework


def _after_failure(
    state: RunState,
    probes: dict,
    pending: list[str],
    run: ChildRun,
    unfinished: list[str],
    limits: Limits,
    who: str,
) -> list[str]:
    """Score a process that did not finish; the probes still worth another start.

    ``unfinished`` are the probes started and never done, the culprit last: its class's
    other probes are not run, except those that were only waiting for the culprit, which
    get one more start each (a process that keeps stopping cannot restart forever).
    """
    status, message = _failure(run, limits, who)
    state.status = status if state.status == "ok" else state.status
    culprit = unfinished[-1] if unfinished else None
    if culprit is None or culprit not in pending or run.killed_for == "deadline":
        state.notes.append(message)
        for probe_id in pending:
            state.failed.setdefault(probe_id, (status, message))
        return []
    state.failed[culprit] = (status, message)
    blamed = _class_of(probes, culprit)
    waiting = set(unfinished[:-1]) - state.spared
    state.spared |= waiting
    for probe_id in pending:
        if _class_of(probes, probe_id) == blamed and probe_id not in waiting:
            state.failed.setdefault(probe_id, (status, NOT_RUN))
    return [p for p in pending if p not in state.failed]


def graph_folder(probes: dict, probe_id: str, metadata: dict[str, Any]) -> str:
    """The folder of a probe's graph: the one its metadata names, if it is a probe of the
    same class (a class's layers saved together), else the probe's own."""
    bundle = metadata.get("bundle")
    if isinstance(bundle, str) and bundle in probes:
        return bundle if _class_of(probes, bundle) == _class_of(probes, probe_id) else probe_id
    return probe_id


STUDENT_SPANS = {
    "started": "child_start",
    "imported": "framework_import",
    "classes": "cells",
    "finished": "exports",
}
EVALUATOR_SPANS = {
    "started": "evaluator_start",
    "imported": "evaluator_import",
    "finished": "evaluation",
}


def _student_budget(limits: Limits):
    def budget(event: dict[str, Any] | None) -> float:
        kind = event["event"] if event else None
        if kind in (None, "started", "import_failed"):
            return limits.import_timeout + limits.grace
        if kind in ("classes", "export_start", "bundle_start", "export_done"):
            return limits.check_timeout + limits.grace
        if kind == "finished":
            return limits.grace
        return limits.cell_timeout + limits.grace

    return budget


def _evaluator_budget(limits: Limits):
    def budget(event: dict[str, Any] | None) -> float:
        kind = event["event"] if event else None
        if kind in (None, "started"):
            return limits.import_timeout + limits.grace
        if kind == "finished":
            return limits.grace
        return limits.check_timeout + limits.grace

    return budget


def run_student(
    sandbox: Sandbox,
    folders: dict,
    probes: dict,
    plan: dict,
    cells: list,
    limits: Limits,
    deadline: float,
    state: RunState,
    templates: Any = None,
    seed: int = 0,
) -> None:
    """Run the cells and export every probe's layer, restarting after a hang or a crash.

    With ``templates`` (a ``grading.templates.TemplatePool``) the student process is forked
    from a template that has imported the submission's frameworks.
    """
    pending = list(probes)
    attempt = 0
    skip: list[list[Any]] = []
    earlier_log = state.log  # of another framework's process
    while pending and time.monotonic() < deadline:
        attempt += 1
        state.starts += 1
        events = f"progress-{state.starts}.jsonl"
        config = {
            "seed": seed,
            "skip": skip,
            "frameworks": plan["preload"],
            "namespaces": plan["namespaces"],
            "exercises": plan["exercises"],
            "cells": cells,
            "specs": [export_spec(p, probes[p][1], probes[p][2]) for p in pending],
            "timeouts": {"cell": limits.cell_timeout, "check": limits.check_timeout},
            "progress": events,
        }
        launched = time.time()
        template = templates.get(plan["preload"]) if templates is not None else None
        if template is not None:  # waited for while the template imported, if it was new
            _add_time(state, "template_import", launched, time.time())
            launched = time.time()
        run = sandbox.run(
            "child",
            config,
            {"work": (folders["work"], True), "out": (folders["out"], True)},
            folders["out"] / events,
            deadline,
            _student_budget(limits),
            template=template,
        )
        _record_timings(state, run, launched, STUDENT_SPANS)
        dropped = f"\n[… {run.output_dropped} bytes omitidos]" if run.output_dropped else ""
        log = scrub_log(run.output, str(sandbox.root)) + dropped
        state.log = "\n".join(part for part in (earlier_log, log) if part)
        _record_cells(state, run.events, attempt == 1)
        done, unfinished = _progress(run.events, "export_start", "export_done")
        for probe_id in done:
            if probe_id in pending:
                state.exports[probe_id] = ipc.read_export(folders["out"], probe_id)
        searched = any(e["event"] == "classes" for e in run.events)
        pending = [
            p
            for p in pending
            if p not in state.exports and (not searched or _class_of(probes, p) in state.found)
        ]
        if not any(e["event"] == "started" for e in run.events) and run.killed_for is None:
            raise RuntimeError(f"o processo do aluno não iniciou: {run.output[-2000:]}")
        finished = any(e["event"] == "finished" for e in run.events)
        if finished and run.killed_for is None:
            hung = {
                _class_of(probes, p)
                for p, export in state.exports.items()
                if export.get("error", {}).get("type") == "SoftTimeout"
            }
            for probe_id in pending:
                if _class_of(probes, probe_id) in hung:
                    state.failed.setdefault(probe_id, ("timeout", NOT_RUN))
                else:
                    state.failed.setdefault(probe_id, ("crashed", "sem resposta do processo"))
            return
        if not searched:  # stopped in a cell: skip it and start again, a few times at most
            status, message = _failure(run, limits, "o processo do aluno")
            state.status = status if state.status == "ok" else state.status
            cell = _last_cell(run.events)
            if cell is None or len(skip) >= MAX_SKIPPED_CELLS:
                state.notes.append(message)
                return
            skip.append(cell)
            state.cell_errors.append(
                {
                    "cell": _short(cell[0]),
                    "namespace": _short(cell[1]),
                    "type": "ProcessoEncerrado",
                    "message": f"{message}; a célula foi pulada e as outras, executadas de novo",
                    "line": None,
                }
            )
            continue
        pending = _after_failure(
            state, probes, pending, run, unfinished, limits, "o processo do aluno"
        )
    for probe_id in pending:
        state.failed.setdefault(probe_id, ("timeout", "tempo esgotado antes desta verificação"))


def _evaluate_fresh(sandbox, folders, jobs, requests, limits, deadline, attempt):
    """A fresh evaluator process for this submission only; the run and its answers' folder."""
    for entry in os.scandir(folders["requests"]):
        os.unlink(entry.path)
    ipc.write_request_files(folders["requests"], requests)
    events = f"progress-{attempt}.jsonl"
    frameworks = [f for f in FRAMEWORKS if any(job["framework"] == f for job in jobs)]
    config = {
        "frameworks": frameworks,
        "jobs": jobs,
        "timeout": limits.check_timeout,
        "progress": events,
    }
    run = sandbox.run(
        "evaluator",
        config,
        {
            "work": (folders["eval_work"], True),
            "exports": (folders["out"], False),
            "requests": (folders["requests"], False),
            "responses": (folders["responses"], True),
        },
        folders["responses"] / events,
        deadline,
        _evaluator_budget(limits),
    )
    return run, folders["responses"]


def run_evaluator(
    sandbox: Sandbox,
    folders: dict,
    probes: dict,
    limits: Limits,
    deadline: float,
    state: RunState,
    pool: Any = None,
) -> None:
    """Apply every exported graph to its trusted request in the evaluator.

    With ``pool`` (a ``grading.serve.EvaluatorPool``) long-lived evaluators of the batch do
    it, one per framework (each forked from that framework's template); without, a fresh
    one started for this submission.
    """
    pending = [p for p, export in state.exports.items() if "metadata" in export]
    if pool is None:
        _evaluate(sandbox, folders, probes, pending, limits, deadline, state, None)
        return
    for framework in FRAMEWORKS:
        group = [p for p in pending if probes[p][1] == framework]
        if group:
            _evaluate(sandbox, folders, probes, group, limits, deadline, state, pool)


def _evaluate(sandbox, folders, probes, pending, limits, deadline, state, pool) -> None:
    """``run_evaluator`` for the probes ``pending``, restarting after a hang or a crash."""
    attempt = 0
    while pending and time.monotonic() < deadline:
        attempt += 1
        jobs = [
            {
                "id": p,
                "framework": probes[p][1],
                "metadata": state.exports[p]["metadata"],
                "folder": graph_folder(probes, p, state.exports[p]["metadata"]),
            }
            for p in pending
        ]
        requests = [{"id": p, **probes[p][2]} for p in pending]
        launched = time.time()
        if pool is None:
            run, answers = _evaluate_fresh(
                sandbox, folders, jobs, requests, limits, deadline, attempt
            )
            server = None
        else:
            server = pool.acquire([job["framework"] for job in jobs])
            run, answers = server.evaluate(
                folders["out"],
                jobs,
                requests,
                limits.check_timeout,
                deadline,
                _evaluator_budget(limits),
            )
        _record_timings(state, run, launched, EVALUATOR_SPANS)
        done, unfinished = _progress(run.events, "job_start", "job_done")
        for probe_id in done:
            response = ipc.read_response(answers, probe_id)
            if response is not None:
                state.responses[probe_id] = response
        if server is not None:
            server.discard(answers)
            pool.release(server)
        pending = [p for p in pending if p not in state.responses]
        if any(e["event"] == "finished" for e in run.events) and run.killed_for is None:
            break
        if not any(e["event"] == "imported" for e in run.events) and run.killed_for is None:
            raise RuntimeError(f"o avaliador não iniciou: {run.output[-2000:]}")
        pending = _after_failure(state, probes, pending, run, unfinished, limits, "o avaliador")
    for probe_id in pending:
        state.failed.setdefault(probe_id, ("timeout", "tempo esgotado antes desta verificação"))


def make_folders(sandbox: Sandbox) -> dict[str, Path]:
    """The student's scratch and exports, the trusted requests, the evaluator's folders."""
    return {
        "work": sandbox.folder("work", owner="student"),
        "out": sandbox.folder("out", owner="student", mode=0o755),
        "requests": sandbox.folder("requests", mode=0o755),
        "eval_work": sandbox.folder("eval_work", owner="evaluator"),
        "responses": sandbox.folder("responses", owner="evaluator"),
    }
