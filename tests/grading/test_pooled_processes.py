"""Templates and long-lived evaluators give the same verdicts as fresh processes."""

from __future__ import annotations

import csv
import json
import os
import re
import time
from pathlib import Path

import pytest

from grading import sandbox
from solutions import catalogue

pytestmark = pytest.mark.slow

SEED = 13


def _ref(exercise: str, framework: str) -> str:
    return f"%%tab {framework}\n" + catalogue.reference_source(exercise, framework)


def _wrong(name: str) -> str:
    impl = next(i for i in catalogue.WRONG if (i.name, i.framework) == (name, "pytorch"))
    return "%%tab pytorch\n" + impl.source


# each tab reports the frameworks its process has imported (its namespace's, and no other)
IMPORTED = (
    "import sys\n"
    "raise RuntimeError('importados: ' + ','.join(\n"
    "    m for m in ('mxnet', 'torch', 'tensorflow') if m in sys.modules))"
)
WHO_AM_I = (
    "%%tab pytorch\nimport os\n"
    "raise RuntimeError(f'eu: pid {os.getpid()} uid {os.getuid()} ppid {os.getppid()}')"
)


@pytest.fixture(scope="module")
def both(tmp_path_factory, helpers):
    folder = tmp_path_factory.mktemp("entregas")
    notebooks = {
        "pytorch": [_ref(e, "pytorch") for e in catalogue.EXERCISES],
        "tensorflow": [_ref(e, "tensorflow") for e in catalogue.EXERCISES],
        "mxnet": [_ref(e, "mxnet") for e in catalogue.EXERCISES],
        "tres": [_ref(e, f) for f in catalogue.FRAMEWORKS for e in catalogue.EXERCISES],
        "errado": [_wrong("floor_half"), _wrong("weight_data")],
        "sai": ["%%tab pytorch\nimport os\nos._exit(4)", _ref("FourierHalf", "pytorch")],
        "quem": [WHO_AM_I, _ref("TensorReduction", "pytorch")],
        "importados": [f"%%tab {f}\n{IMPORTED}" for f in catalogue.FRAMEWORKS],
    }
    for name, cells in notebooks.items():
        helpers.write_notebook(folder / f"{name}.ipynb", cells)
    outs = {}
    for mode, extra in (("fresh", ["--fresh-processes"]), ("pooled", [])):
        out = tmp_path_factory.mktemp(mode)
        args = [str(folder), "--out", str(out), "--seed", str(SEED), "--jobs", "2", *extra]
        done = helpers.run_cli(args)
        assert done.returncode == 0, done.stderr[-3000:]
        outs[mode] = out
    return notebooks, outs


def _stable(path) -> dict:
    results = json.loads(path.read_text(encoding="utf-8"))
    results.pop("execution_time")
    results["extra_data"].pop("timings")
    return results


def _masked(value):
    """The leased user id differs from run to run ("quem" prints it): masked."""
    return json.loads(re.sub(r"uid \d+", "uid N", json.dumps(value)))


def _rows(out) -> list[dict]:
    with (out / "gradebook.csv").open(encoding="utf-8") as handle:
        return [{k: v for k, v in row.items() if k != "tempo_s"} for row in csv.DictReader(handle)]


def test_both_paths_give_the_same_reports(both):
    notebooks, outs = both
    assert _rows(outs["fresh"]) == _rows(outs["pooled"])
    for name in notebooks:
        fresh, pooled = (_masked(_stable(outs[m] / name / "results.json")) for m in outs)
        assert fresh == pooled, name
        feedback = [_masked((outs[m] / name / "feedback.md").read_text("utf-8")) for m in outs]
        assert feedback[0] == feedback[1], name
    assert _stable(outs["pooled"] / "tres" / "results.json")["score"] == 20.0


@pytest.mark.skipif(os.geteuid() != 0, reason="templates run in the namespaces mode")
def test_a_forked_student_process_is_pid_1_of_its_own_namespace_and_unprivileged(both):
    _, outs = both
    text = (outs["pooled"] / "quem" / "feedback.md").read_text(encoding="utf-8")
    found = re.search(r"eu: pid (\d+) uid (\d+) ppid (\d+)", text.replace("\\", ""))
    assert found, text
    pid, uid, ppid = map(int, found.groups())
    assert (pid, ppid) == (1, 0)  # init of a PID namespace of its own
    assert uid >= sandbox.FIRST_UID  # a leased, unprivileged user


def _running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _uid_of(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])


@pytest.mark.skipif(os.geteuid() != 0, reason="templates run in the namespaces mode")
def test_a_batch_evaluator_is_forked_from_the_template_then_isolated_as_the_evaluator():
    from grading.serve import EvaluatorServer
    from grading.templates import TemplatePool, template_environment

    limits = sandbox.Limits()
    templates = TemplatePool(template_environment(), limits.import_timeout)
    server = None
    try:
        server = EvaluatorServer(limits, ["pytorch"], templates=templates)
        assert server.running.process.template is templates.get(["pytorch"])
        evaluator_uid = server.sandbox.uid("evaluator")
        deadline = time.monotonic() + 120
        isolated = None
        while time.monotonic() < deadline and isolated is None:
            for pid in sandbox._children(server.running.process.pid):  # its namespace's PID 1
                if _uid_of(pid) == evaluator_uid:
                    isolated = pid
            time.sleep(0.2)
        assert isolated is not None, "the forked evaluator never dropped to its leased user"
        assert evaluator_uid >= sandbox.FIRST_UID
        assert os.readlink(f"/proc/{isolated}/root") != "/"  # chrooted into its own root
        assert os.readlink(f"/proc/{isolated}/ns/pid") != os.readlink("/proc/self/ns/pid")
    finally:
        if server is not None:
            server.close()
        templates.close()


def test_each_tab_of_a_notebook_runs_in_a_process_of_its_framework_only(both):
    """A notebook with three tabs: three student processes, each with one framework."""
    _, outs = both
    for mode, out in outs.items():
        text = (out / "importados" / "feedback.md").read_text(encoding="utf-8")
        found = re.findall(r"importados: ([a-z,]*)", text.replace("\\", ""))
        assert sorted(found) == ["mxnet", "tensorflow", "torch"], (mode, text)
