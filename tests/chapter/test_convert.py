"""Converting d2l-book markdown sections (both dialects) into notebooks of this book."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from frametabs.convert import ConversionError, convert, main
from frametabs.d2l_markup import Targets, citation, to_myst
from frametabs.d2l_selected import resolve_selected
from frametabs.export import export_notebook
from frametabs.frameworks import FRAMEWORKS, parse_marker
from frametabs.setup_cell import SETUP_SOURCE

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "d2l"
CURRENT = FIXTURES / "current-dialect.md"
OLDER = FIXTURES / "older-dialect.md"


def converted(path: Path):
    return convert(path.read_text(encoding="utf-8"))


def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"][1:]


def markers(notebook) -> list[tuple[str, ...]]:
    return [parse_marker(cell.source).frameworks for cell in code_cells(notebook)]


def bodies(notebook) -> list[str]:
    return [parse_marker(cell.source).body for cell in code_cells(notebook)]


def markdown(notebook) -> str:
    return "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


@pytest.mark.parametrize("path", [CURRENT, OLDER], ids=["current", "older"])
def test_the_notebook_starts_with_our_setup_cell_and_has_only_our_markers(path):
    notebook = converted(path).notebook
    nbformat.validate(notebook)
    first = notebook.cells[0]
    assert first.source == SETUP_SOURCE
    assert "remove-cell" in first.metadata["tags"]
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    everything = "\n".join(cell.source for cell in notebook.cells)
    everything = re.sub(r"```python\n.*?```", "", everything, flags=re.DOTALL)  # display only
    for d2l_only in ("d2lbook", "interact_select", "#@tab", "# @tab", "#@save", "[**", "**]"):
        assert d2l_only not in everything
    for cell in code_cells(notebook):
        assert cell.source.startswith("%%tab "), cell.source
        assert cell.outputs == []


def test_current_dialect_cells_keep_their_frameworks_and_drop_jax():
    conversion = converted(CURRENT)
    mx, pt, tf = ((fw,) for fw in FRAMEWORKS)
    assert markers(conversion.notebook) == [
        *(mx, pt, tf),  # imports (the JAX one left out)
        *(mx, pt, tf),  # CenteredLayer
        *(mx, pt, tf),  # the shared cell that branches on tab.selected, one per framework
        FRAMEWORKS,  # %%tab all
        *(pt, mx, tf),  # PyTorch only in d2l: the other two say so
        FRAMEWORKS,  # no marker: every framework
        ("mxnet", "tensorflow"),
        pt,  # %%tab pytorch, jax
    ]
    everything = "\n".join(cell.source for cell in conversion.notebook.cells)
    assert "jax" not in everything.lower() and "flax" not in everything
    (note,) = [note for note in conversion.notes if "JAX" in note]
    assert note.startswith("left out 3 code cells and 2 text blocks for JAX")


def test_tab_selected_is_resolved_for_each_framework():
    feeding = [body for body in bodies(converted(CURRENT).notebook) if "layer = " in body]
    assert [body.split("\n")[1] for body in feeding] == [
        "X = np.array([1.0, 2, 3, 4, 5])",
        "X = torch.tensor([1.0, 2, 3, 4, 5])",
        "X = tf.constant([1.0, 2, 3, 4, 5])",
    ]
    assert all("tab." not in body for body in feeding)


def test_incomplete_groups_get_a_cell_saying_d2l_has_no_code():
    conversion = converted(CURRENT)
    placeholders = [b for b in bodies(conversion.notebook) if b.startswith("# O d2l não tem")]
    assert placeholders == [
        "# O d2l não tem código em MXNet para este trecho.",
        "# O d2l não tem código em TensorFlow para este trecho.",
    ]
    assert any("'def init_weights(module):'" in note for note in conversion.notes)


def test_save_marks_go_and_the_code_stays():
    current = bodies(converted(CURRENT).notebook)
    assert "class CenteredLayer(nn.Block):\n    def forward(self, X):" in current[3]
    older = bodies(converted(OLDER).notebook)
    assert older[0].startswith("class CenteredLayer:\n    def forward(self, xs):\n")
    assert "def dobro(x):\n    return 2 * x" in older


def test_older_dialect_unmarked_cells_are_mxnet_and_outputs_are_dropped():
    notebook = converted(OLDER).notebook
    assert markers(notebook) == [
        ("mxnet",),
        ("pytorch",),
        ("tensorflow",),
        FRAMEWORKS,
        ("mxnet",),
        ("pytorch", "tensorflow"),
        FRAMEWORKS,
    ]
    assert "saída guardada pelo d2l" not in "\n".join(c.source for c in notebook.cells)


def test_labels_become_myst_targets_and_refs_to_them_roles():
    text = markdown(converted(CURRENT).notebook)
    assert text.startswith("(sec_custom_layer)=\n# Camadas Personalizadas\n")
    assert "(subsec_layers_without_parameters)=\n## Camadas sem Parâmetros" in text
    assert "{ref}`subsec_layers_without_parameters`" in text
    assert r"\sum_{j=1}^{n} x_j.$$ (eq_centered)" in text
    assert "A {eq}`eq_centered` não tem" in text
    assert ":label:" not in text and ":eqlabel:" not in text and ":numref:" not in text


def test_refs_to_labels_outside_the_section_become_plain_text():
    text = markdown(converted(CURRENT).notebook)
    assert "módulos de `sec_model_construction` (seção do d2l), e" in text
    assert "Compare com a `eq_softmax` (equação do d2l)." in text
    assert "{ref}`sec_model_construction`" not in text


def test_citations_become_author_year_text():
    text = markdown(converted(CURRENT).notebook)
    assert "RMSNorm\n(Zhang e Sennrich, 2019) tem" in text
    assert "as redes de He et al. (2016)." in text
    assert citation("Krizhevsky.Sutskever.Hinton.2012, LeCun.1998") == (
        "(Krizhevsky et al., 2012; LeCun, 1998)"
    )
    assert citation("not-a-d2l-key") == "(not-a-d2l-key)"


def test_highlight_marks_are_removed_across_lines():
    text = markdown(converted(CURRENT).notebook)
    assert "Vamos alimentar a camada\ncom alguns dados." in text
    assert "e\nbasta implementar a propagação direta." in text


def test_framework_prose_becomes_synced_tabs_without_jax():
    text = markdown(converted(CURRENT).notebook)
    assert text.count("{tab-set}") == 2
    assert ":sync-group: framework" in text
    assert "Em PyTorch, a camada herda" in text and "do Flax" not in text
    shared = "Aqui a camada herda da classe de camada base do framework."
    assert text.count(shared) == 2, "a block for mxnet, tensorflow goes into both tabs"
    assert text.count(":selected:") == 2


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_each_export_has_its_own_framework_prose_and_no_tabs(framework):
    exported = export_notebook(converted(CURRENT).notebook, framework)
    text = "\n\n".join(c.source for c in exported.cells if c.cell_type == "markdown")
    assert "tab-set" not in text and "tab-item" not in text
    pytorch, shared = "Em PyTorch, a camada herda", "Aqui a camada herda da classe"
    assert (pytorch in text, shared in text) == (framework == "pytorch", framework != "pytorch")
    links = {"mxnet": "t/58", "pytorch": "t/59", "tensorflow": "t/279"}
    assert [link for link in links.values() if link in text] == [links[framework]]
    assert "## Exercícios\n\n1. Projete uma camada" in text


def test_display_fences_in_prose_are_left_alone():
    text = markdown(converted(OLDER).notebook)
    assert "```python\n# :numref:`sec_x` e [**marcas**] ficam como estão" in text
    rst = to_myst("```eval_rst\n.. note:: x\n```\n:numref:`a`", Targets())
    assert rst == "```{eval-rst}\n.. note:: x\n```\n`a` (referência do d2l)"


def test_multiline_equation_gets_its_label_on_the_closing_line():
    text = markdown(converted(OLDER).notebook)
    assert "$$\n\\bar{x} = \\frac{1}{n} \\sum_i x_i\n$$ (eq_mean)" in text
    assert "como mostra a\n{eq}`eq_mean`:" in text


def test_an_unknown_framework_is_an_error_with_its_line():
    text = "# T\n\n```{.python .input}\n%%tab pytroch\nx = 1\n```\n"
    with pytest.raises(ConversionError, match=r"line 3: unknown framework pytroch"):
        convert(text)


def test_notes_name_what_the_notebook_needs_besides_itself():
    text = (
        "# T\n\n![Blocos](../img/blocks.svg)\n:width:`400px`\n:label:`fig_blocks`\n\n"
        "```{.python .input}\n%%tab all\nimport d2l\n```\n\n![](https://d2l.ai/qr.svg)\n"
    )
    conversion = convert(text)
    assert conversion.notes == [
        "the code imports d2l's library: install `d2l` where the notebook runs",
        "image ../img/blocks.svg: copy it next to the notebook (or fix the path)",
    ]
    assert conversion.notebook.cells[1].source == "# T\n\n![Blocos](../img/blocks.svg)"


def test_the_command_writes_the_notebook_and_reports_on_stderr(tmp_path, capsys):
    out = tmp_path / "chapters" / "camadas.ipynb"
    assert main([str(CURRENT), "--out", str(out)]) == 0
    assert nbformat.read(out, as_version=4).cells[0].source == SETUP_SOURCE
    captured = capsys.readouterr()
    assert captured.out.strip() == str(out)
    assert captured.err.count("\n") == 2 and "JAX" in captured.err
    broken = tmp_path / "quebrada.md"
    broken.write_text("```{.python .input}\nx = 1\n", encoding="utf-8")
    assert main([str(broken), "--out", str(tmp_path / "x.ipynb")]) == 1
    assert "never closed" in capsys.readouterr().err
    assert not (tmp_path / "x.ipynb").exists()


BRANCHING = """\
if tab.selected('mxnet'):
    X = 1
elif tab.selected(['pytorch', 'jax']):
    X = 2
else:
    X = 3
%time Y = X
class Layer:
    def size(self):
        if tab.selected('tensorflow'):
            return 10
    lr = 0.1 if tab.selected('mxnet') else 0.2
if Y > 0:
    Z = 1
elif tab.selected('pytorch'):
    Z = 2"""


@pytest.mark.parametrize(
    ("framework", "expected"),
    [
        (
            "mxnet",
            "X = 1\n%time Y = X\nclass Layer:\n    def size(self):\n        pass\n"
            "    lr = 0.1 if True else 0.2\nif Y > 0:\n    Z = 1",
        ),
        (
            "pytorch",
            "X = 2\n%time Y = X\nclass Layer:\n    def size(self):\n        pass\n"
            "    lr = 0.1 if False else 0.2\nif Y > 0:\n    Z = 1\nelse:\n    Z = 2",
        ),
        (
            "tensorflow",
            "X = 3\n%time Y = X\nclass Layer:\n    def size(self):\n        return 10\n"
            "    lr = 0.1 if False else 0.2\nif Y > 0:\n    Z = 1",
        ),
    ],
)
def test_resolve_selected_keeps_the_branch_each_framework_takes(framework, expected):
    assert resolve_selected(BRANCHING, framework) == expected
