"""The book's package installs on every Python a learner's notebook runs, pulling no framework."""

from __future__ import annotations

import email
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from frametabs.publish import build_wheel, links_page, package_folders

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORK_DISTRIBUTIONS = ("torch", "tensorflow", "tensorflow-cpu", "mxnet", "jax", "keras")
# What a learner's notebook runs on the new interpreter: the extension and the check API.
SMOKE = """
import sys
from IPython.core.interactiveshell import InteractiveShell
from grading.notebook import check  # the check API the exercise notebooks import
shell = InteractiveShell.instance()
assert shell.run_cell("%load_ext frametabs").success
assert "tab" in shell.magics_manager.magics["cell"]
result = shell.run_cell("%%tab pytorch\\nprint('rodou')")
assert result.success
print("ok", sys.version_info[:2], callable(check))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(ROOT, tmp_path_factory.mktemp("wheel"))


def wheel_metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.message_from_bytes(archive.read(name))


def test_the_wheel_requires_no_framework_and_accepts_new_pythons(wheel):
    metadata = wheel_metadata(wheel)
    declared = metadata.get_all("Requires-Dist")
    requirements = [line.split(";")[0].strip().lower() for line in declared]
    assert sorted(requirements) == ["ipython", "numpy"]
    assert metadata["Requires-Python"] == ">=3.11"


def test_the_wheel_holds_every_package_and_its_data(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for folder in package_folders(ROOT):
        assert f"{folder.name}/__init__.py" in names
    assert "frametabs/static/frametabs.js" in names
    assert not any("__pycache__" in name or name.startswith("tests/") for name in names)


def test_the_links_page_is_what_pip_find_links_reads(tmp_path):
    page = links_page([tmp_path / "camadas_personalizadas-0.1.0-py3-none-any.whl"])
    assert 'href="camadas_personalizadas-0.1.0-py3-none-any.whl"' in page


def pyenv_python(version: str) -> Path:
    """pyenv's interpreter for ``version``; skip without it, fail on CI."""
    minor = ".".join(version.split(".")[:2])
    pyenv = shutil.which("pyenv")
    found = None
    if pyenv:
        result = subprocess.run(
            [pyenv, "which", f"python{minor}"],
            env={**os.environ, "PYENV_VERSION": version},
            capture_output=True,
            text=True,
            check=False,
        )
        found = Path(result.stdout.strip()) if result.returncode == 0 else None
    if found is None or not found.exists():
        message = f"Python {version} not found through pyenv"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI=true requires the install test")
        pytest.skip(message)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("version", ["3.12.1", "3.13.0"])
def test_the_package_installs_and_loads_on_newer_pythons(version, wheel, tmp_path):
    python = pyenv_python(version)
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", venv], check=True)
    venv_python = venv / "bin" / "python"
    install = subprocess.run(
        [venv_python, "-m", "pip", "install", "--quiet", wheel],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    listed = subprocess.run(
        [venv_python, "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.lower()
    installed = {line.split("==")[0] for line in listed.splitlines()}
    assert "camadas-personalizadas" in installed
    assert not installed & set(FRAMEWORK_DISTRIBUTIONS)
    smoke = subprocess.run(
        [venv_python, "-c", SMOKE],
        cwd=tmp_path,  # not the repository: only the installed package is importable
        env={key: value for key, value in os.environ.items() if key != "PYTHONPATH"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert smoke.returncode == 0, smoke.stdout[-2000:] + smoke.stderr[-3000:]
    minor = tuple(int(part) for part in version.split(".")[:2])
    assert f"ok {minor}" in smoke.stdout
    assert "célula de PyTorch ignorada" in smoke.stdout
    assert sys.version_info[:2] != minor  # the test really ran another interpreter
