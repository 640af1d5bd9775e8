"""Read a submitted notebook on the trusted side: regular file, size cap, JSON, cells to run.

Only a regular file is read: a symbolic link, folder, FIFO, socket or device named
``*.ipynb`` is refused without being followed (it could point at another student's file or
at the answer key), and the checks are made on the opened descriptor, so nothing can be
swapped in between a check and the read.

Only the code cells' sources are kept (stored outputs are never read). A cell whose first
line is ``%%tab <frameworks>`` runs in those frameworks' namespaces; a cell without a marker
is shared set-up and runs in every namespace. Cells tagged ``check`` and the book's own
set-up cell (recognised by its exact source, never by a tag, so a student cannot hide a
cell of theirs that way) are dropped. IPython magics, shell lines (``%pip ...``,
``!ls``) and imports of ``grading`` become ``pass`` with the same indentation, so the code
around them stays valid and keeps its line numbers; the child cannot import ``grading``.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from frametabs.frameworks import FRAMEWORKS, OTHER_FRAMEWORKS, MarkerError, parse_marker
from frametabs.setup_cell import SETUP_SOURCE
from grading.evaluator.files import read_capped

MAX_NOTEBOOK_BYTES = 16 * 1024 * 1024  # 100,000 empty cells as Jupyter saves them fit
MAX_CELL_CHARS = 200_000
SHARED = "*"
SKIP_TAG = "check"
_GRADING_IMPORT = re.compile(r"^\s*(from\s+grading(\.\w+)*\s+import\b|import\s+grading\b)")
_MAYBE_SKIPPED = re.compile(r"^\s*(?:[%!]|(?:from|import)\s+grading\b)", re.MULTILINE)
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC

_KINDS = (
    (stat.S_ISLNK, "link simbólico"),
    (stat.S_ISDIR, "pasta"),
    (stat.S_ISFIFO, "FIFO (pipe nomeado)"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "dispositivo de caracteres"),
    (stat.S_ISBLK, "dispositivo de blocos"),
)
_ERRNO_TEXT = {
    errno.EACCES: "sem permissão de leitura",
    errno.EPERM: "sem permissão de leitura",
    errno.EIO: "erro de entrada/saída",
    errno.ENAMETOOLONG: "nome longo demais",
    errno.ELOOP: "links simbólicos em laço",
    errno.ENOTDIR: "um componente do caminho não é uma pasta",
}


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


# --- reading the file -------------------------------------------------------------------


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f}".replace(".", ",")


def _too_big(size: int) -> SubmissionError:
    return SubmissionError(
        f"arquivo grande demais ({_mib(size)} MiB; limite {MAX_NOTEBOOK_BYTES // 2**20} MiB): "
        "limpe as saídas antes de entregar"
    )


def _not_regular(mode: int) -> SubmissionError:
    kind = next((name for test, name in _KINDS if test(mode)), "tipo desconhecido")
    return SubmissionError(f"não é um arquivo comum: {kind}; entregue o próprio arquivo .ipynb")


def _os_error(path: Path, error: OSError) -> SubmissionError:
    """A Portuguese message for a failed open or read (what the entry is, when it says)."""
    if error.errno == errno.ENOENT:
        return SubmissionError("o arquivo não existe")
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        mode = stat.S_IFREG
    if not stat.S_ISREG(mode):
        return _not_regular(mode)
    name = errno.errorcode.get(error.errno or 0, str(error.errno))
    return SubmissionError(
        f"não foi possível ler o arquivo: {_ERRNO_TEXT.get(error.errno, f'erro {name}')}"
    )


def _read_descriptor(fd: int) -> bytes:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise _not_regular(info.st_mode)
    if info.st_size > MAX_NOTEBOOK_BYTES:
        raise _too_big(info.st_size)
    data = read_capped(fd, MAX_NOTEBOOK_BYTES)
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise _too_big(max(info.st_size, len(data)))
    return data


def read_bytes(path: Path) -> bytes:
    """The bytes of ``path`` if it is a regular file within the cap; never follows a link."""
    try:
        mode = os.lstat(path).st_mode
        if not stat.S_ISREG(mode):  # a device or FIFO is refused before it is opened
            raise _not_regular(mode)
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        raise _os_error(path, error) from None
    try:
        return _read_descriptor(fd)
    except OSError as error:
        raise _os_error(path, error) from None
    finally:
        os.close(fd)


def _decode(data: bytes) -> dict:
    if not data:
        raise SubmissionError("o arquivo está vazio")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SubmissionError("o arquivo não está em UTF-8") from None
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as error:
        where = f"linha {error.lineno}, coluna {error.colno}"
        raise SubmissionError(f"o arquivo não é um JSON válido ({where})") from None
    except (ValueError, RecursionError):
        raise SubmissionError(
            "o arquivo não é um JSON válido (aninhamento profundo demais ou número enorme)"
        ) from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise SubmissionError("o JSON não é um notebook do Jupyter (falta a lista 'cells')")
    return notebook


def load_notebook(path: Path) -> dict:
    """The notebook's JSON, or ``SubmissionError`` with a message for the student."""
    return _decode(read_bytes(path))


# --- magics and shell lines -------------------------------------------------------------

_CODE_TOKEN = re.compile(r"""#|\\$|'''|\"\"\"|['"]|[(\[{]|[)\]}]""")
_STRING_END = {quote: re.compile(r"\\.|\\$|" + quote) for quote in ("'", '"', "'''", '"""')}


@dataclass
class _Scanner:
    """Where a physical line starts: inside brackets, a string, or a continued line.

    Just enough of Python's tokenizer to tell a line magic (``%pip`` at the start of a
    statement) from a ``%`` that continues an expression or sits inside a string.
    """

    depth: int = 0
    quote: str | None = None
    continued: bool = False

    @property
    def at_statement(self) -> bool:
        return self.depth == 0 and self.quote is None and not self.continued

    def feed(self, line: str) -> None:
        self.continued = False
        position = 0
        while True:
            if self.quote is not None:
                match = _STRING_END[self.quote].search(line, position)
                if match is None or match.group() == "\\":
                    if match is None and len(self.quote) == 1:
                        self.quote = None  # unterminated: a SyntaxError the student sees
                    return
                position = match.end()
                if match.group() == self.quote:
                    self.quote = None
                continue
            match = _CODE_TOKEN.search(line, position)
            if match is None or match.group() == "#":
                return
            token, position = match.group(), match.end()
            if token == "\\":
                self.continued = True
            elif token[0] in "'\"":
                self.quote = token
            elif token in "([{":
                self.depth += 1
            else:
                self.depth = max(self.depth - 1, 0)


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _strip_lines(code: str) -> str:
    """Magics, shell escapes and ``grading`` imports become ``pass`` (same indentation)."""
    if not _MAYBE_SKIPPED.search(code):
        return code
    lines = code.split("\n")
    scanner = _Scanner()
    magic = dropping = False
    for number, line in enumerate(lines):
        if magic:  # a magic continued with a trailing backslash
            lines[number] = ""
            magic = line.endswith("\\")
            continue
        if scanner.at_statement:
            dropping = False
            if line.lstrip(" \t").startswith(("%", "!")):
                lines[number] = _indent(line) + "pass"
                magic = line.endswith("\\")
                continue
            if _GRADING_IMPORT.match(line):
                lines[number] = _indent(line) + "pass"
                dropping = True
        elif dropping:  # the rest of a multi-line ``from grading import (...)``
            lines[number] = ""
        scanner.feed(line)
    return "\n".join(lines)


# --- cells ------------------------------------------------------------------------------


def _does_nothing(code: str) -> bool:
    """Only blank lines, comments and ``pass`` (a cell of magics, once they are stripped)."""
    for line in code.split("\n"):
        text = line.strip()
        if text and text != "pass" and not text.startswith("#"):
            return False
    return True


def _source(cell: dict, index: int) -> str:
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(part, str) for part in source):
        source = "".join(source)
    if not isinstance(source, str):
        raise SubmissionError(f"a célula {index} tem um 'source' inválido")
    return source.replace("\r\n", "\n")


def _is_setup(source: str) -> bool:
    """The book's own set-up cell (installs and loads ``frametabs``): exact source only."""
    return source.strip() == SETUP_SOURCE.strip()


def _skipped(cell: dict) -> bool:
    metadata = cell.get("metadata")
    tags = metadata.get("tags", []) if isinstance(metadata, dict) else []
    return isinstance(tags, list) and SKIP_TAG in tags


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
        if _skipped(cell):
            continue
        source = _source(cell, index)
        if len(source) > MAX_CELL_CHARS:
            notes.append(f"célula {index} ignorada: grande demais")
            continue
        if _is_setup(source):
            continue
        try:
            marker = parse_marker(source)
        except MarkerError:
            expected = f"{', '.join(FRAMEWORKS)} ou all"
            notes.append(f"célula {index} ignorada: marcador %%tab inválido (use {expected})")
            continue
        if marker is not None and not marker.frameworks:
            names = ", ".join(OTHER_FRAMEWORKS[name] for name in marker.others)
            notes.append(f"célula {index} ignorada: o corretor não avalia {names}")
            continue
        if marker is None:
            namespaces, code = (SHARED,), source
        else:
            namespaces, code = marker.frameworks, "\n" + marker.body
            named.update(marker.frameworks)
        code = _strip_lines(code)
        if not _does_nothing(code):
            cells.append(Cell(index, namespaces, code))
    if code_cells == 0:
        raise SubmissionError("o notebook não tem células de código")
    frameworks = tuple(name for name in FRAMEWORKS if name in named)
    return Submission(tuple(cells), frameworks, tuple(notes))


def read_submission(path: Path) -> Submission:
    """Load and parse ``path``; ``SubmissionError`` says what is wrong with it."""
    return parse(load_notebook(path))
