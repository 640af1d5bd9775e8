"""The frameworks a book cell can target and the ``%%tab`` marker that names them."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass

FRAMEWORKS: tuple[str, ...] = ("mxnet", "pytorch", "tensorflow")
LABELS: dict[str, str] = {"mxnet": "MXNet", "pytorch": "PyTorch", "tensorflow": "TensorFlow"}
DEFAULT_FRAMEWORK = "pytorch"
IMPORT_NAMES: dict[str, str] = {"mxnet": "mxnet", "pytorch": "torch", "tensorflow": "tensorflow"}
ENV_VARIABLE = "FRAMETABS_FRAMEWORKS"
MARKER = "%%tab"


class MarkerError(ValueError):
    """A ``%%tab`` line that names no known framework."""


@dataclass(frozen=True)
class Marker:
    """A parsed ``%%tab`` cell: the frameworks it targets and the code below the marker."""

    frameworks: tuple[str, ...]
    body: str


def parse_spec(spec: str) -> tuple[str, ...]:
    """Turn ``"mxnet, pytorch"`` or ``"all"`` into framework names in book order."""
    names = [name.strip().lower() for name in spec.replace(",", " ").split()]
    if not names:
        raise MarkerError("%%tab needs a framework: mxnet, pytorch, tensorflow or all")
    if names == ["all"]:
        return FRAMEWORKS
    unknown = [name for name in names if name not in FRAMEWORKS]
    if unknown:
        raise MarkerError(
            f"unknown framework {', '.join(unknown)!s} in %%tab; "
            f"expected {', '.join(FRAMEWORKS)} or all"
        )
    return tuple(name for name in FRAMEWORKS if name in names)


def parse_marker(source: str) -> Marker | None:
    """Return the cell's marker and body, or None for a cell without ``%%tab``."""
    first, _, body = source.partition("\n")
    words = first.split(maxsplit=1)
    if not words or words[0] != MARKER:
        return None
    spec = words[1] if len(words) > 1 else ""
    return Marker(parse_spec(spec), body)


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
