"""The solutions page shows the tested code and a figure that its script regenerates."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from solutions import EXERCISES, figures

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "chapters" / "solutions.md"
FRAMEWORKS = ("mxnet", "pytorch", "tensorflow")


def _page() -> str:
    return PAGE.read_text(encoding="utf-8")


def test_page_title_is_portuguese():
    assert _page().splitlines()[0] == "# Soluções dos exercícios"


def test_page_includes_every_solution_class_from_the_tested_files():
    includes = re.findall(r"```\{literalinclude\} (\S+)\n(?::\w+:.*\n)*?:pyobject: (\w+)", _page())
    expected = {(f"../solutions/{fw}.py", exercise) for fw in FRAMEWORKS for exercise in EXERCISES}
    assert set(includes) == expected and len(includes) == len(expected)
    for path, name in includes:
        source = (PAGE.parent / path).resolve()
        classes = {
            n.name for n in ast.parse(source.read_text()).body if isinstance(n, ast.ClassDef)
        }
        assert name in classes, f"{path} defines no {name}"


def test_tabs_are_synced_by_framework_with_pytorch_selected():
    page = _page()
    assert page.count(":sync-group: framework") == len(EXERCISES)
    for framework in FRAMEWORKS:
        assert page.count(f":sync: {framework}") == len(EXERCISES)
    assert re.findall(r":sync: (\w+)\n:selected:", page) == ["pytorch"] * len(EXERCISES)
    assert page.count("{dropdown} Mostrar solução") == len(EXERCISES) * len(FRAMEWORKS)


def test_images_referenced_by_the_page_exist():
    images = re.findall(r"\{figure\} (\S+)|!\[[^\]]*\]\(([^)]+)\)", _page())
    paths = [first or second for first, second in images]
    assert paths, "the page shows no figure"
    for path in paths:
        assert (PAGE.parent / path).is_file(), path


@pytest.mark.slow
def test_figure_regenerates_identically(tmp_path):
    """``python -m solutions.figures`` runs and reproduces the committed image byte for byte."""
    output = tmp_path / "fourier-half.png"
    assert figures.main(["--output", str(output)]) == 0
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert output.read_bytes() == figures.FOURIER_HALF_PNG.read_bytes(), (
        "chapters/images/fourier-half.png is stale: run python -m solutions.figures"
    )
    assert figures.main(["--check"]) == 0
