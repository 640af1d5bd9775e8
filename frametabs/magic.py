"""The ``%%tab`` cell magic: one kernel, one namespace per framework.

A cell whose first line is ``%%tab pytorch`` (or ``%%tab mxnet, pytorch`` or ``%%tab all``)
runs in the namespace of each framework it names, so ``nn``, ``np`` or ``CenteredLayer``
never clash. A single-framework cell returns its trailing expression, exactly as the
plain code would in a one-framework notebook. A multi-framework cell runs once per
framework and tags every output with ``metadata["frametabs"]["framework"]``.

A cell for a framework that is not enabled here, or only for frameworks of d2l's that the
book does not run (``%%tab jax``), runs nothing and prints a one-line note.
"""

from __future__ import annotations

import ast
import itertools
import linecache
import sys
import types
from typing import Any

from frametabs.frameworks import (
    FRAMEWORKS,
    LABELS,
    OTHER_FRAMEWORKS,
    available_frameworks,
    load_mxnet_first,
    parse_targets,
)

OUTPUT_KEY = "frametabs"
_RUNNER_ATTRIBUTE = "_frametabs_runner"


def _split_trailing_expression(tree: ast.Module) -> tuple[ast.Module, ast.Expression | None]:
    """Separate a module's final expression statement, which the cell displays."""
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body.pop()
        return tree, ast.Expression(last.value)
    return tree, None


def skip_note(disabled: list[str], others: tuple[str, ...], targets: tuple[str, ...]) -> str | None:
    """The one line telling why (part of) a cell does not run; None when all of it runs.

    ``disabled`` are book frameworks not enabled here; ``others`` the d2l frameworks the
    marker names besides the book's ``targets``. Those are only worth a note when the cell
    has nothing else to run (``%%tab pytorch, jax`` is simply a PyTorch cell here).
    """
    if disabled:
        names = ", ".join(LABELS[name] for name in disabled)
        return f"[frametabs] célula de {names} ignorada: framework não habilitado aqui."
    if others and not targets:
        names = ", ".join(OTHER_FRAMEWORKS[name] for name in others)
        book = ", ".join(LABELS[name] for name in FRAMEWORKS[:-1])
        return (
            f"[frametabs] célula de {names} ignorada: este livro só roda "
            f"{book} e {LABELS[FRAMEWORKS[-1]]}."
        )
    return None


def namespace_module_name(framework: str) -> str:
    """The name of the module whose dict holds ``framework``'s cells."""
    return f"__tab_{framework}__"


def _ends_with_semicolon(code: str) -> bool:
    """Whether the cell's last token is ``;`` (IPython then shows no value)."""
    from IPython.core.displayhook import DisplayHook

    return DisplayHook.semicolon_at_end_of_expression(code)


class TabRunner:
    """Runs framework cells, each framework in a namespace of its own."""

    def __init__(self, shell: Any, enabled: tuple[str, ...] | None = None):
        self.shell = shell
        self.enabled = available_frameworks() if enabled is None else enabled
        self.namespaces: dict[str, dict[str, Any]] = {}
        self._cell_numbers = itertools.count(1)

    def namespace(self, framework: str) -> dict[str, Any]:
        """The framework's namespace, created on first use.

        It is the dict of a module registered in ``sys.modules`` (``__tab_pytorch__``...),
        so classes defined in the cells can be pickled, as in a plain notebook.
        """
        if framework not in self.namespaces:
            module = types.ModuleType(namespace_module_name(framework))
            module.__dict__["get_ipython"] = lambda: self.shell
            sys.modules[module.__name__] = module
            self.namespaces[framework] = module.__dict__
        return self.namespaces[framework]

    def _register_source(self, framework: str, code: str) -> str:
        """A unique file name for ``code``, with its lines in linecache for tracebacks."""
        filename = f"<%%tab {framework} #{next(self._cell_numbers)}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
        return filename

    def execute(self, framework: str, code: str) -> Any:
        """Run ``code`` in the framework's namespace; return its trailing expression.

        As in a plain cell, a trailing ``;`` hides the value, and a traceback shows the
        failing line of the cell.
        """
        __tracebackhide__ = True
        if self.shell is not None:
            code = self.shell.transform_cell(code)
        filename = self._register_source(framework, code)
        tree, expression = _split_trailing_expression(ast.parse(code, filename=filename))
        namespace = self.namespace(framework)
        exec(compile(tree, filename, "exec"), namespace)
        if expression is None or _ends_with_semicolon(code):
            return None
        return eval(compile(expression, filename, "eval"), namespace)

    def run_cell(self, line: str, cell: str) -> Any:
        """Run one ``%%tab`` cell; the magic's entry point."""
        __tracebackhide__ = True
        targets, others = parse_targets(line)
        note = skip_note([name for name in targets if name not in self.enabled], others, targets)
        if note:
            print(note)
        chosen = [name for name in targets if name in self.enabled]
        if len(targets) == 1:
            return self.execute(chosen[0], cell) if chosen else None
        for framework in chosen:
            self._run_tagged(framework, cell)
        return None

    def _run_tagged(self, framework: str, cell: str) -> None:
        """Run a multi-framework cell for one framework, tagging each output."""
        __tracebackhide__ = True
        from IPython.display import publish_display_data
        from IPython.utils.capture import capture_output

        def tag(kind: str) -> dict[str, dict[str, str]]:
            return {OUTPUT_KEY: {"framework": framework, "kind": kind}}

        error: BaseException | None = None
        value = None
        with capture_output() as captured:
            try:
                value = self.execute(framework, cell)
            except Exception as exc:  # shown after this framework's outputs
                error = exc
        for stream, text in (("stdout", captured.stdout), ("stderr", captured.stderr)):
            if text:
                publish_display_data({"text/plain": text.rstrip("\n")}, metadata=tag(stream))
        for output in captured.outputs:
            publish_display_data(
                output.data, metadata={**(output.metadata or {}), **tag("display")}
            )
        if value is not None:
            data, metadata = self.shell.display_formatter.format(value)
            publish_display_data(data, metadata={**metadata, **tag("result")})
        if error is not None:
            raise error


def get_runner(shell: Any) -> TabRunner:
    """The runner attached to ``shell`` (created by ``%load_ext frametabs``)."""
    return getattr(shell, _RUNNER_ATTRIBUTE)


def register(shell: Any) -> TabRunner:
    """Attach a runner to ``shell`` and register ``%%tab``; idempotent."""
    runner = getattr(shell, _RUNNER_ATTRIBUTE, None)
    if runner is None:
        runner = TabRunner(shell)
        setattr(shell, _RUNNER_ATTRIBUTE, runner)
        load_mxnet_first(runner.enabled)
    shell.register_magic_function(runner.run_cell, magic_kind="cell", magic_name="tab")
    return runner
