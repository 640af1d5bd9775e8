"""``gradebook.csv``: one row per graded submission, rewritten whole after each one.

Each rewrite goes to a temporary file renamed over the old one, so the CSV on disk is
always complete, whatever happens to a later submission or to the grader. Every text cell
goes through the reports' ``plain_text`` and, when a spreadsheet would take it for a
formula (``=cmd()``, ``+``, ``-``, ``@`` ...), gets a ``'`` in front; numbers are finite.
"""

from __future__ import annotations

import csv
import io
import os
import threading
from pathlib import Path

from grading import checks
from grading.grader import SubmissionReport
from grading.report import finite, plain_text

STATUS_CODES = {
    "ok": "ok",
    "timeout": "timeout",
    "crashed": "crashed",
    "invalid": "invalid notebook",
    "grader_error": "grader error",
}
STATUS_TEXT = {
    "ok": "corrigida",
    "timeout": "tempo esgotado",
    "crashed": "processo terminou",
    "invalid": "notebook inválido",
    "grader_error": "erro do corretor",
}
COLUMNS = ("id", *checks.EXERCISES, "total", "status", "situação", "seed", "tempo_s")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "|", "%")
ID_LIMIT = 300


def text_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    text = plain_text(value, ID_LIMIT)
    return f"'{text}" if text.startswith(FORMULA_START) else text


def _number(value: float, spec: str = "g") -> str:
    return format(finite(value), spec)


class Gradebook:
    """Collects rows and keeps ``path`` up to date (thread-safe)."""

    def __init__(self, path: Path):
        self.path = path
        self.rows: dict[str, dict[str, str]] = {}
        self.lock = threading.Lock()

    def add(self, report: SubmissionReport) -> None:
        row = {
            "id": text_cell(report.submission_id),
            **{g.exercise: _number(g.score) for g in report.exercises},
            "total": _number(report.score),
            "status": text_cell(STATUS_CODES.get(report.status, report.status)),
            "situação": text_cell(STATUS_TEXT.get(report.status, report.status)),
            "seed": str(report.seed),
            "tempo_s": _number(report.elapsed, ".1f"),
        }
        with self.lock:
            self.rows[report.submission_id] = row
            self._write()

    def write(self) -> None:
        """Write the file now (a batch with nothing to grade still leaves its header)."""
        with self.lock:
            self._write()

    def _write(self) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for key in sorted(self.rows):
            writer.writerow(self.rows[key])
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        temporary.write_text(buffer.getvalue(), encoding="utf-8")
        os.replace(temporary, self.path)
