"""Splitting ``%%tab`` cells into one plain cell per framework (no Sphinx involved)."""

from __future__ import annotations

import pytest
from nbformat.v4 import new_code_cell, new_output

from frametabs.frameworks import FRAMEWORKS
from frametabs.split import Origin, SplitError, has_framework_cells, split_notebook


def split_cells(nb):
    """(framework, cell) for every split cell of ``nb``."""
    return [
        (Origin.from_metadata(cell.metadata).framework, cell)
        for cell in split_notebook(nb).cells
        if Origin.from_metadata(cell.metadata)
    ]


def test_marker_line_is_dropped_and_body_kept(nbkit):
    nb = nbkit.notebook(*nbkit.group_cells("g"))
    originals = {cell.source.partition("\n")[0]: cell for cell in nb.cells[1:]}
    for framework, cell in split_cells(nb):
        original = originals[f"%%tab {framework}"]
        assert "%%tab" not in cell.source
        assert cell.source == original.source.partition("\n")[2]


def test_single_framework_cell_keeps_its_outputs(nbkit):
    nb = nbkit.notebook(*nbkit.group_cells("g"))
    for (framework, cell), original in zip(split_cells(nb), nb.cells[1:], strict=True):
        assert original.source.startswith(f"%%tab {framework}")
        assert cell.outputs == original.outputs


def test_multi_framework_cell_outputs_go_to_their_framework(nbkit):
    outputs = [
        nbkit.tagged(fw, kind, f"{kind} {fw}") for fw in FRAMEWORKS for kind in ("stdout", "result")
    ]
    nb = nbkit.notebook(nbkit.framework_cell("all", "value", outputs, count=3))
    cells = split_cells(nb)
    assert [fw for fw, _ in cells] == list(FRAMEWORKS)
    for framework, cell in cells:
        assert [out.output_type for out in cell.outputs] == ["stream", "execute_result"]
        stream, result = cell.outputs
        assert stream.name == "stdout"
        assert stream.text == f"stdout {framework}\n"
        assert result.data["text/plain"] == f"result {framework}"
        assert result.execution_count == 3
        assert "frametabs" not in result.metadata


def test_split_cells_name_their_origin(nbkit):
    nb = nbkit.notebook(nbkit.framework_cell("mxnet, tensorflow", "\n\nfirst = 1\nsecond = 2"))
    cells = split_cells(nb)
    assert [fw for fw, _ in cells] == ["mxnet", "tensorflow"]
    for framework, cell in cells:
        assert Origin.from_metadata(cell.metadata) == Origin(framework, 1, "first = 1")


def test_stderr_and_display_outputs_are_restored(nbkit):
    image = {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}
    tag = {"frametabs": {"framework": "pytorch", "kind": "display"}}
    display = new_output("display_data", data=image, metadata=tag)
    outputs = [nbkit.tagged("pytorch", "stderr", "careful"), display]
    nb = nbkit.notebook(nbkit.framework_cell("mxnet, pytorch", "plot()", outputs))
    cells = dict(split_cells(nb))
    assert cells["mxnet"].outputs == []
    stream, shown = cells["pytorch"].outputs
    assert (stream.output_type, stream.name, stream.text) == ("stream", "stderr", "careful\n")
    assert shown.output_type == "display_data"
    assert shown.data == image


def test_cells_without_marker_are_untouched(nbkit):
    nb = nbkit.sample_notebook()
    plain = [cell for cell in nb.cells if not cell.source.startswith("%%tab")]
    kept = [cell for cell in split_notebook(nb).cells if not Origin.from_metadata(cell.metadata)]
    assert kept == plain


def test_other_frametabs_metadata_is_kept(nbkit):
    cell = nbkit.framework_cell("pytorch", "import torch")
    cell.metadata["frametabs"] = {"export": False}
    ((_, split),) = split_cells(nbkit.notebook(cell))
    assert split.metadata["frametabs"]["export"] is False
    assert Origin.from_metadata(split.metadata).framework == "pytorch"


def test_split_ids_stay_unique(nbkit):
    nb = nbkit.sample_notebook()
    ids = [cell.id for cell in split_notebook(nb).cells]
    assert len(ids) == len(set(ids))


def test_input_notebook_is_not_modified(nbkit):
    nb = nbkit.sample_notebook()
    before = [dict(cell) for cell in nb.cells]
    split_notebook(nb)
    assert [dict(cell) for cell in nb.cells] == before


def test_untagged_output_of_multi_framework_cell_is_an_error(nbkit):
    stray = new_output("stream", name="stdout", text="who printed this?\n")
    nb = nbkit.notebook(nbkit.framework_cell("all", "x = 1", [stray]))
    with pytest.raises(SplitError, match=r"cell index 1 \('x = 1'\).*output 0"):
        split_notebook(nb)


def test_unknown_framework_is_an_error_naming_the_cell(nbkit):
    nb = nbkit.notebook(new_code_cell("%%tab pytroch\nimport torch"))
    with pytest.raises(SplitError, match=r"cell index 1 .*pytroch"):
        has_framework_cells(nb)


def test_notebook_without_markers_has_no_framework_cells(nbkit):
    nb = nbkit.notebook(new_code_cell("print('%%tab is only text here')"))
    assert not has_framework_cells(nb)
    assert has_framework_cells(nbkit.notebook(*nbkit.group_cells("g")))
