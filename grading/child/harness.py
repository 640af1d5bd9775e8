"""The student process: run a submission's cells, then export each layer as a graph.

Started by ``grading.sandbox`` as ``python -I -B harness.py`` with the configuration on its
standard input (read, like every file it needs, before it isolates itself). It runs the
cells, finds the exercise classes and, for every export ``spec`` the trusted side sent
(shapes and sizes, never a probe value), writes ``out/<id>/`` (the framework graph) and
``out/<id>/meta.json`` (metadata or the error). ``out/progress.jsonl`` logs what started
and finished, so the trusted side can spot a process that hangs.

Nothing here evaluates a layer on the trusted inputs or knows an expected value: the
evaluator (``grading.evaluator``), which never runs student code, does that. Whatever this
process writes is untrusted data to the trusted side.
"""

from __future__ import annotations

import functools
import importlib
import json
import linecache
import os
import random
import shutil
import signal
import sys
import time
import traceback
from typing import Any

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
# The project's package is never loaded here, not even before isolation: the sibling files
# import ``grading.*`` first and fall back to their neighbours, so make the first fail.
sys.modules["grading"] = None  # type: ignore[assignment]

import boot  # noqa: E402  (sibling files, not package modules)
import exportable  # noqa: E402
import numpy as np  # noqa: E402  (imported before isolation, with its libraries)

IMPORT_NAMES = {"mxnet": "mxnet", "pytorch": "torch", "tensorflow": "tensorflow"}
EXPORTERS: dict[str, Any] = {}
SHARED = "*"
MAX_CELL_ERRORS = 50


class SoftTimeout(BaseException):
    """Raised in the main thread when a cell or an export runs past its time."""


class Progress:
    """Append-only event log the trusted side watches to spot a stalled process."""

    def __init__(self, path: str):
        self.handle = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        self.last = 0.0

    def emit(self, event: str, **fields: Any) -> None:
        self.last = time.time()
        record = {"event": event, "time": self.last, **fields}
        self.handle.write(json.dumps(record, allow_nan=False) + "\n")
        self.handle.flush()


def _alarm(seconds: float) -> None:
    """Raise ``SoftTimeout`` after ``seconds``, then every 0.5 s until cancelled.

    The repeat matters: an exception raised inside a callback that C code calls (an
    ``os.register_at_fork`` hook, a ``__del__``) is printed and swallowed.
    """
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.0), 0.5 if seconds > 0 else 0.0)


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
    return {"type": type(error).__name__, "message": exportable.clean_message(error), "line": line}


def run_cells(
    cells: list[dict], names: list[str], timeout: float, progress: Progress, skip: set
) -> dict:
    """Execute every cell in its namespaces; a failing cell is recorded, the rest still run.

    ``skip`` holds the ``(cell, namespace)`` pairs that stopped an earlier start of this
    process (a fork bomb, ``os._exit``): they are not run again.
    """
    namespaces = {name: {"__name__": "__main__", "__builtins__": __builtins__} for name in names}
    reported = 0
    for cell in cells:
        targets = names if cell["namespaces"] == [SHARED] else cell["namespaces"]
        for name in targets:
            if name not in namespaces or (cell["index"], name) in skip:
                continue
            filename = f"<célula {cell['index']} [{name}]>"
            progress.emit("cell", cell=cell["index"], namespace=name)
            try:
                source = cell["code"]
                # as IPython does: tools that read a function's source (AutoGraph) find it
                linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
                code = compile(source, filename, "exec")
                _alarm(timeout)
                try:
                    exec(code, namespaces[name])
                finally:
                    _alarm(0)
            except BaseException as failure:  # a student's cell may raise anything
                if reported < MAX_CELL_ERRORS:
                    reported += 1
                    error = _error_summary(failure, filename)
                    progress.emit("cell_error", cell=cell["index"], namespace=name, error=error)
    return namespaces


def find_classes(namespaces: dict[str, dict], exercises: list[str]) -> dict[tuple, type]:
    """``(exercise, framework) -> class`` for every exercise class defined in a namespace."""
    found: dict[tuple, type] = {}
    for name, namespace in namespaces.items():
        for exercise in exercises:
            cls = namespace.get(exercise)
            if not isinstance(cls, type):
                continue
            framework = name if name in IMPORT_NAMES else exportable.framework_of(cls)
            if framework is not None:
                found.setdefault((exercise, framework), cls)
    return found


def _timed(timeout: float, call: Any) -> dict[str, Any]:
    """``call()`` under the check timeout; a timeout or an OSError as an export error."""
    try:
        _alarm(timeout)
        try:
            return call()
        finally:
            _alarm(0)
    except SoftTimeout:
        return {"error": {"stage": "export", "type": "SoftTimeout", "message": ""}}
    except OSError as error:
        message = exportable.clean_message(error)
        return {"error": {"stage": "export", "type": type(error).__name__, "message": message}}


class Exports:
    """Writes each spec's result and announces it; remembers the classes that hung."""

    def __init__(self, out: str, timeout: float, progress: Progress):
        self.out, self.timeout, self.progress = out, timeout, progress
        self.hung: set[tuple[str, str]] = set()

    def finish(self, spec: dict, result: dict[str, Any]) -> None:
        if result.get("error", {}).get("type") == "SoftTimeout":
            self.hung.add(_class_key(spec))
        try:
            path = os.path.join(self.out, f"{spec['id']}.json")
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(result, handle, allow_nan=False, default=str)
        except (OSError, ValueError, TypeError):
            pass  # no metadata: the trusted side reports the export as missing
        self.progress.emit("export_done", id=spec["id"])

    def export_alone(self, spec: dict, call: Any) -> dict[str, Any]:
        """``call(folder)`` into the spec's own new folder; its result, written."""
        folder = os.path.join(self.out, spec["id"])
        result = _timed(self.timeout, _in_new_folder(folder, call))
        self.finish(spec, result)
        return result

    def save_together(self, exporter: Any, traced: list[tuple[dict, Any]]) -> None:
        """Save one class's traced layers in its first layer's folder.

        If that save raises, each layer is saved alone, so the one that cannot be saved
        is the one refused; if it runs out of time, the first layer times out and the
        others are never announced (the trusted side scores them as not run).
        """
        specs = [spec for spec, _ in traced]
        first = specs[0]["id"]
        self.progress.emit("bundle_start", ids=[spec["id"] for spec in specs])
        folder = os.path.join(self.out, first)
        members = [member for _, member in traced]
        result = _timed(self.timeout, _in_new_folder(folder, _saving(exporter, members)))
        if "metadata" in result:
            for spec, metadata in zip(specs, result["metadata"], strict=True):
                self.finish(spec, {"metadata": {**metadata, "bundle": first}})
            return
        if result["error"]["type"] == "SoftTimeout":
            self.finish(specs[0], result)
            return
        shutil.rmtree(folder, ignore_errors=True)
        for spec, member in traced:
            result = self.export_alone(spec, _saving(exporter, [member], alone=True))
            if result.get("error", {}).get("type") == "SoftTimeout":
                break  # one timeout per class: the others are not run


def _in_new_folder(folder: str, call: Any) -> Any:
    """The call, for ``_timed``, that makes ``folder`` and then runs ``call(folder)``."""

    def run() -> dict[str, Any]:
        os.mkdir(folder)
        return call(folder)

    return run


def _saving(exporter: Any, members: list[Any], alone: bool = False) -> Any:
    """``call(folder)`` saving ``members`` there: their metadata (one only, ``alone``)."""

    def call(folder: str) -> dict[str, Any]:
        def save() -> dict[str, Any]:
            saved = exporter.save_members(members, folder)
            return {"metadata": saved[0] if alone else saved}

        return exportable.guarded(save)

    return call


def _class_key(spec: dict) -> tuple[str, str]:
    return spec["exercise"], spec["framework"]


def run_exports(out: str, specs: list[dict], found: dict, timeout: float, progress: Progress):
    """Export every spec whose class was found, class by class, each under the check timeout.

    A class whose export runs out of time once is not exported again: a hanging forward
    costs one timeout, not one per check. Where the exporter saves a class's layers
    together, each layer is traced (and announced started) in turn, and all are announced
    done once their one save is written.
    """
    exports = Exports(out, timeout, progress)
    classes: dict[tuple[str, str], list[dict]] = {}
    for spec in specs:
        classes.setdefault(_class_key(spec), []).append(spec)
    for key, class_specs in classes.items():
        layer_class = found.get(key)
        if layer_class is None:
            continue
        exporter = EXPORTERS[key[1]]
        traced: list[tuple[dict, Any]] = []  # waiting for the class's one save
        for spec in class_specs:
            if key in exports.hung:
                break
            progress.emit("export_start", id=spec["id"])
            if hasattr(exporter, "save_members"):
                trace = functools.partial(exportable.trace_one, exporter, layer_class, spec)
                result = _timed(timeout, trace)
                if "member" in result:
                    traced.append((spec, result["member"]))
                else:
                    exports.finish(spec, result)
            else:
                exports.export_alone(
                    spec, functools.partial(exportable.export_one, exporter, layer_class, spec)
                )
        if traced:
            exports.save_together(exporter, traced)


def seed_generators(seed: int) -> None:
    """Seed every random generator already imported, from the grading run's seed.

    A layer's random initial weights then depend only on the seed, whether this process
    started afresh or was forked from a template whose generators had moved.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
    if "tensorflow" in sys.modules:
        sys.modules["tensorflow"].random.set_seed(seed)
        sys.modules["tensorflow"].keras.utils.set_random_seed(seed % 2**32)
    if "mxnet" in sys.modules:
        sys.modules["mxnet"].random.seed(seed % 2**31)


def load_exporters(frameworks: set[str]) -> None:
    """Import the exporters the specs need, before isolation (their files are beside this)."""
    for framework in sorted(frameworks):
        if framework not in EXPORTERS:
            EXPORTERS[framework] = importlib.import_module(f"export_{framework}")
    if _HERE in sys.path:
        sys.path.remove(_HERE)


def main() -> None:
    started = time.time()
    config = json.load(sys.stdin)
    load_exporters({spec["framework"] for spec in config["specs"]})
    run(config, started)


def run(config: dict[str, Any], started: float) -> None:
    """Isolate this process, run the cells, export the layers (also a template's child)."""
    paths = boot.isolate(config["isolation"])
    os.chdir(paths["work"])
    out = paths["out"]
    progress = Progress(os.path.join(out, config["progress"]))
    progress.emit("started", at=started)
    signal.signal(signal.SIGALRM, _on_alarm)
    for framework in config["frameworks"]:  # book order: MXNet must load before TensorFlow
        try:
            __import__(IMPORT_NAMES[framework])
        except BaseException as error:
            progress.emit(
                "import_failed", framework=framework, error=exportable.clean_message(error)
            )
    seed_generators(config["seed"])
    progress.emit("imported")
    timeouts = config["timeouts"]
    skip = {(index, name) for index, name in config["skip"]}
    namespaces = run_cells(config["cells"], config["namespaces"], timeouts["cell"], progress, skip)
    found = find_classes(namespaces, config["exercises"])
    progress.emit("classes", found=[list(key) for key in found])
    run_exports(out, config["specs"], found, timeouts["check"], progress)
    progress.emit("finished")


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: a student's atexit hook or thread cannot delay it
