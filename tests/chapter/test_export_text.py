"""Exports stand alone: export texts, links to sibling exports, images as attachments."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from frametabs.export import export_notebook
from frametabs.export_text import ExportError, adapt_markdown
from frametabs.frameworks import FRAMEWORKS, LABELS

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = ROOT / "exports"
EXPORT_FILES = sorted(EXPORTS.glob("*.*.ipynb"))
FIGURE = ROOT / "chapters" / "images" / "exercise-fourier-half.png"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))
SIBLINGS = frozenset({"custom-layers", "exercises"})

# Text that only makes sense in the three-framework notebook or in the book's tabs.
THREE_FRAMEWORK_TEXT = [
    r"%%tab",
    r"load_ext",
    r"FRAMETABS_FRAMEWORKS",
    r"\bmágica\b",
    r"\babas?\b",
    r"escondida no livro",
    r"escolh\w* (o )?(seu )?framework",
    r"\b(do seu|mesmo) framework\b",
    r"\b(dois|três) frameworks\b",
    r"em mais de um\b",
    r"frameworks que não estiverem instalados",
    r"MXNet, PyTorch (ou|e) TensorFlow",
]


def with_export(source, export):
    return new_markdown_cell(source, metadata={"frametabs": {"export": export}})


def exported_sources(cells, framework, **options):
    exported = export_notebook(new_notebook(cells=cells), framework, **options)
    return [cell.source for cell in exported.cells]


def test_export_text_replaces_the_cell_with_the_framework_label():
    cells = [with_export("Escolha a aba do seu framework.", "Código em {framework}: {framework}.")]
    for framework in FRAMEWORKS:
        label = LABELS[framework]
        assert exported_sources(cells, framework) == [f"Código em {label}: {label}."]


def test_export_text_per_framework_keeps_or_leaves_out_the_others():
    cells = [
        with_export("Livro", {"pytorch": "Só PyTorch", "mxnet": False}),
        new_markdown_cell("Comum"),
    ]
    assert exported_sources(cells, "pytorch") == ["Só PyTorch", "Comum"]
    assert exported_sources(cells, "mxnet") == ["Comum"]
    assert exported_sources(cells, "tensorflow") == ["Livro", "Comum"]


def test_export_setting_is_removed_from_the_exported_cells():
    cell = with_export("Livro", "Exportação")
    cell.metadata["frametabs"]["other"] = 1
    cells = [cell, with_export("Livro", {"pytorch": "Exportação"})]
    exported = export_notebook(new_notebook(cells=cells), "pytorch")
    assert exported.cells[0].metadata == {"frametabs": {"other": 1}}
    assert exported.cells[1].metadata == {}


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (with_export("Livro", {"jax": "Texto"}), "unknown framework"),
        (with_export("Livro", 3), "must be false, a text or a mapping"),
        (new_code_cell("x = 1", metadata={"frametabs": {"export": "y = 2"}}), "only Markdown"),
    ],
)
def test_malformed_export_settings_are_refused(cell, message):
    with pytest.raises(ExportError, match=message):
        export_notebook(new_notebook(cells=[cell]), "pytorch")


def test_links_to_sibling_notebooks_point_at_the_same_framework_export():
    source = (
        "[a](exercises.ipynb), [b](custom-layers.ipynb#camadas-com-parametros), "
        '[c](exercises.md "título"), [d](exercises), [e](https://pt.d2l.ai/x.ipynb), '
        "[f](#resumo), ![g](https://example.org/g.png)"
    )
    adapted, attachments = adapt_markdown(source, "mxnet", siblings=SIBLINGS)
    assert adapted == (
        "[a](exercises.mxnet.ipynb), [b](custom-layers.mxnet.ipynb#camadas-com-parametros), "
        '[c](exercises.mxnet.ipynb "título"), [d](exercises.mxnet.ipynb), '
        "[e](https://pt.d2l.ai/x.ipynb), [f](#resumo), ![g](https://example.org/g.png)"
    )
    assert attachments == {}


@pytest.mark.parametrize("target", ["solutions.md", "outro.ipynb", "../chapters/exercises.ipynb"])
def test_links_a_lone_export_cannot_follow_are_refused(target):
    with pytest.raises(ExportError, match="cannot be followed from a downloaded export"):
        adapt_markdown(f"[x]({target})", "pytorch", siblings=SIBLINGS)


def test_relative_images_become_attachments(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "figura.png").write_bytes(PNG)
    cell = new_markdown_cell("Antes ![Uma figura](images/figura.png) depois")
    exported = export_notebook(new_notebook(cells=[cell]), "pytorch", source_dir=tmp_path)
    (only,) = exported.cells
    assert only.source == "Antes ![Uma figura](attachment:figura.png) depois"
    assert base64.b64decode(only.attachments["figura.png"]["image/png"]) == PNG
    nbformat.validate(exported)


@pytest.mark.parametrize("source_dir", [None, Path("/nonexistent")])
def test_images_that_cannot_be_embedded_are_refused(source_dir):
    with pytest.raises(ExportError, match="image"):
        adapt_markdown("![x](images/falta.png)", "pytorch", source_dir=source_dir)


def test_two_different_images_with_one_name_are_refused(tmp_path):
    for folder, data in (("a", PNG), ("b", PNG + b"!")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "f.png").write_bytes(data)
    with pytest.raises(ExportError, match="two different images"):
        adapt_markdown("![1](a/f.png) ![2](b/f.png)", "pytorch", source_dir=tmp_path)


def markdown_cells(path):
    return [
        cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "markdown"
    ]


def three_framework_passages(text):
    return [p for p in THREE_FRAMEWORK_TEXT if re.search(p, text, re.IGNORECASE)]


def test_the_scan_finds_the_book_texts_that_exports_replace():
    book = nbformat.read(ROOT / "chapters" / "exercises.ipynb", as_version=4)
    how_to_work = next(cell for cell in book.cells if cell.get("id") == "how-to-work")
    assert len(three_framework_passages(how_to_work.source)) >= 5
    assert three_framework_passages(how_to_work.metadata["frametabs"]["export"]) == []


@pytest.mark.parametrize("path", EXPORT_FILES, ids=lambda path: path.stem)
def test_committed_export_reads_as_a_single_framework_notebook(path):
    framework = path.name.split(".")[-2]
    notebook = nbformat.read(path, as_version=4)
    assert notebook.metadata["frametabs"] == {"framework": framework}
    for cell in notebook.cells:
        assert "export" not in cell.metadata.get("frametabs", {})
        if cell.cell_type == "markdown":
            assert three_framework_passages(cell.source) == [], cell.source


@pytest.mark.parametrize("path", EXPORT_FILES, ids=lambda path: path.stem)
def test_committed_export_links_and_images_work_in_a_lone_download(path):
    framework = path.name.split(".")[-2]
    for cell in markdown_cells(path):
        for bang, target in re.findall(r"(!?)\[[^\]]*\]\(([^)\s]+)", cell.source):
            if re.match(r"^(https?|mailto):|^#", target):
                continue
            if bang:
                name = target.removeprefix("attachment:")
                assert target.startswith("attachment:") and name in cell.get("attachments", {})
                data = base64.b64decode(cell.attachments[name]["image/png"])
                assert data.startswith(b"\x89PNG"), target
            else:
                page = target.partition("#")[0]
                assert page.endswith(f".{framework}.ipynb"), target
                assert (EXPORTS / page).is_file(), target


def test_exercise_exports_embed_the_fourier_figure():
    for framework in FRAMEWORKS:
        path = EXPORTS / f"exercises.{framework}.ipynb"
        bundles = [c.attachments for c in markdown_cells(path) if c.get("attachments")]
        assert len(bundles) == 1 and list(bundles[0]) == [FIGURE.name]
        assert base64.b64decode(bundles[0][FIGURE.name]["image/png"]) == FIGURE.read_bytes()
