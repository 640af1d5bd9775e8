"""A converted d2l section runs under ``%load_ext frametabs`` and builds with warnings as errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from nbformat.v4 import new_markdown_cell

from frametabs.convert import convert
from frametabs.execute import run_in_kernel
from frametabs.frameworks import ENV_VARIABLE, FRAMEWORKS, LABELS, installed_frameworks
from frametabs.sphinx_tabs import TAB_SET_CLASS

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "d2l"
DIALECTS = {"current": "current-dialect.md", "older": "older-dialect.md"}
# The MyST extensions Jupyter Book enables by default (the book's _config.yml keeps them).
MYST_CONF = (
    'myst_enable_extensions = ["colon_fence", "dollarmath", "linkify", "substitution", '
    '"tasklist"]\nmyst_dmath_double_inline = True\n'
)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Each fixture section converted and run in a kernel, once per module: dialect -> nb."""
    if installed_frameworks() != FRAMEWORKS:
        pytest.skip("the converted sections use all three frameworks")
    notebooks = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(ENV_VARIABLE, raising=False)  # the kernel runs every framework
        for dialect, name in DIALECTS.items():
            notebook = convert((FIXTURES / name).read_text(encoding="utf-8")).notebook
            notebooks[dialect] = run_in_kernel(notebook, tmp_path_factory.mktemp(dialect), 300)
    return notebooks


def outputs_of(notebook) -> list[tuple[str | None, str, str]]:
    """(framework tag, output type, text) of every output of the notebook's code cells."""
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            tag = output.get("metadata", {}).get("frametabs", {}).get("framework")
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            found.append((tag, output.output_type, text.strip()))
    return found


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("current", [(fw, "display_data", "escala: 2") for fw in FRAMEWORKS]),
        ("older", [(fw, "display_data", "dobro: 42") for fw in FRAMEWORKS]),
    ],
)
def test_a_converted_section_executes_under_our_extension(executed, dialect, expected):
    outputs = outputs_of(executed[dialect])
    assert not [out for out in outputs if out[1] == "error"], outputs
    assert all(out in outputs for out in expected), outputs


def test_the_branching_cell_ran_once_per_framework(executed):
    outputs = outputs_of(executed["current"])
    centred = [out for out in outputs if out[2].startswith("centrada:")]
    assert centred == [(None, "stream", "centrada: [-2.0, -1.0, 0.0, 1.0, 2.0]")] * 3


def build(project, executed, dialect):
    with (project.src / "conf.py").open("a", encoding="utf-8") as conf:
        conf.write(MYST_CONF)
    project.add_notebook("camadas", executed[dialect])
    project.build()
    return project.page("camadas")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_converted_section_renders_with_complete_tab_groups(project, executed, html, dialect):
    page = build(project, executed, dialect)
    code_groups = page.select(f"div.sd-tab-set.{TAB_SET_CLASS}")
    assert len(code_groups) == (6 if dialect == "current" else 3)
    for group in code_groups:
        assert [label for _, label, *_ in html.tabs_of(group)] == [LABELS[fw] for fw in FRAMEWORKS]
    text = page.get_text()
    assert "%%tab" not in text and "instala antes" not in text
    assert "JAX" not in text and "jnp" not in text
    prose = " ".join(paragraph.get_text() for paragraph in page.select("p"))
    assert "[**" not in prose and ":numref:" not in prose and ":label:" not in prose


def test_prose_tabs_sync_with_the_code_tabs(project, executed, html):
    page = build(project, executed, "current")
    prose_groups = [g for g in html.tab_groups(page) if TAB_SET_CLASS not in g["class"]]
    assert len(prose_groups) == 2
    for group in prose_groups:
        assert [sync for sync, *_ in html.tabs_of(group)] == list(FRAMEWORKS)
        assert [sync for sync, _, _, checked in html.tabs_of(group) if checked] == ["pytorch"]


def test_targets_and_references_render_as_links(project, executed):
    page = build(project, executed, "current")
    assert page.find(id="sec-custom-layer") is not None
    link = page.find("a", href="#subsec-layers-without-parameters")
    assert link is not None and "Camadas sem Parâmetros" in link.get_text()
    assert page.find(id="equation-eq-centered") is not None
    assert page.find("a", class_="reference internal", href="#equation-eq-centered") is not None
    text = " ".join(page.get_text().split())
    assert "(Zhang e Sennrich, 2019)" in text and "He et al. (2016)" in text
    assert "sec_model_construction (seção do d2l)" in text


def test_the_placeholder_shows_in_the_missing_frameworks_tabs(project, executed, html):
    page = build(project, executed, "current")
    group = next(g for g in page.select(f"div.{TAB_SET_CLASS}") if "init_weights" in g.get_text())
    codes = {sync: html.code_texts(content) for sync, _, content, _ in html.tabs_of(group)}
    assert codes["mxnet"] == ["# O d2l não tem código em MXNet para este trecho.\n"]
    assert "init_weights" in codes["pytorch"][0]


def test_a_jax_cell_gets_no_tab(project, nbkit, html):
    cells = nbkit.group_cells("g")
    cells.insert(1, nbkit.framework_cell("jax", "print('g jax')"))
    project.add_notebook("jax", nbkit.notebook(new_markdown_cell("# Com JAX"), *cells))
    project.build()
    page = project.page("jax")
    (group,) = html.tab_groups(page)
    assert [sync for sync, *_ in html.tabs_of(group)] == list(FRAMEWORKS)
    assert "jax" not in group.get_text().lower()
    assert "g jax" not in page.get_text()
