"""The two graded exercises as data: class name, statement and worked example."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from exercises import examples, statements


@dataclass(frozen=True)
class Exercise:
    """One exercise of the notebook.

    ``slug`` names its cells (``exercise-<number>-...``); ``example`` returns the Markdown of
    the worked example, given the figure path as the notebook links it.
    """

    number: int
    class_name: str
    statement: str
    example: Callable[[str], str]

    @property
    def slug(self) -> str:
        return f"exercise-{self.number}"


EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        number=1,
        class_name="TensorReduction",
        statement=statements.TENSOR_REDUCTION,
        example=lambda figure_path: examples.tensor_reduction_example(),
    ),
    Exercise(
        number=2,
        class_name="FourierHalf",
        statement=statements.FOURIER_HALF,
        example=examples.fourier_half_example,
    ),
)
