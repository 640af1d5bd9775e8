"""A pre-imported template of the student process: it forks one child per submission.

Started by ``grading.templates`` as root, outside any sandbox, with the frameworks of a
kind of submission to import. It imports them once (MXNet before TensorFlow), warms each
exporter up on a tiny layer of its own, then reads one command per line on standard input
and forks: the child leaves the session, sends its output to the command's log file, enters
new mount, network, IPC, UTS, cgroup and PID namespaces and forks again, so that the
grandchild is PID 1 of its namespace (as with ``unshare --fork --kill-child``). The
grandchild runs ``harness.run``: it isolates itself and only then runs the student's cells.

The template itself never runs student code, so it serves a whole batch; every child is
used for one submission and dies with it. A command with ``"program": "evaluator"`` forks
instead a batch's long-lived evaluator (``grading/evaluator/main.py``, which then isolates
itself as the evaluator), from a zygote forked right after the imports (see
``start_zygote``): it shares the imports, never a process that ran student code.

Lines on standard output: ``ready``, then ``{"spawned": pid, "id": ...}`` and
``{"exited": pid, "code": ...}``, from this process and from the ones it forked.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import signal
import sys
import threading
import time
from typing import Any

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
sys.modules["grading"] = None  # type: ignore[assignment]  (see harness.py)

import harness  # noqa: E402  (sibling files)
import warmup  # noqa: E402

NAMESPACES = 0x00020000 | 0x40000000 | 0x08000000 | 0x04000000 | 0x02000000 | 0x20000000
# CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP | CLONE_NEWPID
PR_SET_PDEATHSIG = 1
_OUTPUT = threading.Lock()


def say(message: Any) -> None:
    with _OUTPUT:
        sys.stdout.write((message if isinstance(message, str) else json.dumps(message)) + "\n")
        sys.stdout.flush()


def reap() -> None:
    """Report every child's exit code (negative: killed by that signal)."""
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            time.sleep(0.05)
            continue
        say({"exited": pid, "code": os.waitstatus_to_exitcode(status)})


def run_evaluator(command: dict[str, Any]) -> None:
    """Be a batch's long-lived evaluator: its program, its config, commands from a FIFO.

    The FIFO (made by the trusted side in the evaluator's private sandbox folder) is opened
    before isolation; read-write, so opening never waits for the writer.
    """
    import importlib.util

    commands = open(os.open(command["commands"], os.O_RDWR), encoding="utf-8")  # noqa: SIM115
    path = os.path.join(command["program_dir"], "main.py")
    spec = importlib.util.spec_from_file_location("evaluator_main", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(command["config"], commands)


def child(command: dict[str, Any]) -> None:
    """The forked child: new namespaces, then the grandchild that runs the harness."""
    try:
        os.setsid()
        log = os.open(command["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.environ.clear()
        os.environ.update(command["environment"])
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(NAMESPACES) != 0:
            os._exit(71)
        pid = os.fork()
        if pid == 0:
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if command.get("program") == "evaluator":
                run_evaluator(command)
            else:
                harness.run(command["config"], command["started"])
            sys.stdout.flush()
            os._exit(0)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # dies with the template
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code < 0:  # die of the same signal, as unshare does
            signal.signal(-code, signal.SIG_DFL)
            os.kill(os.getpid(), -code)
        os._exit(code)
    except BaseException:
        os._exit(70)


def fork_child(command: dict[str, Any]) -> None:
    """Fork the child of ``command`` and report its pid."""
    pid = os.fork()
    if pid == 0:
        child(command)
    say({"spawned": pid, "id": command["id"]})


def serve_forks(commands) -> None:
    """Fork a child for each command line; report it (and, from a thread, its exit)."""
    threading.Thread(target=reap, daemon=True).start()
    for line in commands:
        fork_child(json.loads(line))


def start_zygote() -> int:
    """Fork the evaluators' zygote now, before any framework has run an operation.

    TensorFlow cannot run a function in a process forked after its eager runtime started
    (the child waits forever on thread pools it did not inherit), and the warm-up starts
    it. The zygote keeps the bare imports and forks the batch's evaluators; it writes its
    reports to the same output (one short line per write, so lines never interleave).
    Returns the file descriptor the template writes evaluator commands to.
    """
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    if os.fork() == 0:
        os.close(write_end)
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # dies with the template
        try:
            serve_forks(os.fdopen(read_end, encoding="utf-8"))
        finally:
            os._exit(0)
    os.close(read_end)
    return write_end


def serve_template(frameworks: list[str], commands: Any) -> None:
    """Import ``frameworks``, warm them up, then fork on each command."""
    for framework in frameworks:  # book order: MXNet must load before TensorFlow
        __import__(harness.IMPORT_NAMES[framework])
    zygote = os.fdopen(start_zygote(), "w", encoding="utf-8")
    warmup.warm_up({f: harness.EXPORTERS[f] for f in frameworks}, harness.exportable.export_one)
    threading.Thread(target=reap, daemon=True).start()
    say("ready")
    for line in commands:
        command = json.loads(line)
        if command.get("program") == "evaluator":
            with contextlib.suppress(OSError):  # the zygote died: the server never starts
                zygote.write(line if line.endswith("\n") else line + "\n")
                zygote.flush()
        else:
            fork_child(command)


def main() -> None:
    setup = json.loads(sys.stdin.readline())
    harness.load_exporters(set(harness.EXPORTERS) | set(harness.IMPORT_NAMES))
    serve_template(setup["frameworks"], sys.stdin)


if __name__ == "__main__":
    main()
    os._exit(0)
