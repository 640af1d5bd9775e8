"""``check(layer_class)``: the exercise notebook's in-kernel check, rendered in Portuguese.

It runs the very checks the autograder runs (``grading.checks``), in the learner's kernel.
The output depends only on the class and ``seed``, so it can be stored in a notebook that
strict nbval validates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grading.checks import EXERCISES
from grading.child.exportable import framework_of
from grading.inprocess import run_checks
from grading.results import ExerciseResult, points


@dataclass(frozen=True)
class CheckReport:
    """The result of ``check``: renders itself as text and as HTML."""

    result: ExerciseResult
    seed: int

    @property
    def score(self) -> float:
        return self.result.score

    @property
    def max_score(self) -> float:
        return self.result.max_score

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(check.passed for check in self.result.checks)

    def _summary(self) -> str:
        if self.passed:
            return "Tudo certo: todas as verificações passaram."
        if self.result.not_implemented:
            return "Ainda não implementado: complete a classe e rode esta célula de novo."
        failed = sum(not check.passed for check in self.result.checks)
        if failed == 1:
            return "1 verificação falhou; veja a dica acima."
        return f"{failed} verificações falharam; veja as dicas acima."

    def __repr__(self) -> str:
        return f"{self.result.text()}\n{self._summary()} (semente {self.seed})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def _repr_html_(self) -> str:
        return f"{self.result.html()}<p>{self._summary()} (semente {self.seed})</p>"


def check(layer_class: type, *, seed: int = 0) -> CheckReport:
    """Check ``TensorReduction`` or ``FourierHalf`` against the exercise's contract."""
    name = getattr(layer_class, "__name__", type(layer_class).__name__)
    if name not in EXERCISES:
        raise ValueError(
            f"check() espera a classe TensorReduction ou FourierHalf, recebeu {name!r}"
        )
    framework = framework_of(layer_class)
    if framework is None:
        raise ValueError(
            f"{name} deve herdar de torch.nn.Module, mxnet.gluon.nn.Block ou tf.keras.layers.Layer"
        )
    return CheckReport(run_checks(layer_class, name, framework, seed), seed)


__all__ = ["CheckReport", "check", "points"]
