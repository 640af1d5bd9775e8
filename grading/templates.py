"""Pre-imported templates of the student process (``grading/child/template.py``).

A template has imported exactly the frameworks one kind of submission names (as a fresh
student process would: importing more changes behaviour, e.g. MXNet's own crash handler)
and nothing of any student's; each submission's student process is forked from it, so it
pays a fork, not an interpreter start and the framework imports. Templates run only in the
``namespaces`` isolation mode (the forked child enters its own namespaces and isolates
itself exactly as a fresh ``unshare``d process does); elsewhere every student process
starts fresh.

Measured here: PyTorch and TensorFlow work in a child forked after their import. MXNet's
threaded engine does not: its fork handlers restart the engine's threads in the parent of
every fork, and the process that forks the namespace's PID 1 has entered a new PID
namespace, where creating a thread fails (``EINVAL``, then ``std::terminate``). The
sandbox's environment therefore selects MXNet's naive engine (no threads) in every
student process and evaluator, forked or fresh, and then all three frameworks fork.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from frametabs.frameworks import FRAMEWORKS
from grading import child

PROGRAM = Path(child.__file__).parent / "template.py"


class TemplateChild:
    """A student process forked by a template: polled and waited like a ``Popen``."""

    stdin = None
    stdout = None

    def __init__(self, template: Template, pid: int):
        self.template, self.pid = template, pid

    def poll(self) -> int | None:
        return self.template.exits.get(self.pid)

    @property
    def returncode(self) -> int | None:
        return self.poll()

    def wait(self, timeout: float = 30.0) -> int | None:
        end = time.monotonic() + timeout
        with self.template.changed:
            while self.pid not in self.template.exits and time.monotonic() < end:
                if not self.template.alive:
                    return None
                self.template.changed.wait(0.1)
        return self.poll()


class FileOutput:
    """A template child's output: its log file, read (the first ``limit`` bytes) at the end."""

    def __init__(self, path: Path, limit: int):
        self.path, self.limit = path, limit
        self.kept, self.dropped = bytearray(), 0

    def join(self, timeout: float | None = None) -> None:
        try:
            with open(self.path, "rb") as handle:
                self.kept = bytearray(handle.read(self.limit))
                handle.seek(0, 2)
                self.dropped = max(handle.tell() - len(self.kept), 0)
        except OSError:
            pass

    def is_alive(self) -> bool:
        return False


class Template:
    """One template process and the thread reading its reports."""

    def __init__(self, frameworks: list[str], environment: dict[str, str], timeout: float):
        self.frameworks = frameworks
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-B", str(PROGRAM)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=environment,
            cwd="/",
            start_new_session=True,
        )
        self.exits: dict[int, int] = {}
        self.spawned: dict[str, int] = {}
        self.ready = False
        self.changed = threading.Condition()
        self.writing = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self._write({"frameworks": frameworks})
        self._wait(lambda: self.ready, timeout)
        if not self.ready:
            self.close()
            raise RuntimeError(f"o modelo do processo do aluno não iniciou ({frameworks})")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def _write(self, message: dict[str, Any]) -> None:
        with self.writing:
            self.process.stdin.write(json.dumps(message, allow_nan=False).encode() + b"\n")
            self.process.stdin.flush()

    def _read(self) -> None:
        for line in self.process.stdout:
            text = line.decode("utf-8", "replace").strip()
            with self.changed:
                if text == "ready":
                    self.ready = True
                elif text.startswith("{"):
                    report = json.loads(text)
                    if "spawned" in report:
                        self.spawned[report["id"]] = report["spawned"]
                    elif "exited" in report:
                        self.exits[report["exited"]] = report["code"]
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    def _wait(self, condition, timeout: float) -> None:
        end = time.monotonic() + timeout
        with self.changed:
            while not condition() and self.alive and time.monotonic() < end:
                self.changed.wait(0.1)

    def spawn(self, command: dict[str, Any]) -> TemplateChild:
        """Fork a child for ``command`` (its ``id``, ``log``, ``environment``, ``config``)."""
        self._write(command)
        self._wait(lambda: command["id"] in self.spawned, 30.0)
        if command["id"] not in self.spawned:
            raise RuntimeError("o modelo do processo do aluno não respondeu")
        return TemplateChild(self, self.spawned.pop(command["id"]))

    def close(self) -> None:
        """Kill the template; its children die with it (parent-death signal)."""
        self.process.kill()
        self.process.wait()
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        self.reader.join(timeout=5)  # it reads to the end of the output, then stops
        if not self.reader.is_alive():
            self.process.stdout.close()


class TemplatePool:
    """Templates for the sets of frameworks a batch's submissions need, started on demand.

    Templates of different sets start in parallel; threads wanting the same set wait for it.
    The grader asks only for one framework at a time (or none): a notebook with several
    tabs runs one student process per framework (``grading.grader``).
    """

    def __init__(self, environment: dict[str, str], timeout: float):
        self.environment, self.timeout = environment, timeout
        self.templates: dict[tuple[str, ...], Template] = {}
        self.locks: dict[tuple[str, ...], threading.Lock] = {}
        self.lock = threading.Lock()

    def get(self, frameworks: list[str]) -> Template:
        """The template for ``frameworks``, started if there is none yet."""
        key = tuple(f for f in FRAMEWORKS if f in frameworks)  # MXNet before TensorFlow
        with self.lock:
            starting = self.locks.setdefault(key, threading.Lock())
        with starting:
            template = self.templates.get(key)
            if template is None or not template.alive:
                template = Template(list(key), self.environment, self.timeout)
                with self.lock:
                    self.templates[key] = template
            return template

    def close(self) -> None:
        with self.lock:
            templates, self.templates = list(self.templates.values()), {}
        for template in templates:
            template.close()


def template_environment() -> dict[str, str]:
    """The scrubbed environment of the sandboxed processes (thread counts read at import)."""
    from grading.sandbox import _environment

    return _environment("template", "/sandbox/work")
