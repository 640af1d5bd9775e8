"""Every book notebook starts with the same set-up cell, which installs the package if missing."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from IPython.core.interactiveshell import InteractiveShell

from frametabs.address import REPOSITORY, SITE_URL
from frametabs.setup_cell import (
    ADDRESS_MODULE,
    BOOK_URL_VARIABLE,
    SETUP_SOURCE,
    address_module,
    configured_addresses,
    setup_source,
    sync,
)

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted([*(ROOT / "chapters").glob("*.ipynb"), *(ROOT / "instructor").glob("*.ipynb")])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_is_the_setup_cell(path):
    notebook = nbformat.read(path, as_version=4)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert first.source == SETUP_SOURCE, "stale set-up cell: run `make address`"
    assert "remove-cell" in first.metadata.get("tags", [])


def test_the_addresses_come_from_the_books_configuration():
    assert configured_addresses(ROOT / "_config.yml") == (SITE_URL, REPOSITORY)
    assert ADDRESS_MODULE.read_text() == address_module(SITE_URL, REPOSITORY)
    assert f'"{SITE_URL.rstrip("/")}"' in SETUP_SOURCE and f"git+{REPOSITORY}" in SETUP_SOURCE


def test_sync_follows_a_changed_configuration(tmp_path):
    config = (ROOT / "_config.yml").read_text()
    site = "https://example.org/livro/"
    (tmp_path / "_config.yml").write_text(config.replace(SITE_URL, site))
    (tmp_path / "chapters").mkdir()
    for name in ("custom-layers.ipynb", "exercises.ipynb"):
        shutil.copy(ROOT / "chapters" / name, tmp_path / "chapters" / name)
    module = tmp_path / "address.py"
    module.write_text(ADDRESS_MODULE.read_text())
    written = sync(tmp_path, module=module)
    assert module in written and f'SITE_URL = "{site}"' in module.read_text()
    chapter = nbformat.read(tmp_path / "chapters" / "custom-layers.ipynb", as_version=4)
    first = next(cell for cell in chapter.cells if cell.cell_type == "code")
    assert first.source == setup_source(site, REPOSITORY) != SETUP_SOURCE
    assert tmp_path / "chapters" / "exercises.ipynb" not in written  # make exercises does it
    assert sync(tmp_path, module=module) == []


class PipRecorder:
    """Stands in for ``subprocess.run``: records pip commands, fails the first ``failures``."""

    def __init__(self, failures: int):
        self.failures = failures
        self.commands: list[list[str]] = []

    def __call__(self, command, *args, **kwargs):
        self.commands.append(list(command))
        code = 1 if len(self.commands) <= self.failures else 0
        return subprocess.CompletedProcess(command, code)


def run_setup_without_package(monkeypatch, failures: int):
    """Run the set-up cell where ``frametabs`` looks missing; return (result, pip commands)."""
    recorder = PipRecorder(failures)
    monkeypatch.setattr(subprocess, "run", recorder)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "frametabs" else real_find_spec(name, *a),
    )
    shell = InteractiveShell.instance()
    try:
        result = shell.run_cell(SETUP_SOURCE)
    finally:
        InteractiveShell.clear_instance()
    return result, recorder.commands


def test_setup_cell_installs_from_the_books_own_site_first(monkeypatch):
    monkeypatch.delenv(BOOK_URL_VARIABLE, raising=False)
    result, commands = run_setup_without_package(monkeypatch, failures=0)
    assert result.success
    (command,) = commands
    assert command[1:4] == ["-m", "pip", "install"]
    assert command[-4:] == [
        "--no-index",
        "--find-links",
        f"{SITE_URL.rstrip('/')}/pacote/",
        "camadas-personalizadas",
    ]


def test_setup_cell_follows_the_book_address_variable(monkeypatch):
    monkeypatch.setenv(BOOK_URL_VARIABLE, "http://127.0.0.1:9/")
    _, commands = run_setup_without_package(monkeypatch, failures=0)
    assert "http://127.0.0.1:9/pacote/" in commands[0]


def test_setup_cell_falls_back_to_the_repository(monkeypatch):
    result, commands = run_setup_without_package(monkeypatch, failures=1)
    assert result.success
    assert len(commands) == 2 and commands[1][-1] == f"camadas-personalizadas @ git+{REPOSITORY}"


def test_setup_cell_stops_with_a_portuguese_message_when_nothing_installs(monkeypatch):
    result, commands = run_setup_without_package(monkeypatch, failures=2)
    assert len(commands) == 2
    assert isinstance(result.error_in_exec, RuntimeError)
    message = str(result.error_in_exec)
    assert message.startswith("Não foi possível instalar o pacote deste livro")
    assert SITE_URL.rstrip("/") in message and REPOSITORY in message


def test_setup_cell_installs_nothing_where_the_package_is_present(monkeypatch):
    recorder = PipRecorder(failures=0)
    monkeypatch.setattr(subprocess, "run", recorder)
    shell = InteractiveShell.instance()
    try:
        assert shell.run_cell(SETUP_SOURCE).success
        assert "tab" in shell.magics_manager.magics["cell"]
    finally:
        InteractiveShell.clear_instance()
    assert recorder.commands == []
