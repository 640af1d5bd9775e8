"""Reference solutions to the chapter's two exercises.

``solutions.reference`` is the NumPy ground truth; ``solutions.pytorch``,
``solutions.mxnet`` and ``solutions.tensorflow`` hold the framework layers.
This package imports no framework: import the module of the one you need.
"""

EXERCISES = ("TensorReduction", "FourierHalf")
