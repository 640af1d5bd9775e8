"""Frozen results of the checks, with their Portuguese rendering (text and HTML)."""

from __future__ import annotations

import html
from dataclasses import dataclass

LABELS = {"mxnet": "MXNet", "pytorch": "PyTorch", "tensorflow": "TensorFlow"}
STATUS_WORDS = {
    "passed": "ok",
    "failed": "falhou",
    "not_implemented": "ainda não implementado",
    "timeout": "tempo esgotado",
    "crashed": "o processo terminou",
    "missing": "não encontrado",
}


def plural(count: int, singular: str, plural_form: str) -> str:
    """``count`` and the noun that agrees with it: ``1 verificação``, ``2 verificações``."""
    return f"{count} {singular if count == 1 else plural_form}"


def points(value: float) -> str:
    """``1.5`` → ``"1,5"``, ``2.0`` → ``"2"`` (Brazilian decimal comma)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one named check for one framework."""

    exercise: str
    framework: str
    key: str
    title: str
    max_points: float
    points: float
    status: str  # passed | failed | not_implemented | timeout | crashed | missing
    message: str

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def line(self) -> str:
        """One plain-text line: mark, title, points and the hint when it failed."""
        mark = "✓" if self.passed else "✗"
        text = f"{mark} {self.title} ({points(self.points)}/{points(self.max_points)})"
        return text if self.passed else f"{text}: {self.message}"


@dataclass(frozen=True)
class ExerciseResult:
    """All checks of one exercise in one framework."""

    exercise: str
    framework: str
    checks: tuple[CheckResult, ...]
    note: str = ""

    @property
    def score(self) -> float:
        return round(sum(check.points for check in self.checks), 4)

    @property
    def max_score(self) -> float:
        return round(sum(check.max_points for check in self.checks), 4)

    @property
    def not_implemented(self) -> bool:
        """True when no check passed and the layer said ``NotImplementedError``."""
        statuses = {check.status for check in self.checks}
        return "not_implemented" in statuses and "passed" not in statuses

    @property
    def heading(self) -> str:
        label = LABELS.get(self.framework, self.framework)
        return f"{self.exercise} · {label}: {points(self.score)}/{points(self.max_score)} pontos"

    def text(self) -> str:
        """The result as plain text, one check per line."""
        lines = [self.heading]
        if self.note:
            lines.append(f"  {self.note}")
        lines.extend(f"  {check.line()}" for check in self.checks)
        return "\n".join(lines)

    def html(self) -> str:
        """The result as a small HTML table."""
        rows = []
        for check in self.checks:
            mark = "✓" if check.passed else "✗"
            colour = "#1a7f37" if check.passed else "#cf222e"
            hint = "" if check.passed else html.escape(check.message)
            rows.append(
                f'<tr><td style="color:{colour}">{mark}</td><td>{html.escape(check.title)}</td>'
                f"<td>{points(check.points)}/{points(check.max_points)}</td><td>{hint}</td></tr>"
            )
        note = f"<p>{html.escape(self.note)}</p>" if self.note else ""
        return (
            f"<div><strong>{html.escape(self.heading)}</strong>{note}"
            "<table><thead><tr><th></th><th>verificação</th><th>pontos</th><th>dica</th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table></div>"
        )
