"""Per-framework exports: right cells, no markers, outputs kept, committed copies current."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from frametabs.export import (
    export_notebook,
    export_path,
    exported_stems,
    main,
    stale_exports,
)
from frametabs.frameworks import FRAMEWORKS, IMPORT_NAMES
from frametabs.kernel_env import quiet_kernel_env

ROOT = Path(__file__).resolve().parents[2]
CHAPTER = ROOT / "chapters" / "custom-layers.ipynb"
EXPORTS = ROOT / "exports"
LEAN_ENVS = ROOT / ".venvs"


def tagged(framework, kind, text):
    return new_output(
        "display_data",
        data={"text/plain": text},
        metadata={"frametabs": {"framework": framework, "kind": kind}},
    )


def sample_notebook():
    return new_notebook(
        cells=[
            new_code_cell("%load_ext frametabs"),
            new_markdown_cell("Texto"),
            new_markdown_cell("Nota do livro", metadata={"frametabs": {"export": False}}),
            new_code_cell("%%tab mxnet\nfrom mxnet import np"),
            new_code_cell(
                "%%tab pytorch\nimport torch\ntorch.ones(1)",
                outputs=[new_output("execute_result", data={"text/plain": "tensor([1.])"})],
            ),
            new_code_cell(
                "%%tab all\nprint('oi')\n1 + 1",
                outputs=[
                    tagged(fw, kind, text)
                    for fw in FRAMEWORKS
                    for kind, text in (("stdout", f"oi {fw}"), ("result", "2"))
                ],
            ),
        ]
    )


def test_export_keeps_only_that_framework_without_markers():
    exported = export_notebook(sample_notebook(), "pytorch")
    sources = [cell.source for cell in exported.cells]
    assert sources == ["Texto", "import torch\ntorch.ones(1)", "print('oi')\n1 + 1"]
    assert exported.cells[1].outputs[0]["data"]["text/plain"] == "tensor([1.])"


def test_multi_framework_outputs_return_to_plain_form():
    exported = export_notebook(sample_notebook(), "tensorflow")
    outputs = exported.cells[-1].outputs
    assert [o.output_type for o in outputs] == ["stream", "execute_result"]
    assert outputs[0].name == "stdout" and outputs[0].text == "oi tensorflow\n"
    assert "frametabs" not in outputs[1].metadata


def test_unknown_framework_is_refused():
    with pytest.raises(ValueError, match="unknown framework"):
        export_notebook(sample_notebook(), "jax")


def test_committed_exports_are_current():
    notebooks = sorted((ROOT / "chapters").glob("*.ipynb"))
    assert stale_exports(notebooks, EXPORTS) == [], "run `make exports`"


def test_stale_export_is_detected(tmp_path):
    for path in EXPORTS.glob("custom-layers.*.ipynb"):
        shutil.copy(path, tmp_path / path.name)
    target = tmp_path / "custom-layers.pytorch.ipynb"
    notebook = json.loads(target.read_text())
    notebook["cells"][-1]["source"] = ["mudado"]
    target.write_text(json.dumps(notebook, indent=1))
    problems = stale_exports([CHAPTER], tmp_path)
    assert len(problems) == 1 and "custom-layers.pytorch.ipynb" in problems[0]
    assert main([str(CHAPTER), "--out", str(tmp_path), "--check"]) == 1


def test_exports_hold_each_framework_cell_of_the_chapter():
    chapter = nbformat.read(CHAPTER, as_version=4)
    for framework in FRAMEWORKS:
        exported = nbformat.read(EXPORTS / f"custom-layers.{framework}.ipynb", as_version=4)
        code = [cell.source for cell in exported.cells if cell.cell_type == "code"]
        expected = [
            cell.source.split("\n", 1)[1]
            for cell in chapter.cells
            if cell.cell_type == "code" and cell.source.startswith(f"%%tab {framework}")
        ]
        assert code == expected
        assert not any("%%tab" in source or "frametabs" in source for source in code)


def lean_python(framework):
    python = LEAN_ENVS / framework / "bin" / "python"
    if not python.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"lean environment {python} missing: `make lean-envs` builds it")
        pytest.skip(f"lean environment {python} missing: run `make lean-envs`")
    return python


EXPORT_FILES = sorted(EXPORTS.glob("*.*.ipynb"))


def test_every_notebook_with_framework_cells_has_its_exports():
    expected = {
        export_path(path, framework, EXPORTS).name
        for path in (ROOT / "chapters").glob("*.ipynb")
        if path.stem in exported_stems(path.parent)
        for framework in FRAMEWORKS
    }
    assert {"custom-layers.pytorch.ipynb", "exercises.tensorflow.ipynb"} <= expected
    assert {path.name for path in EXPORT_FILES} == expected


def lean_env():
    """The kernel's environment: quiet, with the project's packages importable.

    ``grading`` (whose ``check`` the exercises call) comes from the checkout, as the set-up
    cell installs it in a learner's environment.
    """
    env = quiet_kernel_env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


@pytest.mark.lean
@pytest.mark.slow
@pytest.mark.parametrize("export", EXPORT_FILES, ids=lambda path: path.stem)
def test_export_passes_strict_nbval_with_only_its_framework(export, tmp_path):
    framework = export.name.split(".")[-2]
    python = lean_python(framework)
    others = [IMPORT_NAMES[name] for name in FRAMEWORKS if name != framework]
    probe = "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) for m in sys.argv[1:]))"
    isolated = subprocess.run([python, "-c", probe, *others], check=False)
    assert isolated.returncode == 0, f"the {framework} lean environment holds another framework"
    notebook = tmp_path / export.name  # alone in a folder, as a downloaded notebook is
    shutil.copy(export, notebook)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    result = subprocess.run(
        [
            python,
            "-m",
            "pytest",
            "--nbval",
            "--nbval-current-env",
            "-p",
            "no:cacheprovider",
            "-q",
            notebook.name,
        ],
        cwd=tmp_path,
        env=lean_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout


def test_export_command_line_writes_three_files(tmp_path):
    out = tmp_path / "out"
    subprocess.run(
        [sys.executable, "-m", "frametabs.export", str(CHAPTER), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"custom-layers.{fw}.ipynb" for fw in FRAMEWORKS
    )
