"""The Sphinx extension on small projects built in tmp_path."""

from __future__ import annotations

import itertools
import re

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell

from frametabs.frameworks import DEFAULT_FRAMEWORK, FRAMEWORKS, LABELS
from frametabs.sphinx_tabs import FrameTabsError

pytestmark = pytest.mark.slow


@pytest.fixture
def sample_page(project, nbkit):
    """The sample notebook built into a page; returns (project, notebook)."""
    nb = nbkit.sample_notebook()
    project.add_notebook("caderno", nb)
    project.build()
    return project, nb


def test_each_run_of_framework_cells_becomes_one_tab_set(sample_page, html):
    project, nb = sample_page
    kinds = [cell.source.startswith("%%tab") for cell in nb.cells]
    runs = sum(1 for is_tab, _ in itertools.groupby(kinds) if is_tab)
    assert len(html.tab_groups(project.page("caderno"))) == runs == 2


def test_tabs_are_labelled_in_book_order_with_pytorch_selected(sample_page, html):
    project, _ = sample_page
    for group in html.tab_groups(project.page("caderno")):
        tabs = html.tabs_of(group)
        assert [sync for sync, *_ in tabs] == list(FRAMEWORKS)
        assert [label for _, label, *_ in tabs] == [LABELS[fw] for fw in FRAMEWORKS]
        assert [sync for sync, _, _, checked in tabs if checked] == [DEFAULT_FRAMEWORK]


def test_marker_is_hidden_and_code_is_in_its_tab(sample_page, html):
    project, nb = sample_page
    page = project.page("caderno")
    assert "%%tab" not in page.get_text()
    first_group = html.tab_groups(page)[0]
    for sync, _, content, _ in html.tabs_of(first_group):
        (code,) = html.code_texts(content)
        original = next(c.source for c in nb.cells if c.source.startswith(f"%%tab {sync}\n"))
        assert code.strip() == original.partition("\n")[2].strip()


def test_multi_framework_outputs_are_split_between_tabs(sample_page, html):
    project, nb = sample_page
    shared = next(c for c in nb.cells if c.source.startswith("%%tab all"))
    group = html.tab_groups(project.page("caderno"))[1]
    for sync, _, content, _ in html.tabs_of(group):
        expected = [
            out.data["text/plain"]
            for out in shared.outputs
            if out.metadata["frametabs"]["framework"] == sync
        ]
        assert [text.strip() for text in html.output_texts(content)] == expected


def test_cells_without_marker_stay_outside_the_tabs(sample_page, html):
    project, nb = sample_page
    page = project.page("caderno")
    plain = next(c for c in nb.cells if c.source.startswith("plain_value"))
    cells = [cell for cell in page.select("div.cell") if not cell.find_parent(class_="sd-tab-set")]
    assert [html.code_texts(cell)[0].strip() for cell in cells] == [plain.source]


def test_download_box_links_each_export(sample_page):
    project, _ = sample_page
    box = project.page("caderno").select_one("div.frametabs-downloads")
    assert box is not None
    assert box.get_text(" ", strip=True).startswith("Baixe este caderno para um só framework:")
    links = box.select("a.reference.download")
    assert [link.get_text() for link in links] == [LABELS[fw] for fw in FRAMEWORKS]
    for fw, link in zip(FRAMEWORKS, links, strict=True):
        assert link["href"].startswith("_downloads/")
        assert link["href"].endswith(f"/caderno.{fw}.ipynb")
        copied = project.out / link["href"]
        assert copied.read_bytes() == (project.src / "exports" / f"caderno.{fw}.ipynb").read_bytes()


def test_page_without_framework_cells_has_no_box_and_needs_no_exports(project, html):
    nb = nbformat.v4.new_notebook(cells=[new_markdown_cell("# Só texto")])
    project.add_notebook("texto", nb, exports=False)
    project.build()
    page = project.page("texto")
    assert page.select("div.frametabs-downloads") == []
    assert html.tab_groups(page) == []


def test_script_and_style_are_linked(sample_page):
    project, _ = sample_page
    page = project.page("caderno")
    script = page.find("script", src=re.compile(r"_static/frametabs\.js"))
    assert script["data-sync-group"] == "framework"
    assert script["data-frameworks"].split() == list(FRAMEWORKS)
    assert page.find("link", href=re.compile(r"_static/frametabs\.css"))
    assert (project.out / "_static" / "frametabs.js").is_file()


@pytest.mark.parametrize("missing", FRAMEWORKS)
def test_group_missing_a_framework_fails_naming_notebook_and_cell(project, nbkit, missing):
    present = [fw for fw in FRAMEWORKS if fw != missing]
    cells = nbkit.group_cells("only", present)
    project.add_notebook("incompleto", nbkit.notebook(new_markdown_cell("# Incompleto"), *cells))
    with pytest.raises(FrameTabsError) as caught:
        project.build()
    message = str(caught.value)
    assert "incompleto.ipynb" in message
    assert "cell index 2" in message  # the group's first cell, after the title cell
    assert f"print('only {present[0]}')" in message
    assert LABELS[missing] in message


def test_missing_export_fails_the_build(project, nbkit):
    project.add_notebook("sem_exportar", nbkit.sample_notebook(), exports=False)
    with pytest.raises(FrameTabsError, match=r"sem_exportar\.ipynb.*sem_exportar\.mxnet\.ipynb"):
        project.build()


def test_unknown_framework_fails_naming_notebook(project, nbkit):
    cell = nbkit.framework_cell("pytroch", "import torch")
    project.add_notebook("jax", nbkit.notebook(cell))
    with pytest.raises(FrameTabsError, match=r"jax\.ipynb: cell index 1 .*pytroch"):
        project.build()
