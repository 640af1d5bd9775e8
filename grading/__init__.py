"""Autograder for the chapter's two exercises.

The trusted side (this package) draws inputs from a seed, runs the student's layers in a
sandboxed child (``grading.child``), receives plain arrays back and judges them against
``solutions.reference``. ``grading.notebook.check`` runs the same checks in the learner's
own kernel.
"""
