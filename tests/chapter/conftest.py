"""Fixtures for the section notebook: its cells run in-process, in one IPython shell."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAPTER = ROOT / "chapters" / "custom-layers.ipynb"


def run_notebook_in_shell(path: Path):
    """Run every code cell of ``path`` in a fresh IPython shell; return the shell."""
    from IPython.core.interactiveshell import InteractiveShell

    from frametabs.kernel_env import apply_quiet_kernel_env

    apply_quiet_kernel_env()
    shell = InteractiveShell.instance()
    notebook = nbformat.read(path, as_version=4)
    previous = Path.cwd()
    os.chdir(path.parent)
    try:
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            result = shell.run_cell(cell.source, store_history=False, silent=True)
            if not result.success:
                raise AssertionError(f"cell {index} of {path.name} failed: {result.error_in_exec}")
    finally:
        os.chdir(previous)
    return shell


@pytest.fixture(scope="session")
def chapter_namespaces():
    """Per-framework namespaces left by running the whole section notebook."""
    from frametabs.magic import get_runner

    shell = run_notebook_in_shell(CHAPTER)
    return get_runner(shell).namespaces
