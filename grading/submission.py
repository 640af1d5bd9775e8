"""Read a submitted notebook on the trusted side: size cap, JSON, the code cells to run.

Only the code cells' sources are kept (stored outputs are never read). A cell whose first
line is ``%%tab <frameworks>`` runs in those frameworks' namespaces; a cell without a marker
is shared set-up and runs in every namespace. Cells tagged ``check``, IPython magics and
shell lines (``%load_ext frametabs``, ``!pip ...``) and imports of ``grading`` are dropped:
the grader does not need them and the child cannot import ``grading`` anyway.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from frametabs.frameworks import FRAMEWORKS, MarkerError, parse_marker

MAX_NOTEBOOK_BYTES = 4 * 1024 * 1024
MAX_CELL_CHARS = 200_000
SHARED = "*"
SKIP_TAG = "check"
_GRADING_IMPORT = re.compile(r"^\s*(from\s+grading(\.\w+)*\s+import\b|import\s+grading\b)")


class SubmissionError(ValueError):
    """A file that is not a gradable notebook; the message is for the student."""


@dataclass(frozen=True)
class Cell:
    """A code cell to run: its index in the notebook, namespaces and code."""

    index: int
    namespaces: tuple[str, ...]  # framework names, or ("*",) for shared set-up
    code: str


@dataclass(frozen=True)
class Submission:
    """A parsed notebook: cells to run and what the parsing noticed."""

    cells: tuple[Cell, ...]
    frameworks: tuple[str, ...]  # named by %%tab markers, book order
    notes: tuple[str, ...]


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(part, str) for part in source):
        source = "".join(source)
    if not isinstance(source, str):
        raise SubmissionError("célula com 'source' inválido")
    return source


def _strip_lines(code: str) -> str:
    """Drop magics, shell escapes and ``grading`` imports (kept as blank lines)."""
    kept = []
    for line in code.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")) or _GRADING_IMPORT.match(line):
            kept.append("")
        else:
            kept.append(line)
    return "\n".join(kept)


def load_notebook(path: Path) -> dict:
    """The notebook's JSON, or ``SubmissionError`` with a message for the student."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise SubmissionError(f"não foi possível ler o arquivo: {error.strerror}") from None
    if size == 0:
        raise SubmissionError("o arquivo está vazio")
    if size > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(
            f"arquivo grande demais ({size / 2**20:.1f} MiB; limite "
            f"{MAX_NOTEBOOK_BYTES // 2**20} MiB): limpe as saídas antes de entregar"
        )
    try:
        with path.open("rb") as handle:
            notebook = json.loads(handle.read(MAX_NOTEBOOK_BYTES + 1).decode("utf-8"))
    except UnicodeDecodeError:
        raise SubmissionError("o arquivo não está em UTF-8") from None
    except (ValueError, RecursionError) as error:
        raise SubmissionError(f"o arquivo não é um JSON válido ({error})") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise SubmissionError("o JSON não é um notebook do Jupyter (falta a lista 'cells')")
    return notebook


def parse(notebook: dict) -> Submission:
    """Turn a notebook's JSON into the cells the child runs."""
    cells: list[Cell] = []
    notes: list[str] = []
    named: set[str] = set()
    code_cells = 0
    for index, cell in enumerate(notebook["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        code_cells += 1
        metadata = cell.get("metadata")
        tags = metadata.get("tags", []) if isinstance(metadata, dict) else []
        if isinstance(tags, list) and SKIP_TAG in tags:
            continue
        source = _source(cell)
        if len(source) > MAX_CELL_CHARS:
            notes.append(f"célula {index} ignorada: grande demais")
            continue
        try:
            marker = parse_marker(source)
        except MarkerError as error:
            notes.append(f"célula {index} ignorada: marcador %%tab inválido ({error})")
            continue
        if marker is None:
            namespaces, code = (SHARED,), source
        else:
            namespaces, code = marker.frameworks, "\n" + marker.body
            named.update(marker.frameworks)
        code = _strip_lines(code)
        if code.strip():
            cells.append(Cell(index, namespaces, code))
    if code_cells == 0:
        raise SubmissionError("o notebook não tem células de código")
    frameworks = tuple(name for name in FRAMEWORKS if name in named)
    return Submission(tuple(cells), frameworks, tuple(notes))


def read_submission(path: Path) -> Submission:
    """Load and parse ``path``; ``SubmissionError`` says what is wrong with it."""
    return parse(load_notebook(path))
