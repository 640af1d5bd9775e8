"""The graded exercise notebook: one source, two generated copies.

``chapters/exercises.ipynb`` is the student copy (statements, worked examples, stubs that raise
``NotImplementedError`` and ``check`` cells) and ``instructor/exercises-solutions.ipynb`` is the
same notebook with the reference solutions in place of the stubs. Both are stored executed.
Regenerate them with ``python -m exercises``; ``--check`` fails when the
committed copies differ from a fresh build.

Importing this package imports no deep-learning framework and touches no file.
"""

from exercises.build import (
    FIGURE_PATH,
    INSTRUCTOR_PATH,
    STUDENT_PATH,
    build_notebook,
)
from exercises.exercises import EXERCISES, Exercise

__all__ = [
    "EXERCISES",
    "FIGURE_PATH",
    "INSTRUCTOR_PATH",
    "STUDENT_PATH",
    "Exercise",
    "build_notebook",
]
