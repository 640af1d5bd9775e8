"""Long-lived evaluators: one per grading thread, reused across a batch's submissions.

An evaluator never runs student code (it only loads exported graphs behind its op
allow-list), so it may outlive one submission: starting it, and importing the frameworks
in it, is paid once per batch instead of once per notebook. Each submission's graphs are
copied by the trusted side into the evaluator's read-only inbox (regular files only,
bounded), its answers come back through its own outbox folder, and a server that stalls
or crashes is killed and replaced. Where the batch has pre-imported templates, a server is
forked from the template of its frameworks (which never ran student code), so the imports
are paid once for both processes. The student process is still a new one per submission.
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from frametabs.frameworks import FRAMEWORKS
from grading import ipc
from grading.evaluator.files import UnreadableFile, read_regular
from grading.sandbox import ChildRun, Limits, Sandbox

MAX_COPY_BYTES = 256 * 2**20
MAX_COPY_FILES = 2000
MAX_COPY_DEPTH = 6


class _Budget:
    """What is left of one submission's copy allowance."""

    def __init__(self) -> None:
        self.bytes, self.files = MAX_COPY_BYTES, MAX_COPY_FILES

    def take(self, size: int) -> bool:
        self.bytes -= size
        self.files -= 1
        return self.bytes >= 0 and self.files >= 0


def copy_export(source: Path, target: Path, budget: _Budget, depth: int = 0) -> None:
    """Copy the folders and regular files of a student's export, nothing else, bounded.

    Links, FIFOs and devices are left behind (the evaluator then finds the file missing and
    refuses the graph); so is whatever passes the size or count allowance.
    """
    target.mkdir()
    try:
        entries = list(os.scandir(source))
    except OSError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False) and depth < MAX_COPY_DEPTH:
            copy_export(Path(entry.path), target / entry.name, budget, depth + 1)
        elif entry.is_file(follow_symlinks=False):
            try:
                data = read_regular(entry.path, min(max(budget.bytes, 0), MAX_COPY_BYTES))
            except UnreadableFile:
                continue
            if budget.take(len(data)):
                (target / entry.name).write_bytes(data)


class EvaluatorServer:
    """One evaluator process in its own sandbox, fed one submission at a time."""

    def __init__(
        self,
        limits: Limits,
        frameworks: list[str],
        mode: str | None = None,
        templates: Any = None,
    ):
        """``templates`` (a ``grading.templates.TemplatePool``, namespaces mode): fork the
        server from the template of its frameworks instead of importing them again."""
        self.frameworks = [f for f in FRAMEWORKS if f in frameworks]  # MXNet before TF
        self.sandbox = Sandbox(limits, **({"mode": mode} if mode else {}))
        self.inbox = self.sandbox.folder("inbox", mode=0o755)
        self.outbox = self.sandbox.folder("outbox", mode=0o755)
        work = self.sandbox.folder("eval_work", owner="evaluator")
        config = {"serve": True, "frameworks": self.frameworks}
        folders = {
            "work": (work, True),
            "inbox": (self.inbox, False),
            "outbox": (self.outbox, True),
        }
        if templates is not None and self.sandbox.mode == "namespaces":
            template = templates.get(self.frameworks)
            self.running = self.sandbox.fork_from(template, config, folders, "evaluator")
        else:
            self.running = self.sandbox.start("evaluator", config, folders, keep_stdin=True)

    @property
    def alive(self) -> bool:
        return self.running.process.poll() is None

    def evaluate(
        self,
        exports: Path,
        jobs: list[dict[str, Any]],
        requests: list[dict[str, Any]],
        timeout: float,
        deadline: float,
        budget: Callable[[dict[str, Any] | None], float],
    ) -> tuple[ChildRun, Path]:
        """Apply ``jobs``' graphs (copied from ``exports``); the run and its answers' folder."""
        token = secrets.token_hex(8)
        inbox, outbox = self.inbox / token, self.outbox / token
        (inbox / "requests").mkdir(parents=True)
        (inbox / "exports").mkdir()
        allowance = _Budget()
        for folder in dict.fromkeys(job["folder"] for job in jobs):  # a shared one once
            copy_export(exports / folder, inbox / "exports" / folder, allowance)
        ipc.write_request_files(inbox / "requests", requests)
        outbox.mkdir()
        uid = self.sandbox.uid("evaluator")
        if uid is not None:
            os.chown(outbox, uid, uid)
        self.running.send(
            {"token": token, "jobs": jobs, "timeout": timeout, "progress": "progress.jsonl"}
        )
        run = self.sandbox.watch(
            self.running, outbox / "progress.jsonl", deadline, budget, until="finished"
        )
        return run, outbox

    def discard(self, outbox: Path) -> None:
        """Remove one submission's inbox and outbox folders."""
        shutil.rmtree(self.inbox / outbox.name, ignore_errors=True)
        shutil.rmtree(outbox, ignore_errors=True)

    def close(self) -> None:
        self.sandbox.stop(self.running)
        self.sandbox.close()


class EvaluatorPool:
    """Long-lived evaluators for a batch: at most ``size`` for each set of frameworks.

    The trusted side sends a server one framework's jobs at a time (``grading.runs``), so
    each server imports one framework, forked from that framework's template: a batch never
    needs a template for a set of frameworks. An evaluation is short beside running a
    notebook, so a few servers serve many threads; a thread that finds every server of its
    frameworks busy waits for one.
    """

    def __init__(
        self, limits: Limits, mode: str | None = None, size: int = 1, templates: Any = None
    ):
        """``templates``: the batch's ``TemplatePool``, to fork servers from."""
        self.limits, self.mode, self.templates = limits, mode, templates
        self.size = max(size, 1)
        self.idle: dict[tuple[str, ...], list[EvaluatorServer]] = {}
        self.count: dict[tuple[str, ...], int] = {}  # servers alive, idle or lent, per set
        self.changed = threading.Condition()

    def acquire(self, frameworks: list[str]) -> EvaluatorServer:
        """An idle server of exactly ``frameworks``, or a new one if there is room."""
        key = tuple(f for f in FRAMEWORKS if f in frameworks)  # MXNet before TensorFlow
        with self.changed:
            while True:
                idle = self.idle.setdefault(key, [])
                if idle:
                    return idle.pop()
                if self.count.get(key, 0) < self.size:
                    break
                self.changed.wait()
            self.count[key] = self.count.get(key, 0) + 1
        try:
            return EvaluatorServer(self.limits, list(key), self.mode, self.templates)
        except BaseException:
            with self.changed:
                self.count[key] -= 1
                self.changed.notify_all()
            raise

    def release(self, server: EvaluatorServer) -> None:
        with self.changed:
            if server.alive:
                self.idle.setdefault(tuple(server.frameworks), []).append(server)
            else:
                server.close()
                self.count[tuple(server.frameworks)] -= 1
            self.changed.notify_all()

    def close(self) -> None:
        with self.changed:
            servers = [server for idle in self.idle.values() for server in idle]
            self.idle, self.count = {}, {}
        for server in servers:
            server.close()
