"""The ``%%tab`` magic: one namespace per framework, tagged outputs, skipped frameworks."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from frametabs.frameworks import (
    FRAMEWORKS,
    MarkerError,
    available_frameworks,
    parse_marker,
    parse_spec,
)
from frametabs.magic import OUTPUT_KEY, TabRunner


@pytest.fixture
def shell():
    shell = InteractiveShell.instance()
    yield shell
    InteractiveShell.clear_instance()


def make_runner(shell, enabled=FRAMEWORKS):
    runner = TabRunner(shell, enabled=enabled)
    shell.register_magic_function(runner.run_cell, magic_kind="cell", magic_name="tab")
    return runner


def test_spec_parsing_keeps_book_order():
    assert parse_spec("pytorch, mxnet") == ("mxnet", "pytorch")
    assert parse_spec("all") == FRAMEWORKS
    assert parse_spec("TensorFlow") == ("tensorflow",)


@pytest.mark.parametrize("spec", ["", "jax", "pytorch, keras"])
def test_bad_specs_are_rejected_with_a_clear_message(spec):
    with pytest.raises(MarkerError, match="framework"):
        parse_spec(spec)


def test_marker_is_only_recognised_on_the_first_line():
    assert parse_marker("x = 1\n%%tab pytorch") is None
    marker = parse_marker("%%tab mxnet, pytorch\nx = 1")
    assert marker.frameworks == ("mxnet", "pytorch")
    assert marker.body == "x = 1"


def test_environment_variable_overrides_installed_frameworks():
    assert available_frameworks({"FRAMETABS_FRAMEWORKS": "tensorflow"}) == ("tensorflow",)


def test_bad_environment_variable_names_the_variable():
    with pytest.raises(MarkerError, match=r"\$FRAMETABS_FRAMEWORKS='jax'"):
        available_frameworks({"FRAMETABS_FRAMEWORKS": "jax"})


def test_same_names_never_clash_between_frameworks(shell):
    runner = make_runner(shell)
    shell.run_cell("%%tab mxnet\nclass CenteredLayer: kind = 'mxnet'")
    shell.run_cell("%%tab pytorch\nclass CenteredLayer: kind = 'pytorch'")
    assert runner.namespace("mxnet")["CenteredLayer"].kind == "mxnet"
    assert runner.namespace("pytorch")["CenteredLayer"].kind == "pytorch"
    assert "CenteredLayer" not in runner.namespace("tensorflow")
    assert "CenteredLayer" not in shell.user_ns


def test_single_framework_cell_returns_its_trailing_expression(shell):
    make_runner(shell)
    result = shell.run_cell("%%tab pytorch\nx = 20\nx + 1")
    assert result.result == 21


def test_multi_framework_cell_tags_each_output(shell, monkeypatch):
    import IPython.display

    published = []
    monkeypatch.setattr(
        IPython.display,
        "publish_display_data",
        lambda data, metadata=None, **kwargs: published.append((data, metadata)),
    )
    make_runner(shell)
    shell.run_cell("%%tab all\nprint('oi')\n40 + 2")
    tags = [(meta[OUTPUT_KEY]["framework"], meta[OUTPUT_KEY]["kind"]) for _, meta in published]
    assert tags == [(fw, kind) for fw in FRAMEWORKS for kind in ("stdout", "result")]
    assert [data["text/plain"] for data, _ in published] == ["oi", "42"] * 3


def test_disabled_framework_is_skipped_with_one_line_note(shell):
    runner = make_runner(shell, enabled=("pytorch",))
    with capture_output() as captured:
        shell.run_cell("%%tab mxnet\nx = 1")
    assert captured.stdout.count("\n") == 1
    assert "MXNet" in captured.stdout and "ignorada" in captured.stdout
    assert "x" not in runner.namespace("mxnet")


def test_error_in_one_framework_still_raises_after_its_outputs(shell, monkeypatch):
    import IPython.display

    published = []
    monkeypatch.setattr(
        IPython.display,
        "publish_display_data",
        lambda data, metadata=None, **kwargs: published.append(metadata[OUTPUT_KEY]),
    )
    make_runner(shell)
    source = "%%tab mxnet, pytorch\nprint('antes')\nraise ValueError('quebrou')"
    result = shell.run_cell(source)
    assert isinstance(result.error_in_exec, ValueError)
    assert published == [{"framework": "mxnet", "kind": "stdout"}], "mxnet's print is kept"


def test_tooling_imports_no_framework():
    import subprocess
    import sys

    script = (
        "import sys, frametabs, frametabs.magic, frametabs.export, frametabs.split,"
        " frametabs.sphinx_tabs, frametabs.execute\n"
        "print(sorted({'mxnet', 'torch', 'tensorflow'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr[-2000:]


def test_tensorflow_cell_before_mxnet_cell_does_not_crash(tmp_path):
    """libmxnet segfaults when loaded after TensorFlow; the extension loads MXNet first."""
    import subprocess
    import sys

    script = (
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "shell.run_line_magic('load_ext', 'frametabs')\n"
        "assert shell.run_cell('%%tab tensorflow\\nimport tensorflow as tf').success\n"
        "assert shell.run_cell('%%tab mxnet\\nfrom mxnet import np\\nprint(np.ones(2))').success\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "[1. 1.]" in result.stdout


def test_trailing_semicolon_hides_the_value(shell):
    make_runner(shell)
    assert shell.run_cell("%%tab pytorch\nx = [1, 2]\nx;").result is None
    assert shell.run_cell("%%tab pytorch\nx  # comentário").result == [1, 2]


def test_traceback_shows_the_failing_line_of_the_cell(shell):
    make_runner(shell)
    with capture_output() as captured:
        shell.run_cell("%%tab pytorch\nvalor = 1\nresultado = valor / 0")
    assert "ZeroDivisionError" in captured.stdout
    assert "resultado = valor / 0" in captured.stdout
    assert "Could not get source" not in captured.stdout


def test_classes_defined_in_cells_can_be_pickled(shell):
    import pickle

    runner = make_runner(shell)
    shell.run_cell("%%tab pytorch\nclass Camada:\n    def __init__(self):\n        self.peso = 3")
    layer = runner.namespace("pytorch")["Camada"]()
    assert pickle.loads(pickle.dumps(layer)).peso == 3
