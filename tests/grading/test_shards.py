"""``--shard I/N`` and ``python -m grading merge``: parts of a batch joined into one."""

from __future__ import annotations

import argparse
import csv
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from grading import cli, merge, shards
from grading.gradebook import COLUMNS
from solutions import catalogue

# --- which submissions a shard grades ---------------------------------------------------


@pytest.mark.parametrize(("text", "shard"), [("0/1", (0, 1)), ("2/10", (2, 10)), ("9/10", (9, 10))])
def test_a_shard_is_parsed_as_index_and_count(text, shard):
    assert shards.parse_shard(text) == shards.Shard(*shard)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3/3", "é preciso 0 ≤ I < N"),
        ("10/10", "de 0/10 a 9/10"),
        ("0/0", "N precisa ser pelo menos 1"),
        ("-1/3", "use I/N"),
        ("1", "use I/N"),
        ("a/b", "use I/N"),
    ],
)
def test_a_bad_shard_is_refused_in_portuguese(text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=re.escape(message)):
        shards.parse_shard(text)


def test_shards_are_round_robin_disjoint_and_cover_the_batch():
    items = [f"aluno-{i:02d}" for i in range(11)]
    parts = [shards.select(items, shards.Shard(i, 3)) for i in range(3)]
    assert parts[0] == ["aluno-00", "aluno-03", "aluno-06", "aluno-09"]
    assert sorted(item for part in parts for item in part) == items
    assert {len(part) for part in parts} == {3, 4}


def test_membership_does_not_depend_on_the_order_files_are_named(tmp_path):
    names = [f"{name}.ipynb" for name in ("eva", "ana", "caio", "bia", "davi")]
    for name in names:
        (tmp_path / name).write_text("{}", encoding="utf-8")
    listed = [tmp_path / name for name in names]
    forward = shards.select(cli.collect(listed), shards.Shard(1, 2))
    backward = shards.select(cli.collect(listed[::-1]), shards.Shard(1, 2))
    folder = shards.select(cli.collect([tmp_path]), shards.Shard(1, 2))
    assert forward == backward == folder
    assert [p.name for p in folder] == ["bia.ipynb", "davi.ipynb"]


# --- the command line, on notebooks that are graded at once (invalid ones) ---------------


def _batch(folder: Path, names: list[str]) -> Path:
    folder.mkdir()
    for name in names:
        (folder / f"{name}.ipynb").write_text("isto não é um notebook", encoding="utf-8")
    return folder


def _grade(folder: Path, out: Path, *options: str) -> int:
    return cli.main([str(folder), "--out", str(out), "--quiet", *options])


def _gradebook(out: Path) -> list[dict[str, str]]:
    with (out / "gradebook.csv").open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def _untimed_rows(out: Path) -> list[dict[str, str]]:
    return [{k: v for k, v in row.items() if k != "tempo_s"} for row in _gradebook(out)]


def _results(out: Path, name: str) -> dict:
    return json.loads((out / name / "results.json").read_text(encoding="utf-8"))


def _stable(results: dict) -> dict:
    """``results.json`` less the times (``execution_time``, ``extra_data.timings``)."""
    results = json.loads(json.dumps(results))
    results.pop("execution_time")
    results["extra_data"].pop("timings")
    return results


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture
def invalid_shards(tmp_path):
    """Five invalid notebooks graded as three shards (seed 7)."""
    folder = _batch(tmp_path / "entregas", ["ana", "bia", "caio", "davi", "eva"])
    outs = [tmp_path / f"notas-{i}" for i in range(3)]
    for i, out in enumerate(outs):
        assert _grade(folder, out, "--seed", "7", "--shard", f"{i}/3") == 0
    return folder, outs


def test_shard_without_seed_is_refused(tmp_path, capsys):
    folder = _batch(tmp_path / "entregas", ["ana"])
    with pytest.raises(SystemExit) as exit_:
        _grade(folder, tmp_path / "notas", "--shard", "0/2")
    assert exit_.value.code == 2
    assert "--shard exige --seed" in capsys.readouterr().err
    assert not (tmp_path / "notas").exists()


def test_an_out_of_range_shard_is_refused_by_the_parser(tmp_path, capsys):
    folder = _batch(tmp_path / "entregas", ["ana"])
    with pytest.raises(SystemExit) as exit_:
        _grade(folder, tmp_path / "notas", "--seed", "1", "--shard", "2/2")
    assert exit_.value.code == 2
    assert "shard inválido '2/2'" in capsys.readouterr().err


def test_an_empty_shard_writes_an_empty_gradebook_and_a_manifest(tmp_path, capsys):
    folder = _batch(tmp_path / "entregas", ["ana"])
    out = tmp_path / "notas-1"
    assert _grade(folder, out, "--seed", "5", "--shard", "1/2") == 0
    assert (out / "gradebook.csv").read_text(encoding="utf-8") == ",".join(COLUMNS) + "\n"
    manifest = _manifest(out)
    assert manifest["ids"] == [] and manifest["shard"] == {"index": 1, "count": 2}
    assert manifest["submissions"]["total"] == 1
    assert "shard 1/2: 0 submissões corrigidas" in capsys.readouterr().out


def test_every_run_writes_a_manifest_of_what_decides_its_verdicts(tmp_path):
    folder = _batch(tmp_path / "entregas", ["ana", "bia", "caio"])
    out = tmp_path / "notas"
    options = ["--seed", "11", "--shard", "1/2", "--framework", "pytorch", "--timeout", "90"]
    assert _grade(folder, out, *options, "--check-timeout", "5", "--memory-gib", "2") == 0
    manifest = _manifest(out)
    assert manifest["seed"] == 11
    assert manifest["shard"] == {"index": 1, "count": 2}
    assert manifest["ids"] == ["bia"] and manifest["failed"] == []
    assert manifest["submissions"]["total"] == 3
    assert manifest["submissions"]["digest"] == shards.ids_digest(["ana", "bia", "caio"])
    assert manifest["grader"] == {"name": "camadas-personalizadas", "version": "0.1.0"}
    limits = manifest["options"]["limits"]
    assert manifest["options"]["framework"] == "pytorch"
    assert limits["submission_timeout"] == 90.0 and limits["check_timeout"] == 5.0
    assert limits["cell_timeout"] == 60.0 and limits["address_space"] == 2 * 2**30
    assert [row["id"] for row in _gradebook(out)] == ["bia"]


def test_a_notebook_named_like_the_manifest_gets_a_row_of_its_own(tmp_path):
    folder = _batch(tmp_path / "entregas", ["ana", "manifest.json"])
    out = tmp_path / "notas"
    assert _grade(folder, out, "--seed", "3") == 0
    assert (out / "manifest.json").is_file()
    assert _manifest(out)["ids"] == ["_manifest.json", "ana"]


def test_merged_invalid_shards_equal_one_unsharded_run(invalid_shards, tmp_path):
    folder, outs = invalid_shards
    whole = tmp_path / "inteira"
    assert _grade(folder, whole, "--seed", "7") == 0
    merged = tmp_path / "notas"
    assert merge.main([*map(str, outs), "--out", str(merged), "--quiet"]) == 0
    assert _untimed_rows(merged) == _untimed_rows(whole)
    for name in ("ana", "bia", "caio", "davi", "eva"):
        assert _stable(_results(merged, name)) == _stable(_results(whole, name))
        assert (merged / name / "feedback.md").is_file()
    manifest = _manifest(merged)
    assert manifest["shard"] is None and manifest["seed"] == 7
    assert manifest["ids"] == ["ana", "bia", "caio", "davi", "eva"]
    assert [entry["shard"] for entry in manifest["merged_from"]] == ["0/3", "1/3", "2/3"]


# --- what merge refuses --------------------------------------------------------------------


def _refusal(outs: list[Path], target: Path, capsys) -> str:
    assert merge.main([*map(str, outs), "--out", str(target)]) == 2
    return capsys.readouterr().err


def test_merge_refuses_a_missing_shard(invalid_shards, tmp_path, capsys):
    _, outs = invalid_shards
    assert "faltam os shards 1/3" in _refusal([outs[0], outs[2]], tmp_path / "m", capsys)
    assert not (tmp_path / "m").exists()


def test_merge_refuses_a_shard_given_twice(invalid_shards, tmp_path, capsys):
    _, outs = invalid_shards
    assert "shard 2/3 repetido" in _refusal([*outs, outs[2]], tmp_path / "m", capsys)


def test_merge_refuses_a_shard_without_manifest(invalid_shards, tmp_path, capsys):
    _, outs = invalid_shards
    (outs[1] / "manifest.json").unlink()
    error = _refusal(outs, tmp_path / "m", capsys)
    assert "não tem manifest.json" in error and "não terminou" in error


def test_merge_refuses_shards_of_different_seeds(invalid_shards, tmp_path, capsys):
    folder, outs = invalid_shards
    assert _grade(folder, outs[1], "--seed", "8", "--shard", "1/3") == 0
    error = _refusal(outs, tmp_path / "m", capsys)
    assert "sementes diferentes" in error and f"{outs[1]} = 8" in error


def test_merge_refuses_shards_of_different_options(invalid_shards, tmp_path, capsys):
    folder, outs = invalid_shards
    assert _grade(folder, outs[2], "--seed", "7", "--shard", "2/3", "--cell-timeout", "9") == 0
    error = _refusal(outs, tmp_path / "m", capsys)
    assert "opções diferentes" in error and "options.limits.cell_timeout" in error


def test_merge_refuses_shards_of_different_batches(invalid_shards, tmp_path, capsys):
    folder, outs = invalid_shards
    (folder / "fabi.ipynb").write_text("{}", encoding="utf-8")
    assert _grade(folder, outs[0], "--seed", "7", "--shard", "0/3") == 0
    assert "lotes de submissões diferentes" in _refusal(outs, tmp_path / "m", capsys)


def test_merge_refuses_shards_of_different_counts(invalid_shards, tmp_path, capsys):
    folder, outs = invalid_shards
    assert _grade(folder, outs[2], "--seed", "7", "--shard", "2/4") == 0
    assert "divisões diferentes" in _refusal(outs, tmp_path / "m", capsys)


def test_merge_refuses_overlapping_ids(invalid_shards, tmp_path, capsys):
    _, outs = invalid_shards
    manifest = _manifest(outs[1])
    manifest["ids"].append("ana")  # also graded by shard 0
    (outs[1] / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert "'ana' aparece em dois shards" in _refusal(outs, tmp_path / "m", capsys)


def test_merge_refuses_an_output_folder_in_use(invalid_shards, tmp_path, capsys):
    _, outs = invalid_shards
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "velho.csv").write_text("", encoding="utf-8")
    assert "não está vazia" in _refusal(outs, tmp_path / "m", capsys)
    assert "não pode conter nem estar" in _refusal(outs, outs[0] / "junto", capsys)


def test_merge_refuses_its_own_output_as_a_shard(invalid_shards, tmp_path, capsys):
    _, outs = invalid_shards
    assert merge.main([*map(str, outs), "--out", str(tmp_path / "m"), "--quiet"]) == 0
    assert "resultado de um merge" in _refusal([tmp_path / "m"], tmp_path / "m2", capsys)


# --- the README's Slurm and Kubernetes snippets (text only) ------------------------------


def _readme_section() -> str:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("### Many machines: shards")
    return readme[start : readme.index("\n## ", start)]


def _grading_args(command: str, variables: dict[str, str]) -> list[str]:
    """The arguments after ``python -m grading``, shell variables replaced."""
    for name, value in variables.items():
        command = command.replace(f"${name}", value)
    words = shlex.split(command)
    return words[words.index("grading") + 1 :]


def test_the_readme_slurm_lines_use_real_flags():
    section = _readme_section()
    grade_line = next(line for line in section.splitlines() if "--array=0-9" in line)
    merge_line = next(line for line in section.splitlines() if "--dependency=" in line)
    variables = {"SLURM_ARRAY_TASK_ID": "3", "SLURM_CPUS_PER_TASK": "8"}
    wrapped = shlex.split(grade_line.split("$(", 1)[1].rstrip(")"))
    args = cli.build_parser().parse_args(
        _grading_args(wrapped[wrapped.index("--wrap") + 1], variables)
    )
    assert args.shard == shards.Shard(3, 10) and args.seed == 7 and args.jobs == 8
    assert args.out == Path("notas-3") and args.submissions == [Path("entregas/")]
    merge_words = shlex.split(merge_line)
    merged = merge.build_parser().parse_args(
        _grading_args(merge_words[merge_words.index("--wrap") + 1], {})[1:]
    )
    assert merged.shards == [Path(f"notas-{i}") for i in range(10)]
    assert merged.out == Path("notas")


def test_the_readme_kubernetes_job_is_indexed_and_uses_real_flags():
    section = _readme_section()
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    job = yaml.safe_load(block)
    assert job["kind"] == "Job" and job["spec"]["completionMode"] == "Indexed"
    count = job["spec"]["completions"]
    container = job["spec"]["template"]["spec"]["containers"][0]
    command = container["args"][0]
    assert "$JOB_COMPLETION_INDEX" in command
    args = cli.build_parser().parse_args(_grading_args(command, {"JOB_COMPLETION_INDEX": "4"}))
    assert args.shard == shards.Shard(4, count) and args.seed == 7
    assert args.out == Path("/dados/notas-4")
    assert "grading merge /dados/notas-{0..9} --out /dados/notas" in section


# --- the real thing: PyTorch notebooks graded as three shards, merged --------------------


def _reference(exercise: str) -> str:
    return f"%%tab pytorch\n{catalogue.reference_source(exercise, 'pytorch')}"


@pytest.mark.slow
def test_three_shards_merged_equal_one_unsharded_run(tmp_path, helpers):
    folder = tmp_path / "entregas"
    folder.mkdir()
    wrong = next(i for i in catalogue.WRONG if (i.framework, i.name) == ("pytorch", "floor_half"))
    notebooks = {
        "ana": [_reference(e) for e in catalogue.EXERCISES],
        "bia": [f"%%tab pytorch\n{wrong.source}", _reference("TensorReduction")],
        "caio": [_reference("TensorReduction"), "%%tab pytorch\nimport os\nos._exit(3)"],
    }
    for name, cells in notebooks.items():
        helpers.write_notebook(folder / f"{name}.ipynb", cells)
    (folder / "davi.ipynb").write_text("isto não é um notebook", encoding="utf-8")
    common = ["--seed", "5", "--jobs", "2", "--framework", "pytorch"]
    whole = tmp_path / "inteira"
    done = helpers.run_cli([str(folder), "--out", str(whole), *common])
    assert done.returncode == 0, done.stderr[-2000:]
    outs = [tmp_path / f"notas-{i}" for i in range(3)]
    for i, out in enumerate(outs):
        done = helpers.run_cli([str(folder), "--out", str(out), *common, "--shard", f"{i}/3"])
        assert done.returncode == 0, done.stderr[-2000:]
    merged = tmp_path / "notas"
    done = helpers.run_cli(["merge", *map(str, outs), "--out", str(merged)])
    assert done.returncode == 0, done.stderr[-2000:]
    assert _untimed_rows(merged) == _untimed_rows(whole)
    statuses = {row["id"]: row["status"] for row in _gradebook(whole)}
    assert statuses == {"ana": "ok", "bia": "ok", "caio": "crashed", "davi": "invalid notebook"}
    for name in ("ana", "bia", "caio", "davi"):
        merged_results = helpers.read_results(merged, name)
        assert _stable(merged_results) == _stable(helpers.read_results(whole, name)), name
        assert (merged / name / "feedback.md").read_text(encoding="utf-8") == (
            whole / name / "feedback.md"
        ).read_text(encoding="utf-8")
    assert helpers.read_results(merged, "ana")["score"] == 20.0
    assert helpers.read_results(merged, "bia")["score"] < 20.0
