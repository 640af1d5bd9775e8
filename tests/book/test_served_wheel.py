"""A lone download works: the exercises' PyTorch export installs the package from the book.

The built book (with the wheel ``make book`` publishes in ``pacote/``) is served on
127.0.0.1; ``exports/exercises.pytorch.ipynb`` runs, as a downloaded file, in a fresh
environment that sees only the lean PyTorch environment's packages and not this project.
Its set-up cell must install the package from that server, and the check cells must give
their verdicts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from frametabs.setup_cell import BOOK_URL_VARIABLE, WHEEL_FOLDER

pytestmark = [pytest.mark.lean, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
EXPORT = ROOT / "exports" / "exercises.pytorch.ipynb"
LEAN = ROOT / ".venvs" / "pytorch"
KERNEL_NAME = "served-wheel-test"


@pytest.fixture
def served_book(built_book, book_server):
    """The built book on 127.0.0.1, and the paths asked of it."""
    served: list[tuple[str, int]] = []
    with book_server(built_book, served) as address:
        yield address, served


def lean_site_packages() -> Path:
    python = LEAN / "bin" / "python"
    if not python.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"lean environment {python} missing: `make lean-envs` builds it")
        pytest.skip(f"lean environment {python} missing: run `make lean-envs`")
    paths = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(paths.stdout.strip())


def learner_environment(root: Path) -> Path:
    """A new virtual environment that sees the lean PyTorch packages; returns its python.

    The lean packages come in through a ``.pth`` file (no copy of torch), so ``pip`` there
    counts them as installed and installs only the book's package, into the new one.
    """
    venv = root / "learner"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "lean-pytorch.pth").write_text(f"{lean_site_packages()}\n")
    return python


def kernel_spec(folder: Path, python: Path) -> Path:
    """A kernelspec running ipykernel on ``python``, under a private ``JUPYTER_PATH``."""
    spec = folder / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "learner", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))
    return folder


def importable(python: Path, module: str, cwd: Path) -> bool:
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([python, "-c", probe], cwd=cwd, check=False).returncode == 0


def outputs_text(cell) -> str:
    parts = []
    for output in cell.outputs:
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
        parts.append(output.get("evalue", ""))
    return "\n".join(parts)


def test_downloaded_exercises_install_the_package_from_the_served_book(
    served_book, tmp_path, monkeypatch
):
    url, served = served_book
    python = learner_environment(tmp_path)
    download = tmp_path / "Downloads"
    download.mkdir()
    notebook_path = shutil.copy(EXPORT, download / EXPORT.name)
    assert importable(python, "torch", download)
    assert not importable(python, "grading", download), "the package is already there"
    assert not importable(python, "frametabs", download)

    monkeypatch.setenv("JUPYTER_PATH", str(kernel_spec(tmp_path / "jupyter", python)))
    monkeypatch.delenv("PYTHONPATH", raising=False)
    notebook = nbformat.read(notebook_path, as_version=4)
    for cell in notebook.cells:
        cell.outputs = []
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update({BOOK_URL_VARIABLE: url, "PIP_NO_INDEX": "1", "GIT_TERMINAL_PROMPT": "0"})
    NotebookClient(
        notebook,
        kernel_name=KERNEL_NAME,
        timeout=600,
        resources={"metadata": {"path": str(download)}},
    ).execute(env=env)

    wheels = [(path, status) for path, status in served if path.startswith(f"/{WHEEL_FOLDER}/")]
    assert any(path.endswith(".whl") and status == 200 for path, status in wheels)
    assert importable(python, "grading", download)
    checks = [cell for cell in notebook.cells if "check" in cell.metadata.get("tags", [])]
    assert len(checks) == 2
    for cell in checks:
        text = outputs_text(cell)
        assert "ainda não implementado" in text and "pontos" in text, text
        assert not any(output.output_type == "error" for output in cell.outputs)
