"""Data from the child is untrusted: bad data fails a probe or a submission, never the grader."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np

from grading import checks, grader, ipc, runs, sandbox


def _npy_with_header(path: Path, header: str) -> None:
    header = header.ljust(118) + "\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())


def test_a_huge_shape_in_an_npy_header_is_refused_before_loading(tmp_path):
    (tmp_path / "p.json").write_text(json.dumps({"arrays": {"output": "p.output.npy"}}))
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }"
    _npy_with_header(tmp_path / "p.output.npy", header)
    response = ipc.read_response(tmp_path, "p")
    assert response["error"]["type"] == "DadosInválidos"
    assert "output" not in response


def test_a_truncated_npy_is_refused(tmp_path):
    (tmp_path / "p.json").write_text(json.dumps({"arrays": {"output": "p.output.npy"}}))
    np.save(tmp_path / "p.output.npy", np.zeros(100, np.float32))
    data = (tmp_path / "p.output.npy").read_bytes()
    (tmp_path / "p.output.npy").write_bytes(data[:-8])
    assert ipc.read_response(tmp_path, "p")["error"]["type"] == "DadosInválidos"


def test_a_link_is_never_followed_even_if_it_appears_after_a_check(tmp_path, monkeypatch):
    # the child owns the directory and may swap a file for a link between check and open
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps({"weight_named": True}))
    folder = tmp_path / "responses"
    folder.mkdir()
    (folder / "p.json").symlink_to(elsewhere)
    monkeypatch.setattr(Path, "is_file", lambda self: True)
    monkeypatch.setattr(Path, "is_symlink", lambda self: False)
    response = ipc.read_response(folder, "p")
    assert response["error"]["type"] == "DadosInválidos"
    assert response["weight_named"] is False


def test_a_fifo_response_does_not_block(tmp_path):
    os.mkfifo(tmp_path / "p.json")
    assert ipc.read_response(tmp_path, "p")["error"]["type"] == "DadosInválidos"


def test_a_deeply_nested_progress_line_is_skipped(tmp_path):
    path = tmp_path / "progress.jsonl"
    path.write_text("[" * 200000 + "\n" + json.dumps({"event": "started"}) + "\n")
    _, events = sandbox.read_events(path, 0)
    assert events == [{"event": "started"}]


def _registered_response(name: str, weights: np.ndarray) -> dict:
    raw = {
        "params": [{"name": name, "shape": list(weights.shape), "trainable": True}],
        "weight_named": True,
        "weight": weights.astype(np.float32),
    }
    return ipc.sanitize_response(raw)


def _registered_check() -> checks.Check:
    return next(
        c for c in checks.checks_for("TensorReduction") if c.judge.__name__.endswith("registered")
    )


def test_a_long_parameter_name_fails_the_check_without_an_error():
    check = _registered_check()
    request = check.request(1)
    sizes = request["sizes"]
    weights = np.random.default_rng(0).standard_normal(
        (sizes["in_units"], sizes["in_units"], sizes["units"])
    )
    response = _registered_response("p" * 200 + "_weight", weights)
    assert check.judge(request, response, "pytorch").status == "failed"


def test_a_nan_weight_is_not_normally_initialised():
    check = _registered_check()
    request = check.request(1)
    sizes = request["sizes"]
    weights = np.random.default_rng(0).standard_normal(
        (sizes["in_units"], sizes["in_units"], sizes["units"])
    )
    assert check.judge(request, _registered_response("weight", weights), "pytorch").status == (
        "passed"
    )
    weights.flat[0] = np.nan
    verdict = check.judge(request, _registered_response("weight", weights), "pytorch")
    assert verdict.status == "failed"


def test_forged_events_only_name_known_classes_and_stay_short():
    state = runs.RunState()
    events = [
        {"event": "classes", "found": [[[1], [2]], ["Outra", "pytorch"], "TensorReduction"]},
        {"event": "classes", "found": [["FourierHalf", "pytorch"], ["FourierHalf", "jax"]]},
        {"event": "cell_error", "cell": "x" * 500, "error": {"type": "E" * 500, "line": 1.5}},
    ]
    runs._record_cells(state, events, first=True)
    assert state.found == {("FourierHalf", "pytorch")}
    assert len(state.cell_errors[0]["cell"]) <= 60 and state.cell_errors[0]["line"] is None


def test_a_hang_is_blamed_on_the_export_started_last():
    events = [
        {"event": "export_start", "id": "a"},
        {"event": "export_done", "id": "a"},
        {"event": "export_done", "id": "nunca-comecou"},
        {"event": "export_start", "id": "b"},
    ]
    assert runs._progress(events, "export_start", "export_done") == (["a"], ["b"])


def test_layers_waiting_for_a_shared_save_are_not_blamed():
    """Traced layers wait for their class's one save: a hang blames the last one started."""
    events = [
        {"event": "export_start", "id": "a"},
        {"event": "export_start", "id": "b"},
        {"event": "export_start", "id": "c"},
        {"event": "export_done", "id": "a"},
    ]
    assert runs._progress(events, "export_start", "export_done") == (["a"], ["b", "c"])


def test_nan_in_an_event_is_refused(tmp_path):
    path = tmp_path / "progress.jsonl"
    path.write_text('{"event": "started", "time": NaN}\n{"event": "imported"}\n')
    assert sandbox.read_events(path, 0)[1] == [{"event": "imported"}]


def test_reserved_submission_ids_are_escaped():
    assert grader.submission_id(Path("x/gradebook.csv.ipynb")) == "_gradebook.csv"
    assert grader.submission_id(Path("x/..ipynb")) == "_."
    assert grader.submission_id(Path("x/.ipynb")) == "_"
    assert grader.submission_id(Path("x/_ana.ipynb")) == "__ana"
    assert grader.submission_id(Path("x/ana.ipynb")) == "ana"


def test_the_student_process_gets_shapes_never_probe_values():
    probes = grader._probes(["pytorch"], 1)
    for probe_id, (_, framework, request) in probes.items():
        spec = runs.export_spec(probe_id, framework, request)
        text = json.dumps(spec)
        assert spec["shape"] == list(request["X"].shape)
        for value in request.values():
            if isinstance(value, np.ndarray) and value.size > 1:
                assert f"{float(value.flat[1]):.4f}"[:6] not in text


def test_returning_the_input_earns_nothing_on_the_n_equals_1_check():
    check = next(c for c in checks.checks_for("FourierHalf") if c.key == "tiny")
    request = check.request(1)
    X = request["X"]
    as_input = ipc.sanitize_response({"output": X.copy(), "output_is_tensor": True})
    assert check.judge(request, as_input, "pytorch").status == "failed"
    right = ipc.sanitize_response({"output": X.astype(np.complex64), "output_is_tensor": True})
    assert check.judge(request, right, "pytorch").status == "passed"


def test_a_grader_traceback_goes_to_stderr_not_to_the_student(tmp_path, monkeypatch, capsys):
    def broken(path):
        raise RuntimeError("segredo-do-corretor")

    monkeypatch.setattr(grader, "read_submission", broken)
    report = grader.grade_submission(tmp_path / "ana.ipynb", grader.GradeOptions(seed=1))
    assert report.status == "grader_error"
    notes = "\n".join(report.notes)
    assert "erro interno do corretor" in notes
    assert "Traceback" not in notes and "segredo-do-corretor" not in notes
    assert "segredo-do-corretor" in capsys.readouterr().err


def test_a_submission_named_like_the_gradebook_keeps_the_gradebook(tmp_path, helpers):
    folder, out = tmp_path / "entregas", tmp_path / "notas"
    folder.mkdir()
    for name in ("gradebook.csv", "ana", ".oculto"):
        helpers.write_notebook(folder / f"{name}.ipynb", ["%%tab pytorch\nx = 1"])
    done = helpers.run_cli([str(folder), "--out", str(out), "--seed", "1", "--jobs", "2"])
    assert done.returncode == 0, done.stderr[-2000:]
    assert (out / "gradebook.csv").is_file()
    with (out / "gradebook.csv").open(encoding="utf-8") as handle:
        ids = {row["id"] for row in csv.DictReader(handle)}
    assert ids == {"_gradebook.csv", "ana", "_.oculto"}
    assert (out / "_gradebook.csv" / "results.json").is_file()


def test_harness_frames_and_host_paths_never_reach_the_student():
    root = "/tmp/grading-abc123"
    log = (
        "Exception ignored in: <function _releaseLock at 0x7f>\n"
        "Traceback (most recent call last):\n"
        f'  File "{root}/child/harness.py", line 68, in _on_alarm\n'
        '    raise SoftTimeout("tempo esgotado")\n'
        "SoftTimeout: tempo esgotado\n"
        f"aluno: {root}/work/x.txt\n"
    )
    scrubbed = runs.scrub_log(log, root)
    assert root not in scrubbed and "harness.py" not in scrubbed
    assert "raise SoftTimeout" not in scrubbed
    assert "aluno: …/work/x.txt" in scrubbed


def test_a_graph_folder_named_by_the_student_must_be_a_probe_of_the_same_class():
    probes = grader._probes(["pytorch", "tensorflow"], 3)
    own = "tr-tensorflow-values"
    assert (
        runs.graph_folder(probes, own, {"bundle": "tr-tensorflow-shape"}) == "tr-tensorflow-shape"
    )
    for named in ("fh-tensorflow-even", "tr-pytorch-shape", "../responses", "", 7, None):
        assert runs.graph_folder(probes, own, {"bundle": named}) == own
    assert runs.graph_folder(probes, own, {}) == own


def test_a_probe_waiting_for_a_crashed_save_gets_one_more_start_only():
    """A process that keeps announcing starts and dying cannot restart without end."""
    probes = grader._probes(["tensorflow"], 3)
    ids = [p for p in probes if p.startswith("tr-")]
    state = runs.RunState()
    run = sandbox.ChildRun(
        returncode=1, killed_for=None, events=[], output="", output_dropped=0, wall=0.0
    )
    left = runs._after_failure(state, probes, ids, run, ids, sandbox.Limits(), "o processo")
    assert left == ids[:-1] and state.failed[ids[-1]][0] == "crashed"
    left = runs._after_failure(state, probes, left, run, left, sandbox.Limits(), "o processo")
    assert left == []
    assert [state.failed[p][1] for p in ids[:-2]] == [runs.NOT_RUN] * (len(ids) - 2)
