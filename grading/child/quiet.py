"""Silence Python warnings and TensorFlow's Python logger for a block (export or evaluation).

Shared by the TensorFlow exporter (student process) and loader (evaluator), both of which
have this file beside them in their sandbox.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_tensorflow() -> Iterator[None]:
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
