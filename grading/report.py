"""Per-submission reports: ``results.json`` (Gradescope's format) and ``feedback.md``.

Both are in Portuguese and depend only on the submission and the seed, except the
fields that hold times (``execution_time`` and ``extra_data.timings``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from grading import checks
from grading.grader import SubmissionReport
from grading.results import LABELS, points

STATUS_TEXT = {
    "ok": "corrigida",
    "timeout": "tempo esgotado em parte da correção",
    "crashed": "o processo da submissão terminou de forma anormal",
    "invalid": "notebook inválido",
    "grader_error": "erro interno do corretor",
}
LOG_LIMIT = 4000


def _summary(report: SubmissionReport) -> str:
    lines = [
        f"Nota: {points(report.score)}/{points(report.max_score)} "
        f"({STATUS_TEXT.get(report.status, report.status)}); semente {report.seed}.",
    ]
    for grade in report.exercises:
        lines.append(f"{grade.exercise}: {points(grade.score)}/10 ({grade.message})")
    lines.extend(report.notes)
    for error in report.cell_errors:
        where = f", linha {error['line']}" if error.get("line") else ""
        lines.append(
            f"A célula {error.get('cell')} ({error.get('namespace')}{where}) levantou "
            f"{error.get('type')}: {error.get('message')}"
        )
    return "\n".join(lines)


def results_json(report: SubmissionReport) -> dict[str, Any]:
    """The Gradescope ``results.json`` document."""
    tests = []
    for grade in report.exercises:
        if grade.chosen is not None:
            label = LABELS[grade.chosen.framework]
            for check in grade.chosen.checks:
                tests.append(
                    {
                        "name": f"{grade.exercise} · {label} · {check.title}",
                        "score": check.points,
                        "max_score": check.max_points,
                        "status": "passed" if check.passed else "failed",
                        "output": "ok" if check.passed else check.message,
                        "visibility": "visible",
                    }
                )
            continue
        for check in checks.checks_for(grade.exercise):
            tests.append(
                {
                    "name": f"{grade.exercise} · — · {check.title}",
                    "score": 0.0,
                    "max_score": check.points,
                    "status": "failed",
                    "output": grade.message,
                    "visibility": "visible",
                }
            )
    return {
        "score": report.score,
        "execution_time": round(report.elapsed, 3),
        "output": _summary(report),
        "tests": tests,
        "extra_data": {
            "seed": report.seed,
            "status": report.status,
            "isolation": report.isolation,
            "timings": {k: round(v, 3) for k, v in report.timings.items()},
        },
    }


def feedback_markdown(report: SubmissionReport) -> str:
    """A readable report for the student, in Portuguese."""
    lines = [
        f"# Correção de `{report.submission_id}`",
        "",
        f"**Nota: {points(report.score)}/{points(report.max_score)}** "
        f"({STATUS_TEXT.get(report.status, report.status)}). Semente: `{report.seed}`.",
        "",
    ]
    if report.notes:
        lines += ["## Avisos", "", *[f"- {note}" for note in report.notes], ""]
    if report.cell_errors:
        lines += ["## Células com erro", ""]
        for error in report.cell_errors:
            where = f", linha {error['line']}" if error.get("line") else ""
            lines.append(
                f"- célula {error.get('cell')} ({error.get('namespace')}{where}): "
                f"`{error.get('type')}`: {error.get('message')}"
            )
        lines.append("")
    for grade in report.exercises:
        lines += [f"## {grade.exercise}: {points(grade.score)}/10", "", grade.message, ""]
        for attempt in grade.attempts:
            lines += ["```text", attempt.text(), "```", ""]
    if report.status in ("crashed", "timeout") and report.log:
        log = report.log[-LOG_LIMIT:]
        lines += ["## Saída do processo (final, truncada)", "", "```text", log, "```", ""]
    return "\n".join(lines)


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def write_reports(report: SubmissionReport, out: Path) -> Path:
    """Write ``out/<id>/results.json`` and ``feedback.md``; return the folder."""
    folder = out / report.submission_id
    folder.mkdir(parents=True, exist_ok=True)
    document = json.dumps(results_json(report), ensure_ascii=False, indent=2)
    _write_atomic(folder / "results.json", document + "\n")
    _write_atomic(folder / "feedback.md", feedback_markdown(report))
    return folder
