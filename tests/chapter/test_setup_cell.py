"""Every book notebook starts with the same set-up cell, which installs the package if missing."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest
import yaml
from IPython.core.interactiveshell import InteractiveShell

from frametabs.setup_cell import REPOSITORY, SETUP_SOURCE

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted([*(ROOT / "chapters").glob("*.ipynb"), *(ROOT / "instructor").glob("*.ipynb")])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_is_the_setup_cell(path):
    notebook = nbformat.read(path, as_version=4)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert first.source == SETUP_SOURCE
    assert "remove-cell" in first.metadata.get("tags", [])


def test_setup_installs_from_the_books_configured_repository():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["repository"]["url"] == REPOSITORY


def test_setup_cell_installs_the_package_where_it_is_missing(monkeypatch):
    shell = InteractiveShell.instance()
    calls = []
    shell.register_magic_function(lambda line: calls.append(line), "line", "pip")
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "frametabs" else real_find_spec(name, *a),
    )
    try:
        assert shell.run_cell(SETUP_SOURCE).success
    finally:
        InteractiveShell.clear_instance()
    assert len(calls) == 1 and f"git+{REPOSITORY}" in calls[0]


def test_setup_cell_installs_nothing_where_the_package_is_present():
    shell = InteractiveShell.instance()
    calls = []
    shell.register_magic_function(lambda line: calls.append(line), "line", "pip")
    try:
        assert shell.run_cell(SETUP_SOURCE).success
        assert "tab" in shell.magics_manager.magics["cell"]
    finally:
        InteractiveShell.clear_instance()
    assert calls == []
