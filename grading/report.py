"""Per-submission reports: ``results.json`` (Gradescope's format) and ``feedback.md``.

Both are in Portuguese and depend only on the submission and the seed, except the
fields that hold times (``execution_time`` and ``extra_data.timings``).

Text that may come from a student-controlled process (cell errors, notes, check messages,
the process log, even the file name) reaches a report only through the helpers below,
shared by every report writer (the gradebook included): ``plain_text`` makes it one line
without control characters, ``markdown_text`` also escapes Markdown and HTML, ``fenced``
puts a block in a code fence that no backtick run inside it can close, and ``finite``
keeps NaN and infinities out of the numbers. ``results.json`` is strict JSON.
"""

from __future__ import annotations

import json
import math
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from grading import checks
from grading.grader import SubmissionReport
from grading.results import LABELS, ExerciseResult, points

STATUS_TEXT = {
    "ok": "corrigida",
    "timeout": "tempo esgotado em parte da correção",
    "crashed": "o processo da submissão terminou de forma anormal",
    "invalid": "notebook inválido",
    "grader_error": "erro interno do corretor",
}
LOG_LIMIT = 4000
TEXT_LIMIT = 600
MAX_LINE = 10**6

# --- the shared escaping helpers --------------------------------------------------------

_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp"})  # controls, bidi/zero-width, separators
# ASCII punctuation that can start Markdown or HTML syntax anywhere in a line (links,
# autolinks, emphasis, code, math, roles, entities, tables); a leading ``, : ; ' " ?`` is
# escaped too, so the text never starts a block construct either.
_MARKDOWN_SPECIAL = re.compile(r"[!#$%&()*+\-./<=>@\[\\\]^_`{|}~]")
_BACKTICKS = re.compile(r"`+")


def _visible(char: str, blank: str) -> str:
    category = unicodedata.category(char)
    if category == "Cs":  # a lone surrogate (undecodable bytes): not writable as UTF-8
        return "\N{REPLACEMENT CHARACTER}"
    return blank if category in _INVISIBLE else char


def plain_text(value: object, limit: int = TEXT_LIMIT) -> str:
    """``value`` as one line of plain text: no control characters, at most ``limit`` chars."""
    text = str(value)[: 4 * limit]
    text = " ".join("".join(_visible(char, " ") for char in text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def markdown_text(value: object, limit: int = TEXT_LIMIT) -> str:
    """``plain_text`` with Markdown and HTML metacharacters backslash-escaped."""
    text = _MARKDOWN_SPECIAL.sub(r"\\\g<0>", plain_text(value, limit))
    return "\\" + text if text[:1] in (",", ":", ";", "'", '"', "?") else text


def fenced(text: str, info: str = "text") -> list[str]:
    """Lines of a code block holding ``text`` verbatim (less control characters)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    body = "".join(
        char if char in "\n\t" else _visible(char, "\N{REPLACEMENT CHARACTER}") for char in text
    )
    longest = max((len(run) for run in _BACKTICKS.findall(body)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + info, body.rstrip("\n"), fence]


def finite(value: object, default: float = 0.0) -> float:
    """``value`` as a finite float, ``default`` for NaN, infinities and non-numbers."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return default
    return number if math.isfinite(number) else default


# --- pieces shared by both reports ------------------------------------------------------


def _status(report: SubmissionReport) -> str:
    return STATUS_TEXT.get(report.status, report.status)


def _total(report: SubmissionReport) -> str:
    return f"{points(finite(report.score))}/{points(finite(report.max_score))}"


def _cell_error(error: dict[str, Any], escape: Callable[..., str]) -> str:
    """``célula 3 (pytorch, linha 2) levantou NameError: ...`` with the child's text escaped."""
    line = error.get("line")
    where = f", linha {line}" if type(line) is int and 0 < line < MAX_LINE else ""
    return (
        f"célula {escape(error.get('cell'), 20)} ({escape(error.get('namespace'), 40)}{where}) "
        f"levantou {escape(error.get('type'), 80)}: {escape(error.get('message'))}"
    )


def _attempt_text(attempt: ExerciseResult) -> str:
    """The attempt's plain-text table, each message one line, every number finite."""
    clean = tuple(
        replace(
            check,
            points=finite(check.points),
            max_points=finite(check.max_points),
            message=plain_text(check.message),
        )
        for check in attempt.checks
    )
    return replace(attempt, checks=clean, note=plain_text(attempt.note)).text()


# --- results.json -----------------------------------------------------------------------


def _summary(report: SubmissionReport) -> str:
    lines = [f"Nota: {_total(report)} ({_status(report)}); semente {report.seed}."]
    for grade in report.exercises:
        lines.append(
            f"{grade.exercise}: {points(finite(grade.score))}/10 ({plain_text(grade.message)})"
        )
    lines.extend(plain_text(note) for note in report.notes)
    lines.extend(f"A {_cell_error(error, plain_text)}" for error in report.cell_errors)
    return "\n".join(lines)


def _test(name: str, score: float, max_score: float, passed: bool, output: str) -> dict:
    return {
        "name": name,
        "score": finite(score),
        "max_score": finite(max_score),
        "status": "passed" if passed else "failed",
        "output": "ok" if passed else plain_text(output),
        "visibility": "visible",
    }


def _tests(report: SubmissionReport) -> list[dict[str, Any]]:
    tests = []
    for grade in report.exercises:
        if grade.chosen is not None:
            label = LABELS[grade.chosen.framework]
            for check in grade.chosen.checks:
                name = f"{grade.exercise} · {label} · {check.title}"
                tests.append(
                    _test(name, check.points, check.max_points, check.passed, check.message)
                )
            continue
        for check in checks.checks_for(grade.exercise):
            name = f"{grade.exercise} · — · {check.title}"
            tests.append(_test(name, 0.0, check.points, False, grade.message))
    return tests


def _timings(timings: dict[str, float]) -> dict[str, float]:
    """Only finite, non-negative spans (the times come from the child's event log)."""
    return {
        plain_text(name, 40): round(value, 3)
        for name, value in timings.items()
        if isinstance(value, (int, float)) and math.isfinite(value) and value >= 0
    }


def results_json(report: SubmissionReport) -> dict[str, Any]:
    """The Gradescope ``results.json`` document (plain text outputs, finite numbers)."""
    return {
        "score": finite(report.score),
        "execution_time": round(finite(report.elapsed), 3),
        "output": _summary(report),
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "tests": _tests(report),
        "extra_data": {
            "seed": report.seed,
            "status": report.status,
            "isolation": plain_text(report.isolation, 40),
            "timings": _timings(report.timings),
        },
    }


# --- feedback.md ------------------------------------------------------------------------


def _exercise_section(grade) -> list[str]:
    lines = [
        f"## {markdown_text(grade.exercise)}: {points(finite(grade.score))}/10",
        "",
        markdown_text(grade.message),
        "",
    ]
    for attempt in grade.attempts:
        lines += [*fenced(_attempt_text(attempt)), ""]
    return lines


def feedback_markdown(report: SubmissionReport) -> str:
    """A readable report for the student, in Portuguese."""
    lines = [
        f"# Correção de {markdown_text(report.submission_id, 300)}",
        "",
        f"**Nota: {_total(report)}** ({markdown_text(_status(report))}). "
        f"Semente: `{int(report.seed)}`.",
        "",
    ]
    if report.notes:
        lines += ["## Avisos", "", *[f"- {markdown_text(note)}" for note in report.notes], ""]
    if report.cell_errors:
        lines += ["## Células com erro", ""]
        lines += [f"- {_cell_error(error, markdown_text)}" for error in report.cell_errors]
        lines.append("")
    for grade in report.exercises:
        lines += _exercise_section(grade)
    if report.status in ("crashed", "timeout") and report.log:
        lines += ["## Saída do processo (final, truncada)", ""]
        lines += [*fenced(report.log[-LOG_LIMIT:]), ""]
    return "\n".join(lines)


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def write_reports(report: SubmissionReport, out: Path) -> Path:
    """Write ``out/<id>/results.json`` and ``feedback.md``; return the folder."""
    folder = out / report.submission_id
    folder.mkdir(parents=True, exist_ok=True)
    document = json.dumps(results_json(report), ensure_ascii=False, indent=2, allow_nan=False)
    _write_atomic(folder / "results.json", document + "\n")
    _write_atomic(folder / "feedback.md", feedback_markdown(report))
    return folder
