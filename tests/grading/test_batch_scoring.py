"""Scores through the sandbox: wrong answers cost only their exercise; seeds reproduce."""

from __future__ import annotations

import json

import pytest

from solutions import catalogue

pytestmark = pytest.mark.slow


def _source(impl) -> str:
    return f"%%tab {impl.framework}\n{impl.source}"


def _other(exercise: str) -> str:
    return next(e for e in catalogue.EXERCISES if e != exercise)


@pytest.fixture(scope="module")
def wrong_batch(tmp_path_factory, helpers):
    """Each PyTorch WRONG answer beside the reference of the other exercise."""
    folder = tmp_path_factory.mktemp("erradas")
    out = tmp_path_factory.mktemp("notas_erradas")
    wrong = [i for i in catalogue.WRONG if i.framework == "pytorch"]
    for impl in wrong:
        other = catalogue.reference_source(_other(impl.exercise), "pytorch")
        cells = [_source(impl), f"%%tab pytorch\n{other}"]
        helpers.write_notebook(folder / f"{impl.exercise}-{impl.name}.ipynb", cells)
    style = next(i for i in catalogue.CORRECT_STYLES if i.framework == "tensorflow")
    helpers.write_notebook(folder / "estilo-correto.ipynb", [_source(style)])
    done = helpers.run_cli([str(folder), "--out", str(out), "--jobs", "2", "--seed", "3"])
    return done, out, wrong, style


def test_each_wrong_answer_loses_points_on_its_exercise_only(wrong_batch, helpers):
    done, out, wrong, _ = wrong_batch
    assert done.returncode == 0, done.stderr[-2000:]
    for impl in wrong:
        scores = helpers.exercise_scores(helpers.read_results(out, f"{impl.exercise}-{impl.name}"))
        assert scores[impl.exercise] < 10.0, impl.name
        assert scores[_other(impl.exercise)] == 10.0, impl.name


def test_a_correct_style_gets_full_marks_through_the_sandbox(wrong_batch, helpers):
    _, out, _, style = wrong_batch
    scores = helpers.exercise_scores(helpers.read_results(out, "estilo-correto"))
    assert scores[style.exercise] == 10.0


def _stable(results: dict) -> dict:
    results = json.loads(json.dumps(results))
    results.pop("execution_time")
    results["extra_data"].pop("timings")
    return results


def test_the_same_seed_gives_the_same_report(tmp_path, helpers):
    wrong = next(i for i in catalogue.WRONG if (i.framework, i.name) == ("pytorch", "floor_half"))
    notebook = helpers.write_notebook(
        tmp_path / "aluno.ipynb",
        [
            _source(wrong),
            "%%tab pytorch\n" + catalogue.reference_source("TensorReduction", "pytorch"),
        ],
    )
    reports = []
    for run in ("a", "b"):
        out = tmp_path / run
        done = helpers.run_cli([str(notebook), "--out", str(out), "--seed", "42", "--jobs", "1"])
        assert done.returncode == 0, done.stderr[-2000:]
        feedback = (out / "aluno" / "feedback.md").read_text(encoding="utf-8")
        reports.append((_stable(helpers.read_results(out, "aluno")), feedback))
    assert reports[0] == reports[1]
    assert reports[0][0]["extra_data"]["seed"] == 42
    assert "semente 42" in reports[0][0]["output"]
    assert reports[0][0]["score"] < 20.0
