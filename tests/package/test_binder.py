"""Binder's environment files: the pinned environment, CPU builds only, the book's package."""

from __future__ import annotations

import os
import re
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def requirement_lines(path: Path) -> list[str]:
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line]


def test_binder_installs_the_pinned_environment_with_the_cpu_index():
    lines = requirement_lines(BINDER / "requirements.txt")
    assert lines == [f"--extra-index-url {CPU_INDEX}", "-r ../requirements.txt"]
    assert (BINDER / lines[1].split()[1]).resolve() == ROOT / "requirements.txt"
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"


def test_the_pins_pull_no_cuda_package():
    pins = requirement_lines(ROOT / "requirements.txt")
    names = [re.split(r"[=<>!~\[ ]", line)[0].lower() for line in pins]
    assert not [name for name in names if name.startswith("nvidia") or "cuda" in name]
    assert "tensorflow-cpu==2.17.1" in pins and "tensorflow" not in names
    torch = next(line for line in pins if line.startswith("torch=="))
    # The CPU index's build satisfies the pin and outranks PyPI's CUDA build of that version.
    pinned = torch.removeprefix("torch==")
    assert SpecifierSet(f"=={pinned}").contains(f"{pinned}+cpu")
    assert Version(f"{pinned}+cpu") > Version(pinned)


def test_binder_installs_the_books_package_after_the_environment():
    post_build = BINDER / "postBuild"
    assert os.access(post_build, os.X_OK)
    assert "pip install --no-deps -e ." in post_build.read_text()
    assert not (ROOT / "postBuild").exists(), "repo2docker reads binder/ only: keep one copy"
