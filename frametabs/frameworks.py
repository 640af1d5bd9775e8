"""The frameworks a book cell can target and the ``%%tab`` marker that names them.

The book runs MXNet, PyTorch and TensorFlow. d2l's markers also name frameworks the book
does not run (``OTHER_FRAMEWORKS``, JAX and PaddlePaddle): a marker may name them, and
their cells are skipped (:mod:`frametabs.magic`), left out of the page
(:mod:`frametabs.split`) and of the exports; any other name is a ``MarkerError``.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass

FRAMEWORKS: tuple[str, ...] = ("mxnet", "pytorch", "tensorflow")
LABELS: dict[str, str] = {"mxnet": "MXNet", "pytorch": "PyTorch", "tensorflow": "TensorFlow"}
OTHER_FRAMEWORKS: dict[str, str] = {"jax": "JAX", "paddle": "PaddlePaddle"}
DEFAULT_FRAMEWORK = "pytorch"
IMPORT_NAMES: dict[str, str] = {"mxnet": "mxnet", "pytorch": "torch", "tensorflow": "tensorflow"}
ENV_VARIABLE = "FRAMETABS_FRAMEWORKS"
MARKER = "%%tab"


class MarkerError(ValueError):
    """A ``%%tab`` line that names no framework, or one neither the book nor d2l knows."""


@dataclass(frozen=True)
class Marker:
    """A parsed ``%%tab`` cell: the frameworks it targets and the code below the marker.

    ``frameworks`` are those the book runs, in book order; ``others`` those of
    ``OTHER_FRAMEWORKS`` the marker also names (``%%tab jax`` has no ``frameworks``).
    """

    frameworks: tuple[str, ...]
    body: str
    others: tuple[str, ...] = ()


def parse_targets(spec: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split a marker's ``"mxnet, jax"`` into (book frameworks, other d2l frameworks).

    ``"all"`` is the book's frameworks. Each tuple is in a fixed order (book order first).
    """
    names = [name.strip().lower() for name in spec.replace(",", " ").split()]
    if not names:
        raise MarkerError("%%tab needs a framework: mxnet, pytorch, tensorflow or all")
    if names == ["all"]:
        return FRAMEWORKS, ()
    unknown = [name for name in names if name not in FRAMEWORKS and name not in OTHER_FRAMEWORKS]
    if unknown:
        raise MarkerError(
            f"unknown framework {', '.join(unknown)!s} in %%tab; "
            f"expected {', '.join(FRAMEWORKS)} or all "
            f"(d2l's {' and '.join(OTHER_FRAMEWORKS)} are accepted too, and skipped)"
        )
    return (
        tuple(name for name in FRAMEWORKS if name in names),
        tuple(name for name in OTHER_FRAMEWORKS if name in names),
    )


def parse_spec(spec: str) -> tuple[str, ...]:
    """Turn ``"mxnet, pytorch"`` or ``"all"`` into names of frameworks the book runs.

    Unlike a marker, the list may not name d2l's other frameworks: it chooses what runs.
    """
    frameworks, others = parse_targets(spec)
    if others:
        raise MarkerError(
            f"{', '.join(others)}: a framework this book does not run; "
            f"expected {', '.join(FRAMEWORKS)} or all"
        )
    return frameworks


def parse_marker(source: str) -> Marker | None:
    """Return the cell's marker and body, or None for a cell without ``%%tab``."""
    first, _, body = source.partition("\n")
    words = first.split(maxsplit=1)
    if not words or words[0] != MARKER:
        return None
    spec = words[1] if len(words) > 1 else ""
    frameworks, others = parse_targets(spec)
    return Marker(frameworks, body, others)


def available_frameworks(environ: dict[str, str] | None = None) -> tuple[str, ...]:
    """Frameworks to run: ``$FRAMETABS_FRAMEWORKS`` if set, else those installed."""
    environ = os.environ if environ is None else environ
    chosen = environ.get(ENV_VARIABLE, "").strip()
    if chosen:
        try:
            return parse_spec(chosen)
        except MarkerError as error:
            raise MarkerError(
                f"${ENV_VARIABLE}={chosen!r}: expected a comma-separated list of "
                f"{', '.join(FRAMEWORKS)} (or all)"
            ) from error
    return tuple(
        name for name in FRAMEWORKS if importlib.util.find_spec(IMPORT_NAMES[name]) is not None
    )


def installed_frameworks() -> tuple[str, ...]:
    """Frameworks installed in this environment, whatever ``$FRAMETABS_FRAMEWORKS`` says."""
    return available_frameworks(environ={})


def load_mxnet_first(enabled: tuple[str, ...]) -> None:
    """Load MXNet now when TensorFlow may come later in the same process.

    libmxnet.so (MXNet 1.9.1) segfaults when it is loaded after TensorFlow 2.17; the other
    order is safe, so a process that may use both loads MXNet first.
    """
    if "mxnet" in enabled and "tensorflow" in enabled:
        importlib.import_module(IMPORT_NAMES["mxnet"])
