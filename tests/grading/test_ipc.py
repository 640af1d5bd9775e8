"""Plain data only: what the child sends back is checked before anything judges it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from grading import checks, ipc
from solutions import reference


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __array__(self, dtype=None):
        holder = np.empty(1, dtype=object)
        holder[0] = "sempre igual"
        return holder


def object_array() -> np.ndarray:
    holder = np.empty(1, dtype=object)
    holder[0] = AlwaysEqual()
    return holder


class LyingArray(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)


def test_an_ndarray_subclass_arrives_as_a_plain_array():
    lying = np.zeros(3).view(LyingArray)
    plain = ipc.plain_array(lying)
    assert type(plain) is np.ndarray
    assert not np.array_equal(plain, np.ones(3))


@pytest.mark.parametrize("value", [AlwaysEqual(), object_array(), [1.0]])
def test_objects_and_non_arrays_are_rejected(value):
    with pytest.raises(ipc.IPCError):
        ipc.plain_array(value)


def test_a_structured_or_huge_array_is_rejected():
    with pytest.raises(ipc.IPCError, match="tipo"):
        ipc.plain_array(np.zeros(2, dtype=[("a", "f4")]))
    with pytest.raises(ipc.IPCError, match="grande"):
        ipc.plain_array(np.zeros(ipc.MAX_ARRAY_BYTES // 8 + 1))


def test_a_malformed_response_becomes_an_error_and_fails_the_check():
    response = ipc.sanitize_response({"output": AlwaysEqual(), "params": "weight"})
    assert response["error"]["type"] == "DadosInválidos"
    check = checks.checks_for("FourierHalf")[1]
    result = check.evaluate(check.request(0), response, "pytorch")
    assert result.points == 0 and result.status == "failed"


def test_read_response_refuses_links_and_pickles(tmp_path):
    (tmp_path / "p.json").write_text(json.dumps({"arrays": {"output": "p.output.npy"}}))
    np.save(tmp_path / "p.output.npy", object_array(), allow_pickle=True)
    assert ipc.read_response(tmp_path, "p")["error"]["type"] == "DadosInválidos"
    (tmp_path / "p.output.npy").unlink()
    (tmp_path / "p.output.npy").symlink_to("/etc/passwd")
    assert "ausente" in ipc.read_response(tmp_path, "p")["error"]["message"]
    (tmp_path / "q.json").write_text(json.dumps({"arrays": {"output": "../x.npy"}}))
    assert "inesperado" in ipc.read_response(tmp_path, "q")["error"]["message"]
    assert ipc.read_response(tmp_path, "absent") is None


def test_a_good_response_round_trips(tmp_path):
    output = np.arange(6, dtype=np.complex64).reshape(2, 3)
    np.save(tmp_path / "p.output.npy", output)
    meta = {"arrays": {"output": "p.output.npy"}, "output_is_tensor": True, "error": None}
    (tmp_path / "p.json").write_text(json.dumps(meta))
    response = ipc.read_response(tmp_path, "p")
    assert response["error"] is None and response["output_is_tensor"] is True
    np.testing.assert_array_equal(response["output"], output)


def test_requests_sent_to_the_child_hold_inputs_only(tmp_path):
    entries = []
    for exercise in checks.EXERCISES:
        for check in checks.checks_for(exercise):
            entries.append(
                {"id": f"{exercise}-{check.key}", "framework": "pytorch", **check.request(5)}
            )
    ipc.write_request_files(tmp_path, entries)
    sent = [np.load(p) for p in tmp_path.glob("*.npy")]
    meta = json.loads((tmp_path / "requests.json").read_text())
    assert {name for e in meta for name in e["arrays"]} <= {"X", "set_weight", "grad_output"}
    for entry in entries:
        X = entry["X"]
        if entry["exercise"] == "FourierHalf":
            answers = [reference.fourier_half(X).real, reference.fourier_half_input_grad(X)]
        elif entry["set_weight"] is not None:
            answers = [reference.tensor_reduction(entry["set_weight"], X)]
        else:
            continue
        for answer in answers:
            if answer.shape == X.shape and np.allclose(answer, X):
                continue  # n = 1: the only coefficient is the input itself
            assert not any(a.shape == answer.shape and np.allclose(a, answer) for a in sent)


def test_inputs_depend_on_the_seed_only():
    check = checks.checks_for("TensorReduction")[2]
    first, again, other = check.request(3), check.request(3), check.request(4)
    np.testing.assert_array_equal(first["X"], again["X"])
    assert first["X"].shape != other["X"].shape or not np.array_equal(first["X"], other["X"])
