"""``gradebook.csv``: one row per graded submission, rewritten whole after each one.

Each rewrite goes to a temporary file renamed over the old one, so the CSV on disk is
always complete, whatever happens to a later submission or to the grader.
"""

from __future__ import annotations

import csv
import io
import os
import threading
from pathlib import Path

from grading import checks
from grading.grader import SubmissionReport

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


class Gradebook:
    """Collects rows and keeps ``path`` up to date (thread-safe)."""

    def __init__(self, path: Path):
        self.path = path
        self.rows: dict[str, dict[str, str]] = {}
        self.lock = threading.Lock()

    def add(self, report: SubmissionReport) -> None:
        row = {
            "id": report.submission_id,
            **{g.exercise: f"{g.score:g}" for g in report.exercises},
            "total": f"{report.score:g}",
            "status": STATUS_CODES.get(report.status, report.status),
            "situação": STATUS_TEXT.get(report.status, report.status),
            "seed": str(report.seed),
            "tempo_s": f"{report.elapsed:.1f}",
        }
        with self.lock:
            self.rows[report.submission_id] = row
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
