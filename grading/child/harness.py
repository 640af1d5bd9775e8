"""The child's main program: run a submission's cells, then the requested probes.

Started by ``grading.sandbox`` as ``python -I harness.py SANDBOX_DIR`` with ``boot.py`` and
``probe.py`` beside it. Before isolating itself (and so before any student code runs) it
reads ``requests/`` into memory and deletes those files; then it reads ``config.json`` and
``cells.json`` and writes ``responses/`` (one JSON + ``.npy`` files per probe) and
``responses/progress.jsonl`` (events with timestamps: what started, what finished). It never
sees an expected value.

Residual risk: this process also runs the student's code, which can patch this module,
walk the stack or ``gc`` to the in-memory requests, and write to ``responses/`` and the
progress log. The trusted side (``grading.grader._read_protocol``) accepts the log only in
strict protocol order (one ``classes`` event after the cells, one start/done pair per
announced probe, in request order, then ``finished``), refuses anything else for the rest
of that submission, and reads responses only for probes completed in order. A submission
that finds the inputs in memory, computes the right answers itself (NumPy) and writes a
complete, well-ordered fake log and responses before exiting is still accepted: it
earns the points for values it really computed, and can fake the framework-only facts
(a tensor result, a registered parameter, a gradient). Closing that needs the probes to run
where student code cannot write (not possible while both share this process).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback
from typing import Any

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)

import boot  # noqa: E402  (a sibling file, not a package module)
import numpy as np  # noqa: E402
import probe  # noqa: E402

sys.path.remove(_HERE)

IMPORT_NAMES = {"mxnet": "mxnet", "pytorch": "torch", "tensorflow": "tensorflow"}
SHARED = "*"


class SoftTimeout(BaseException):
    """Raised in the main thread when a cell or a probe runs past its time."""


class Progress:
    """Append-only event log the trusted side watches to spot a stalled child."""

    def __init__(self, path: str):
        self.handle = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115

    def emit(self, event: str, **fields: Any) -> None:
        record = {"event": event, "time": time.time(), **fields}
        self.handle.write(json.dumps(record) + "\n")
        self.handle.flush()


def _alarm(seconds: float) -> None:
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.0))


def _on_alarm(signum: int, frame: Any) -> None:
    raise SoftTimeout("tempo esgotado")


def _error_summary(error: BaseException, filename: str) -> dict[str, Any]:
    """Type, message and the line in the cell where ``error`` happened."""
    line = None
    if isinstance(error, SyntaxError) and error.filename == filename:
        line = error.lineno
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == filename:
            line = frame.lineno
    return {"type": type(error).__name__, "message": probe.clean_message(error), "line": line}


def run_cells(cells: list[dict], names: list[str], timeout: float, progress: Progress) -> dict:
    """Execute every cell in its namespaces; a failing cell is recorded, the rest still run."""
    namespaces = {name: {"__name__": "__main__", "__builtins__": __builtins__} for name in names}
    for cell in cells:
        targets = names if cell["namespaces"] == [SHARED] else cell["namespaces"]
        for name in targets:
            if name not in namespaces:
                continue
            filename = f"<célula {cell['index']} [{name}]>"
            progress.emit("cell_start", cell=cell["index"], namespace=name)
            error = None
            try:
                code = compile(cell["code"], filename, "exec")
                _alarm(timeout)
                try:
                    exec(code, namespaces[name])
                finally:
                    _alarm(0)
            except BaseException as failure:  # a student's cell may raise anything
                error = _error_summary(failure, filename)
            progress.emit("cell_done", cell=cell["index"], namespace=name, error=error)
    return namespaces


def find_classes(namespaces: dict[str, dict], exercises: list[str]) -> dict[tuple, type]:
    """``(exercise, framework) -> class`` for every exercise class defined in a namespace."""
    found: dict[tuple, type] = {}
    for name, namespace in namespaces.items():
        for exercise in exercises:
            cls = namespace.get(exercise)
            if not isinstance(cls, type):
                continue
            framework = name if name in IMPORT_NAMES else probe.framework_of(cls)
            if framework is not None:
                found.setdefault((exercise, framework), cls)
    return found


def load_requests(sandbox_host: str) -> list[dict[str, Any]]:
    """Every request with its arrays, read into memory; the files are then deleted.

    Runs before ``boot.isolate`` (and so before any student code): once the cells run,
    the probe inputs are no longer on disk for them to read.
    """
    directory = os.path.join(sandbox_host, "requests")
    with open(os.path.join(directory, "requests.json"), encoding="utf-8") as handle:
        entries = json.load(handle)
    requests = []
    for entry in entries:
        request = {key: value for key, value in entry.items() if key != "arrays"}
        for key, file_name in entry.get("arrays", {}).items():
            request[key] = np.load(os.path.join(directory, file_name), allow_pickle=False)
        requests.append(request)
    for name in os.listdir(directory):
        os.unlink(os.path.join(directory, name))
    return requests


def write_response(directory: str, probe_id: str, response: dict[str, Any]) -> None:
    meta: dict[str, Any] = {"arrays": {}}
    for key, value in response.items():
        if isinstance(value, np.ndarray):
            file_name = f"{probe_id}.{key}.npy"
            np.save(os.path.join(directory, file_name), value, allow_pickle=False)
            meta["arrays"][key] = file_name
        else:
            meta[key] = value
    with open(os.path.join(directory, f"{probe_id}.json"), "w", encoding="utf-8") as handle:
        json.dump(meta, handle)


def run_probes(root: str, requests: list[dict], found: dict, timeout: float, progress: Progress):
    out = os.path.join(root, "responses")
    for request in requests:
        entry = request
        key = (entry["exercise"], entry["framework"])
        if key not in found:
            continue
        progress.emit("probe_start", id=entry["id"])
        _alarm(timeout)
        try:
            response = probe.run_probe(found[key], entry["framework"], dict(request))
        finally:
            _alarm(0)
        try:
            write_response(out, entry["id"], response)
        except (OSError, ValueError) as error:
            failure = {"stage": "output", "type": type(error).__name__}
            failure["message"] = probe.clean_message(error)
            write_response(out, entry["id"], {"error": failure})
        progress.emit("probe_done", id=entry["id"])


def main(sandbox_host: str) -> None:
    started = time.time()
    with open(os.path.join(sandbox_host, "config.json"), encoding="utf-8") as handle:
        config = json.load(handle)
    requests = load_requests(sandbox_host)
    root = boot.isolate(config)
    os.chdir(os.path.join(root, "work"))
    progress = Progress(os.path.join(root, "responses", "progress.jsonl"))
    progress.emit("started", at=started)
    signal.signal(signal.SIGALRM, _on_alarm)
    for framework in config["frameworks"]:  # book order: MXNet must load before TensorFlow
        try:
            __import__(IMPORT_NAMES[framework])
        except BaseException as error:
            progress.emit("import_failed", framework=framework, error=probe.clean_message(error))
    progress.emit("imported")
    with open(os.path.join(root, "cells.json"), encoding="utf-8") as handle:
        cells = json.load(handle)
    timeouts = config["timeouts"]
    namespaces = run_cells(cells, config["namespaces"], timeouts["cell"], progress)
    found = find_classes(namespaces, config["exercises"])
    progress.emit("classes", found=[list(key) for key in found])
    run_probes(root, requests, found, timeouts["check"], progress)
    progress.emit("finished")


if __name__ == "__main__":
    main(sys.argv[1])
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: a student's atexit hook or thread cannot delay it
