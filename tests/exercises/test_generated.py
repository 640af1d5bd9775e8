"""The committed copies are what the generator makes now, and ``--check`` notices drift.

One fresh build (both notebooks executed in new kernels) serves every test here; its
executed outputs also show that the stubs are reported as not implemented and that the
instructor copy passes every check in all three frameworks.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from exercises import EXERCISES, INSTRUCTOR_PATH, STUDENT_PATH
from exercises import __main__ as cli
from exercises.build import ARTEFACTS, FIGURE_PATH, generate
from frametabs.frameworks import FRAMEWORKS, LABELS

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fresh_root(tmp_path_factory):
    """A fresh build of every artefact, made by executing both notebooks."""
    root = tmp_path_factory.mktemp("fresh")
    generate(root, repo_root=ROOT)
    return root


@pytest.fixture
def committed_copy(tmp_path):
    """A copy of the committed artefacts, to tamper with."""
    for path in ARTEFACTS:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / path, tmp_path / path)
    return tmp_path


def check_outputs(path: Path) -> dict[tuple[str, str], str]:
    """The plain-text result of each check cell, by (class name, framework)."""
    notebook = nbformat.read(path, as_version=4)
    cells = {cell.id: cell for cell in notebook.cells}
    found = {}
    for exercise in EXERCISES:
        for framework in FRAMEWORKS:
            outputs = cells[f"{exercise.slug}-check-{framework}"].outputs
            assert [output.output_type for output in outputs] == ["execute_result"]
            found[exercise.class_name, framework] = outputs[0].data["text/plain"]
    return found


def heading(text: str) -> tuple[str, str, str, str]:
    """``"TensorReduction · PyTorch: 7/10 pontos"`` → (class, label, score, maximum)."""
    first = text.splitlines()[0]
    name_label, score = first.rsplit(": ", 1)
    name, label = name_label.split(" · ")
    got, maximum = score.removesuffix(" pontos").split("/")
    return name, label, got, maximum


def test_committed_copies_are_up_to_date(fresh_root):
    assert cli.check(ROOT, fresh_root) == []


def test_fresh_instructor_copy_passes_every_check_in_every_framework(fresh_root):
    for (name, framework), text in check_outputs(fresh_root / INSTRUCTOR_PATH).items():
        got_name, label, score, maximum = heading(text)
        assert (got_name, label) == (name, LABELS[framework])
        assert score == maximum, text
        check_lines = [line for line in text.splitlines()[1:] if line.startswith("  ")]
        assert check_lines and all(line.lstrip().startswith("✓") for line in check_lines), text


def test_fresh_student_copy_reports_every_check_not_implemented(fresh_root):
    for (name, framework), text in check_outputs(fresh_root / STUDENT_PATH).items():
        got_name, label, score, _ = heading(text)
        assert (got_name, label, score) == (name, LABELS[framework], "0")
        check_lines = [line for line in text.splitlines()[1:] if line.startswith("  ")]
        assert check_lines and all("ainda não implementado" in line for line in check_lines)


def _edit_notebook(path: Path, edit) -> None:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    edit({cell["id"]: cell for cell in notebook["cells"]}, notebook)
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _solve_stub(cells, notebook):
    cells["exercise-1-code-pytorch"]["source"] = ["%%tab pytorch\n", "class TensorReduction: ..."]


def _change_output(cells, notebook):
    output = cells["exercise-2-check-tensorflow"]["outputs"][0]
    output["data"]["text/plain"] = ["FourierHalf · TensorFlow: 10/10 pontos"]


def _drop_tag(cells, notebook):
    cells["exercise-1-check-mxnet"]["metadata"] = {}


def _change_kernel(cells, notebook):
    notebook["metadata"]["kernelspec"]["name"] = "other"


@pytest.mark.parametrize(
    ("artefact", "edit", "expected"),
    [
        (STUDENT_PATH, _solve_stub, "(exercise-1-code-pytorch): source differ"),
        (INSTRUCTOR_PATH, _change_output, "(exercise-2-check-tensorflow): outputs differ"),
        (STUDENT_PATH, _drop_tag, "(exercise-1-check-mxnet): metadata differ"),
        (STUDENT_PATH, _change_kernel, "notebook metadata differs"),
    ],
    ids=["source", "output", "metadata", "notebook-metadata"],
)
def test_check_detects_a_modified_notebook(fresh_root, committed_copy, artefact, edit, expected):
    _edit_notebook(committed_copy / artefact, edit)
    differences = cli.check(committed_copy, fresh_root)
    assert len(differences) == 1
    assert differences[0].startswith(f"{artefact}: ")
    assert expected in differences[0]


def test_check_detects_reformatted_missing_and_changed_files(fresh_root, committed_copy):
    notebook = json.loads((committed_copy / STUDENT_PATH).read_text(encoding="utf-8"))
    (committed_copy / STUDENT_PATH).write_text(json.dumps(notebook), encoding="utf-8")
    (committed_copy / INSTRUCTOR_PATH).unlink()
    with (committed_copy / FIGURE_PATH).open("ab") as figure:
        figure.write(b"\0")
    assert cli.check(committed_copy, fresh_root) == [
        f"{STUDENT_PATH}: formatting differs (same content, different bytes)",
        f"{INSTRUCTOR_PATH}: missing (run the update command)",
        f"{FIGURE_PATH}: content differs",
    ]


@pytest.fixture
def cli_reusing(monkeypatch, fresh_root):
    """The command line, with the (slow) build replaced by a copy of ``fresh_root``."""

    def copy_fresh(out_root, repo_root):
        shutil.copytree(fresh_root, out_root, dirs_exist_ok=True)

    monkeypatch.setattr(cli, "generate", copy_fresh)
    return cli.main


def test_command_line_check_exit_status(cli_reusing, committed_copy, capsys):
    assert cli_reusing(["--check", "--root", str(ROOT)]) == 0
    _edit_notebook(committed_copy / STUDENT_PATH, _solve_stub)
    assert cli_reusing(["--check", "--root", str(committed_copy)]) == 1
    error = capsys.readouterr().err
    assert "exercise-1-code-pytorch" in error
    assert "python -m exercises" in error


def test_command_line_update_rewrites_the_artefacts(cli_reusing, tmp_path, fresh_root):
    assert cli_reusing(["--root", str(tmp_path)]) == 0
    for path in ARTEFACTS:
        assert (tmp_path / path).read_bytes() == (fresh_root / path).read_bytes()
