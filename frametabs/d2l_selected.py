"""Resolve d2l's ``tab.selected(...)`` tests in a cell's code for one framework.

d2l shares a cell between frameworks (``%%tab pytorch, mxnet, tensorflow``) and branches
inside it: ``if tab.selected('mxnet'): ...``. This book runs each framework in a namespace
of its own, with no ``tab`` object, so the converter writes one cell per framework: an
``if`` (or ``elif``) whose test is ``tab.selected(...)`` is replaced by the branch that
framework takes, and any other ``tab.selected(...)`` call by ``True`` or ``False``.
"""

from __future__ import annotations

import ast
import re

_MAGIC_LINE = re.compile(r"^(\s*)([%!].*)$")
_MAGIC_MASK = "#frametabs-magic:"
_MENTION = re.compile(r"\btab\.selected\s*\(")


def uses_selected(code: str) -> bool:
    """Whether ``code`` mentions ``tab.selected(``."""
    return bool(_MENTION.search(code))


def _selected_names(node: ast.AST) -> frozenset[str] | None:
    """The frameworks of a ``tab.selected('a', 'b')`` call (or list form); else None."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "selected"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "tab"
        and not node.keywords
    ):
        return None
    values: list[ast.AST] = []
    for arg in node.args:
        values.extend(arg.elts if isinstance(arg, ast.List | ast.Tuple) else [arg])
    if not all(isinstance(v, ast.Constant) and isinstance(v.value, str) for v in values):
        return None
    return frozenset(v.value.strip().lower() for v in values)


def _start(statement: ast.stmt) -> int:
    """First line of a statement, its decorators included (1-based)."""
    return min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", [])])


def _dedent(lines: list[str], width: int) -> list[str]:
    """Remove ``width`` leading spaces from each line that has them."""
    return [line[width:] if line[:width].strip() == "" else line for line in lines]


def _branch(lines: list[str], statements: list[ast.stmt], indent: int) -> list[str]:
    """The source of ``statements`` (a block's body), re-indented to ``indent``."""
    first, last = statements[0], statements[-1]
    if lines[first.lineno - 1].encode()[: first.col_offset].decode(errors="ignore").strip():
        # ``if tab.selected('mxnet'): x = 1``: the body shares the header's line.
        source = "\n".join(lines)
        segments = [ast.get_source_segment(source, s) or "" for s in statements]
        return [" " * indent + "; ".join(segments)]
    own = lines[_start(first) - 1]
    width = len(own) - len(own.lstrip())
    body = _dedent(lines[_start(first) - 1 : last.end_lineno], width)
    return [" " * indent + line if line.strip() else line for line in body]


def _find_if(tree: ast.AST) -> tuple[ast.If, frozenset[str]] | None:
    """The first ``if tab.selected(...)`` statement, in source order."""
    found = [
        (node, names)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and (names := _selected_names(node.test)) is not None
    ]
    return min(found, key=lambda pair: (pair[0].lineno, pair[0].col_offset), default=None)


def _resolve_if(lines: list[str], node: ast.If, taken: bool) -> list[str]:
    """The lines of the code with ``node`` replaced by the branch ``taken`` says."""
    header = lines[node.lineno - 1]
    indent = len(header) - len(header.lstrip())
    is_elif = header.lstrip().startswith("elif")
    if taken:
        chosen = _branch(lines, node.body, indent)
    elif not node.orelse:
        chosen = []
    elif (
        len(node.orelse) == 1
        and isinstance(node.orelse[0], ast.If)
        and lines[node.orelse[0].lineno - 1].lstrip().startswith("elif")
    ):
        rest = lines[node.orelse[0].lineno - 1 : node.end_lineno]
        rest[0] = rest[0].replace("elif", "if", 1)
        chosen = rest
    else:
        chosen = _branch(lines, node.orelse, indent)
    if is_elif and chosen:
        # ``if x: ... elif tab.selected(...): B``: what is left is the ``else`` of ``if x``.
        chosen = [" " * indent + "else:", *["    " + line for line in chosen]]
    replaced = lines[: node.lineno - 1] + chosen + lines[node.end_lineno :]
    if not chosen and not _parses(replaced):
        replaced = [*lines[: node.lineno - 1], " " * indent + "pass", *lines[node.end_lineno :]]
    return replaced


def _parses(lines: list[str]) -> bool:
    try:
        ast.parse("\n".join(lines))
    except SyntaxError:
        return False
    return True


def _replace_calls(lines: list[str], tree: ast.AST, framework: str) -> list[str]:
    """Every remaining one-line ``tab.selected(...)`` call replaced by ``True``/``False``."""
    calls = [
        (node, names)
        for node in ast.walk(tree)
        if (names := _selected_names(node)) is not None and node.lineno == node.end_lineno
    ]
    calls.sort(key=lambda pair: (pair[0].lineno, pair[0].col_offset), reverse=True)
    for node, names in calls:
        raw = lines[node.lineno - 1].encode()
        value = str(framework in names).encode()
        raw = raw[: node.col_offset] + value + raw[node.end_col_offset :]
        lines[node.lineno - 1] = raw.decode()
    return lines


def resolve_selected(code: str, framework: str) -> str:
    """``code`` as ``framework`` runs it, with no ``tab.selected`` left (where it parses)."""
    lines = [
        _MAGIC_LINE.sub(lambda m: f"{m[1]}{_MAGIC_MASK}{m[2]}", line) for line in code.split("\n")
    ]
    while True:
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            break
        found = _find_if(tree)
        if found is None:
            lines = _replace_calls(lines, tree, framework)
            break
        node, names = found
        lines = _resolve_if(lines, node, framework in names)
    return "\n".join(line.replace(_MAGIC_MASK, "", 1) for line in lines)
