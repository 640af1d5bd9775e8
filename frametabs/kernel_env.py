"""Environment for kernels whose outputs are stored: no framework start-up chatter."""

from __future__ import annotations

import os

# TensorFlow's C++ start-up logs carry timestamps and CPU flags: machine noise, not output.
QUIET_KERNEL_ENV: dict[str, str] = {"TF_CPP_MIN_LOG_LEVEL": "2"}


def quiet_kernel_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """A copy of ``base`` (default ``os.environ``) with the quiet settings added."""
    env = dict(os.environ if base is None else base)
    env.update(QUIET_KERNEL_ENV)
    return env


def apply_quiet_kernel_env() -> None:
    """Set the quiet settings in this process, so kernels it starts inherit them."""
    os.environ.update(QUIET_KERNEL_ENV)


def quiet_learner_kernel(environ: dict[str, str] | None = None) -> None:
    """Add the quiet settings a learner has not chosen (``%load_ext frametabs`` calls this).

    TensorFlow reads ``TF_CPP_MIN_LOG_LEVEL`` when it loads, so this must run first; a value
    the learner set (``0`` to see every log) is kept.
    """
    environ = os.environ if environ is None else environ
    for key, value in QUIET_KERNEL_ENV.items():
        environ.setdefault(key, value)
