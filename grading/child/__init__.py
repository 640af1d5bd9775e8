"""Code that runs inside the grading child process.

Nothing here knows an expected value or produces a verdict: it builds the student's
layers, applies them to inputs chosen by the trusted side and returns plain arrays.
Every module imports only the standard library and NumPy at import time, so the files can
be copied on their own into a sandbox where the rest of the project is hidden.
"""
