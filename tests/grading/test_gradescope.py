"""The Gradescope zip: its layout, reproducible builds, and ``run_autograder`` end to end.

``run_autograder`` runs against this project's environment (``GRADING_PYTHON``) in a
temporary folder standing for ``/autograder`` (``AUTOGRADER_ROOT``); ``setup.sh``'s installs
never run here.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

from grading import gradescope
from grading.cli import ISOLATION_TEXT
from solutions import catalogue

SEED = 11
VISIBILITY = ["hidden", "after_due_date", "after_published", "visible"]
FORMATS = ["text", "html", "simple_format", "md", "ansi"]
# Gradescope's results.json (https://gradescope-autograders.readthedocs.io, "Specifications").
RESULTS_SCHEMA = {
    "type": "object",
    "required": ["score", "tests"],
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": {"enum": FORMATS},
        "test_output_format": {"enum": FORMATS},
        "test_name_format": {"enum": FORMATS},
        "visibility": {"enum": VISIBILITY},
        "stdout_visibility": {"enum": VISIBILITY},
        "extra_data": {"type": "object"},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "score", "max_score", "status", "output", "visibility"],
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "score": {"type": "number"},
                    "max_score": {"type": "number"},
                    "status": {"enum": ["passed", "failed"]},
                    "output": {"type": "string"},
                    "visibility": {"enum": VISIBILITY},
                },
            },
        },
    },
}


def _reference_cells() -> list[str]:
    return [
        f"%%tab pytorch\n{catalogue.reference_source(e, 'pytorch')}" for e in catalogue.EXERCISES
    ]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("zip") / "autograder.zip"
    gradescope.build_zip(out, gradescope.Config(seed=SEED))
    return out


def _unpack(archive: Path, root: Path) -> Path:
    """Unpack like Gradescope (``unzip`` into ``root/source``), keeping the permission bits."""
    source = root / "source"
    with zipfile.ZipFile(archive) as opened:
        for info in opened.infolist():
            target = Path(opened.extract(info, source))
            target.chmod(stat.S_IMODE(info.external_attr >> 16))
    (root / "submission").mkdir()
    return source


def _run_autograder(
    root: Path, python: str = sys.executable, path: str | None = None
) -> subprocess.CompletedProcess:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "GRADING_PYTHON": python}
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [str(root / "source" / "run_autograder")],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        cwd=root,
    )


def _results(root: Path) -> dict:
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    jsonschema.validate(results, RESULTS_SCHEMA)
    return results


def _stable(results: dict, extra_lines: int = 0) -> dict:
    """Without the times, ``stdout_visibility`` and the runner's last ``extra_lines`` lines."""
    results = json.loads(json.dumps(results))
    results.pop("execution_time")
    results.pop("stdout_visibility", None)
    results["extra_data"].pop("timings")
    if extra_lines:
        results["output"] = "\n".join(results["output"].split("\n")[:-extra_lines])
    return results


# --- the zip ----------------------------------------------------------------------------


def test_the_zip_holds_the_scripts_the_config_and_the_project(built, helpers):
    with zipfile.ZipFile(built) as archive:
        names = archive.namelist()
        modes = {i.filename: stat.S_IMODE(i.external_attr >> 16) for i in archive.infolist()}
        config = json.loads(archive.read("gradescope.json"))
        requirements = archive.read("requirements.txt")
    assert names == sorted(names)
    for name in ("setup.sh", "run_autograder", "gradescope.json", *gradescope.PROJECT_FILES):
        assert name in names
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert {"grading/cli.py", "grading/gradescope.py", "grading/child/harness.py"} <= set(names)
    assert {"solutions/reference.py", "frametabs/magic.py", "exercises/build.py"} <= set(names)
    assert "frametabs/static/frametabs.js" in names  # package data travels too
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.split("/")[0] in ("tests", "chapters", ".venv")]
    assert config == {
        "seed": SEED,
        "framework": None,
        "timeout": None,
        "assignment": "exercises.ipynb",
    }
    assert requirements == (helpers.repo / "requirements.txt").read_bytes()


def test_two_builds_are_byte_identical(built, tmp_path):
    again = tmp_path / "again.zip"
    gradescope.build_zip(again, gradescope.Config(seed=SEED))
    assert again.read_bytes() == built.read_bytes()
    with zipfile.ZipFile(again) as archive:
        assert {info.date_time for info in archive.infolist()} == {gradescope.ZIP_DATE}


def test_the_command_prints_where_the_zip_is_and_records_a_seed(tmp_path, helpers):
    out = tmp_path / "autograder.zip"
    done = subprocess.run(
        [sys.executable, "-m", "grading", "gradescope", "--out", str(out), "--timeout", "120"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=helpers.repo,
    )
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stdout
    with zipfile.ZipFile(out) as archive:
        config = json.loads(archive.read("gradescope.json"))
    assert isinstance(config["seed"], int) and config["timeout"] == 120.0
    assert f"semente {config['seed']}" in done.stdout


def test_setup_sh_installs_exactly_the_copied_requirements_and_parses(built, tmp_path):
    with zipfile.ZipFile(built) as archive:
        setup = archive.read("setup.sh").decode()
        run = archive.read("run_autograder").decode()
    assert '-r "$SOURCE/requirements.txt"' in setup
    assert "--no-deps" in setup and "util-linux" in setup and "python3.11" in setup
    install_lines = [line for line in setup.splitlines() if "pip install" in line]
    assert not [line for line in install_lines if "==" in line]  # no pin of its own
    for name, text in (("setup.sh", setup), ("run_autograder", run)):
        assert text.startswith("#!/usr/bin/env bash\n")
        script = tmp_path / name
        script.write_text(text)
        done = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert done.returncode == 0, (name, done.stderr)


# --- choosing the notebook (no grading) -------------------------------------------------


def test_the_assignments_name_wins_else_the_first_in_sorted_order(tmp_path):
    for name in ("b.ipynb", "exercises.ipynb", "a.ipynb", "notas.txt"):
        (tmp_path / name).write_text("{}")
    notebooks = gradescope.find_notebooks(tmp_path)
    assert [p.name for p in notebooks] == ["a.ipynb", "b.ipynb", "exercises.ipynb"]
    chosen, note = gradescope.choose_notebook(notebooks, tmp_path)
    assert chosen.name == "exercises.ipynb"
    assert "3 notebooks" in note and "corrigido só exercises.ipynb" in note
    chosen, note = gradescope.choose_notebook(notebooks[:2], tmp_path)
    assert chosen.name == "a.ipynb" and "primeiro em ordem alfabética" in note
    assert gradescope.choose_notebook(notebooks[:1], tmp_path) == (notebooks[0], None)


def test_a_notebook_in_a_subfolder_is_found_when_none_is_at_the_top(tmp_path):
    (tmp_path / "chapters" / ".ipynb_checkpoints").mkdir(parents=True)
    (tmp_path / "chapters" / "exercises.ipynb").write_text("{}")
    (tmp_path / "chapters" / ".ipynb_checkpoints" / "exercises.ipynb").write_text("{}")
    found = gradescope.find_notebooks(tmp_path)
    assert found == [tmp_path / "chapters" / "exercises.ipynb"]


# --- run_autograder ---------------------------------------------------------------------


def test_no_notebook_gets_score_zero_and_a_message(built, tmp_path):
    _unpack(built, tmp_path)
    (tmp_path / "submission" / "leia-me.txt").write_text("esqueci o notebook")
    done = _run_autograder(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    results = _results(tmp_path)
    assert results["score"] == 0.0
    assert "Nenhum notebook (.ipynb) foi encontrado" in results["output"]
    assert results["tests"] and all(t["status"] == "failed" for t in results["tests"])
    assert sum(t["max_score"] for t in results["tests"]) == 20.0
    assert results["extra_data"] == {"seed": SEED, "status": "no_notebook"}


def test_a_broken_interpreter_still_leaves_a_results_file(built, tmp_path):
    _unpack(built, tmp_path)
    done = _run_autograder(tmp_path, python=shutil.which("false"))
    assert done.returncode == 0
    results = _results(tmp_path)
    assert results["score"] == 0.0 and "Erro interno do corretor" in results["output"]


def _template(repo: Path) -> Path:
    return repo / "chapters" / "exercises.ipynb"


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["reference", "template"])
def test_run_autograder_matches_the_grader_with_the_same_seed(built, tmp_path, helpers, kind):
    root = tmp_path / "autograder"
    root.mkdir()
    _unpack(built, root)
    notebook = root / "submission" / "exercises.ipynb"
    if kind == "reference":
        helpers.write_notebook(notebook, _reference_cells())
    else:
        shutil.copyfile(_template(helpers.repo), notebook)
    done = _run_autograder(root)
    assert done.returncode == 0, done.stdout + done.stderr
    results = _results(root)

    direct_out = tmp_path / "direct"
    direct = helpers.run_cli([str(notebook), "--out", str(direct_out), "--seed", str(SEED)])
    assert direct.returncode == 0, direct.stderr[-2000:]
    expected = helpers.read_results(direct_out, "exercises")

    assert _stable(results, extra_lines=1) == _stable(expected)
    mode = results["extra_data"]["isolation"]
    assert (
        results["output"].split("\n")[-1] == f"Isolamento desta correção: {ISOLATION_TEXT[mode]}."
    )
    assert results["stdout_visibility"] == "hidden"
    if kind == "reference":
        assert results["score"] == 20.0
    else:
        assert results["score"] == 0.0 and results["tests"]


@pytest.mark.slow
def test_several_notebooks_grade_the_first_and_say_so(built, tmp_path, helpers):
    _unpack(built, tmp_path)
    helpers.write_notebook(tmp_path / "submission" / "a-rascunho.ipynb", _reference_cells())
    shutil.copyfile(_template(helpers.repo), tmp_path / "submission" / "b.ipynb")
    done = _run_autograder(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    results = _results(tmp_path)
    assert results["score"] == 20.0
    lines = results["output"].split("\n")
    assert lines[-2].startswith("Foram enviados 2 notebooks (a-rascunho.ipynb, b.ipynb)")
    assert lines[-1].startswith("Isolamento desta correção: ")


@pytest.mark.slow
def test_where_unshare_is_refused_the_output_names_the_fallback(built, tmp_path, helpers):
    """Like Gradescope's Docker container: root, but ``unshare`` fails (seccomp)."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "unshare").write_text(
        "#!/bin/sh\necho 'unshare: Operation not permitted' >&2\nexit 1\n"
    )
    (fake / "unshare").chmod(0o755)
    root = tmp_path / "autograder"
    root.mkdir()
    _unpack(built, root)
    helpers.write_notebook(root / "submission" / "exercises.ipynb", _reference_cells())
    done = _run_autograder(root, path=f"{fake}{os.pathsep}{os.environ['PATH']}")
    assert done.returncode == 0, done.stdout + done.stderr
    results = _results(root)
    assert results["extra_data"]["isolation"] == "none"
    assert results["score"] == 20.0
    assert results["output"].endswith(f"Isolamento desta correção: {ISOLATION_TEXT['none']}.")
