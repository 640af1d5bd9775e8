"""The solutions page shows the tested code and figures that its script regenerates."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from solutions import EXERCISES, figures, speed

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


def test_figure_captions_speak_to_readers():
    """Captions say what a figure shows; how to regenerate it is for the developers' docs."""
    captions = re.findall(r"```\{figure\} \S+\n(?::\w+:[^\n]*\n)*\n(.*?)```", _page(), re.DOTALL)
    assert len(captions) == 2, captions
    for caption in captions:
        assert caption.strip(), "a figure without a caption"
        assert "python" not in caption and "solutions.figures" not in caption, caption


def test_page_shows_the_speed_figure():
    assert "{figure} images/solutions-speed.png" in _page()


def test_fourier_figure_labels_t_and_k_with_integers():
    """Left to matplotlib, the k axis of the page's figure reads 0.0, 2.5, 5.0."""
    with figures.new_figure(figures.FOURIER_HALF_SIZE) as figure:
        figures.draw_fourier_half(figure)
        figure.canvas.draw()
        for axes in figure.axes:
            low, high = axes.get_xlim()
            ticks = [tick for tick in axes.get_xticks() if low <= tick <= high]
            assert len(ticks) > 2 and all(float(tick).is_integer() for tick in ticks), ticks


@pytest.mark.slow
def test_figures_regenerate_identically(tmp_path):
    """``python -m solutions.figures`` runs and reproduces the committed images byte for byte."""
    assert figures.main(["--output-dir", str(tmp_path)]) == 0
    for committed in (figures.FOURIER_HALF_PNG, figures.SPEED_PNG):
        output = tmp_path / committed.name
        assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert output.read_bytes() == committed.read_bytes(), (
            f"chapters/images/{committed.name} is stale: run python -m solutions.figures"
        )
    assert figures.main(["--check"]) == 0


@pytest.mark.slow
def test_drift_check_fails_when_the_benchmark_data_changes(tmp_path):
    """The speed figure is checked against the data: other timings make it stale."""
    text = speed.DATA.read_text(encoding="utf-8")
    rows = speed.loads(text)
    first = rows[0]
    changed = [dataclasses.replace(first, layer_ms=first.layer_ms * 2), *rows[1:]]
    data = tmp_path / "changed.json"
    data.write_text(speed.dumps(changed, command="test", threads=1, repeats=1), encoding="utf-8")
    assert figures.main(["--check", "--data", str(data)]) == 1
    assert figures.main(["--check", "--data", str(speed.DATA)]) == 0
