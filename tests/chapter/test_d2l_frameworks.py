"""d2l's frameworks the book does not run (``jax``, ``paddle``): accepted, skipped, left out."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from nbformat.v4 import new_code_cell, new_notebook, new_output

from frametabs.export import export_notebook
from frametabs.frameworks import FRAMEWORKS, MarkerError, parse_marker, parse_targets
from frametabs.magic import OUTPUT_KEY, TabRunner
from frametabs.split import Origin, split_notebook


@pytest.fixture
def shell():
    shell = InteractiveShell.instance()
    runner = TabRunner(shell, enabled=FRAMEWORKS)
    shell.register_magic_function(runner.run_cell, magic_kind="cell", magic_name="tab")
    yield shell, runner
    InteractiveShell.clear_instance()


def test_markers_accept_every_name_d2l_uses():
    assert parse_targets("pytorch, mxnet, tensorflow, jax") == (FRAMEWORKS, ("jax",))
    assert parse_targets("JAX, paddle") == ((), ("jax", "paddle"))
    marker = parse_marker("%%tab jax\nimport jax")
    assert (marker.frameworks, marker.others, marker.body) == ((), ("jax",), "import jax")
    assert parse_marker("%%tab pytorch, jax\nx").frameworks == ("pytorch",)


@pytest.mark.parametrize("spec", ["pytroch", "jax, keras"])
def test_a_typo_is_still_an_error_that_names_it(spec):
    with pytest.raises(MarkerError, match=r"unknown framework (pytroch|keras) in %%tab"):
        parse_marker(f"%%tab {spec}\nx = 1")


@pytest.mark.parametrize(("name", "label"), [("jax", "JAX"), ("paddle", "PaddlePaddle")])
def test_a_cell_only_for_other_frameworks_is_skipped_with_one_line(shell, name, label):
    shell, runner = shell
    with capture_output() as captured:
        result = shell.run_cell(f"%%tab {name}\nraise RuntimeError('não deveria rodar')")
    assert result.success
    assert captured.stdout.count("\n") == 1
    assert f"célula de {label} ignorada" in captured.stdout
    assert "MXNet, PyTorch e TensorFlow" in captured.stdout
    assert set(runner.namespaces) == set()


def test_a_cell_shared_with_jax_runs_for_the_book_quietly(shell):
    shell, _ = shell
    with capture_output() as captured:
        result = shell.run_cell("%%tab pytorch, jax\n40 + 2")
    assert result.result == 42
    assert "ignorada" not in captured.stdout


def test_a_multi_framework_cell_shared_with_jax_tags_only_book_frameworks(shell, monkeypatch):
    import IPython.display

    shell, _ = shell
    published = []
    monkeypatch.setattr(
        IPython.display,
        "publish_display_data",
        lambda data, metadata=None, **kwargs: published.append(metadata[OUTPUT_KEY]),
    )
    with capture_output() as captured:
        shell.run_cell("%%tab mxnet, pytorch, jax\nprint('oi')")
    assert [tag["framework"] for tag in published] == ["mxnet", "pytorch"]
    assert captured.stdout == "", "an untagged note would break the page's split"


VALUES = {"mxnet": "mx", "pytorch": "pt", "tensorflow": "tf"}


def jax_notebook():
    note = new_output("stream", name="stdout", text="[frametabs] célula de JAX ignorada\n")
    cells = [new_code_cell(f"%%tab {fw}\nx = '{value}'") for fw, value in VALUES.items()]
    cells.insert(1, new_code_cell("%%tab jax\nx = 'jax'", outputs=[note]))
    return new_notebook(cells=cells)


def test_the_page_has_no_cell_for_jax():
    cells = split_notebook(jax_notebook()).cells
    assert [Origin.from_metadata(cell.metadata).framework for cell in cells] == list(FRAMEWORKS)
    assert all("jax" not in cell.source for cell in cells)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_no_export_has_the_jax_cell(framework):
    exported = export_notebook(jax_notebook(), framework)
    assert [cell.source for cell in exported.cells] == [f"x = '{VALUES[framework]}'"]
