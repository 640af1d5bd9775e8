"""The evaluator process: apply exported graphs to the trusted inputs, write plain arrays.

Started by ``grading.sandbox`` as ``python -I -B main.py`` with its configuration on
standard input, or (a batch's long-lived server) forked from a pre-imported template that
never ran student code (``grading/child/template.py``). It imports no student code: it
reads ``requests/`` (the trusted inputs), loads each graph from ``exports/<id>/`` through
its framework's checked loader (``eval_<framework>.py``: allow-list first, then the
framework's own loader), and writes ``responses/<id>.json`` and ``.npy`` files.
``responses/progress.jsonl`` logs each job.
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


def run_jobs(modules: dict, command: dict, exports: str, requests_dir: str, responses: str):
    """Apply each job's graph to its request; write the responses and the progress log.

    A job's graph is in ``exports/<folder>``, where the trusted side says (jobs of one class
    may share one); what is loaded serves only this command, never another submission.
    """
    with open(os.path.join(responses, command["progress"]), "a", encoding="utf-8") as log:
        requests = load_requests(requests_dir)
        emit(log, "imported")
        loaded: dict[str, Any] = {}  # graphs this command's jobs share, loaded once
        for job in command["jobs"]:
            emit(log, "job_start", id=job["id"])
            folder = os.path.join(exports, job.get("folder", job["id"]))
            signal.setitimer(signal.ITIMER_REAL, command["timeout"], 0.5)
            try:
                response = apply.apply_graph(
                    modules[job["framework"]],
                    folder,
                    job["metadata"],
                    requests[job["id"]],
                    loaded,
                )
            except SoftTimeout:
                response = {"error": {"stage": "evaluate", "type": "SoftTimeout", "message": ""}}
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            write_response(responses, job["id"], response)
            emit(log, "job_done", id=job["id"])
        emit(log, "finished")


def serve(modules: dict, paths: dict[str, str], commands: Any) -> None:
    """One command per line of ``commands``, each naming a folder of the inbox and outbox.

    The evaluator never runs student code, so it may serve a whole batch: each command's
    graphs were copied by the trusted side into ``inbox/<token>/exports`` with its requests
    in ``inbox/<token>/requests``; the answers go to ``outbox/<token>``.
    """
    for line in commands:
        command = json.loads(line)
        token = command["token"]
        inbox = os.path.join(paths["inbox"], token)
        run_jobs(
            modules,
            command,
            os.path.join(inbox, "exports"),
            os.path.join(inbox, "requests"),
            os.path.join(paths["outbox"], token),
        )


def main(config: dict[str, Any] | None = None, commands: Any = None) -> None:
    """Run as configured: ``config`` and the server's ``commands`` default to stdin's lines.

    A pre-imported template (``grading/child/template.py``) forks a server and calls this
    with the configuration it was sent and the stream of the server's command FIFO.
    """
    if config is None:
        config = json.loads(sys.stdin.readline())
    # every loader (they import their framework only when used); the frameworks themselves
    # are imported now, in book order (a long-lived server is sent only its own framework's
    # jobs, so it never loads MXNet after TensorFlow)
    modules = {f: importlib.import_module(f"eval_{f}") for f in IMPORT_NAMES}
    if _HERE in sys.path:
        sys.path.remove(_HERE)
    paths = boot.isolate(config["isolation"])
    os.chdir(paths["work"])
    if not config.get("serve"):
        with open(os.path.join(paths["responses"], config["progress"]), "a") as log:
            emit(log, "started")
    for framework in config["frameworks"]:  # book order: MXNet must load before TensorFlow
        importlib.import_module(IMPORT_NAMES[framework])
    signal.signal(signal.SIGALRM, _on_alarm)
    if config.get("serve"):
        print("ready", flush=True)
        serve(modules, paths, sys.stdin if commands is None else commands)
    else:
        run_jobs(modules, config, paths["exports"], paths["requests"], paths["responses"])


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)
