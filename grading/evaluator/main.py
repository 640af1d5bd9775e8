"""The evaluator process: apply exported graphs to the trusted inputs, write plain arrays.

Started by ``grading.sandbox`` as ``python -I -B main.py`` with its configuration on
standard input. It imports no student code: it reads ``requests/`` (the trusted inputs),
loads each graph from ``exports/<id>/`` through its framework's checked loader
(``eval_<framework>.py``: allow-list first, then the framework's own loader), and writes
``responses/<id>.json`` and ``.npy`` files. ``responses/progress.jsonl`` logs each job.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import time
from typing import Any

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
# The project's package is never loaded here, not even before isolation: the sibling files
# import ``grading.*`` first and fall back to their neighbours, so make the first fail.
sys.modules["grading"] = None  # type: ignore[assignment]

import apply  # noqa: E402  (sibling files, not package modules)
import boot  # noqa: E402
import numpy as np  # noqa: E402

IMPORT_NAMES = {"mxnet": "mxnet", "pytorch": "torch", "tensorflow": "tensorflow"}


class SoftTimeout(BaseException):
    """Raised when one job runs past its time."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise SoftTimeout("tempo esgotado")


def load_requests(directory: str) -> dict[str, dict[str, Any]]:
    """``id -> request`` with its arrays (written by the trusted side)."""
    with open(os.path.join(directory, "requests.json"), encoding="utf-8") as handle:
        entries = json.load(handle)
    requests = {}
    for entry in entries:
        request = {key: value for key, value in entry.items() if key != "arrays"}
        for key, file_name in entry.get("arrays", {}).items():
            request[key] = np.load(os.path.join(directory, file_name), allow_pickle=False)
        requests[entry["id"]] = request
    return requests


def write_response(directory: str, job_id: str, response: dict[str, Any]) -> None:
    meta: dict[str, Any] = {"arrays": {}}
    for key, value in response.items():
        if isinstance(value, np.ndarray):
            file_name = f"{job_id}.{key}.npy"
            np.save(os.path.join(directory, file_name), value, allow_pickle=False)
            meta["arrays"][key] = file_name
        else:
            meta[key] = value
    with open(os.path.join(directory, f"{job_id}.json"), "w", encoding="utf-8") as handle:
        json.dump(meta, handle, allow_nan=False)


def emit(handle: Any, event: str, **fields: Any) -> None:
    handle.write(json.dumps({"event": event, "time": time.time(), **fields}) + "\n")
    handle.flush()


def main() -> None:
    config = json.load(sys.stdin)
    modules = {f: importlib.import_module(f"eval_{f}") for f in config["frameworks"]}
    sys.path.remove(_HERE)
    paths = boot.isolate(config["isolation"])
    os.chdir(paths["work"])
    responses = paths["responses"]
    log = open(os.path.join(responses, config["progress"]), "a", encoding="utf-8")  # noqa: SIM115
    emit(log, "started")
    for framework in config["frameworks"]:  # book order: MXNet must load before TensorFlow
        importlib.import_module(IMPORT_NAMES[framework])
    requests = load_requests(paths["requests"])
    emit(log, "imported")
    signal.signal(signal.SIGALRM, _on_alarm)
    for job in config["jobs"]:
        emit(log, "job_start", id=job["id"])
        folder = os.path.join(paths["exports"], job["id"])
        signal.setitimer(signal.ITIMER_REAL, config["timeout"], 0.5)
        try:
            response = apply.apply_graph(
                modules[job["framework"]], folder, job["metadata"], requests[job["id"]]
            )
        except SoftTimeout:
            response = {"error": {"stage": "evaluate", "type": "SoftTimeout", "message": ""}}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        write_response(responses, job["id"], response)
        emit(log, "job_done", id=job["id"])
    emit(log, "finished")


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)
