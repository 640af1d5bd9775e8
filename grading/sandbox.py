"""Run a sandboxed program (the student process or the evaluator) and watch it.

Isolation, strongest available first (``isolation_mode`` tests once what this machine
allows):

``namespaces`` (root)
    ``unshare`` with new PID, network, mount, IPC, UTS and cgroup namespaces. The program
    isolates itself before anything untrusted runs (``grading/child/boot.py``): an
    allow-listed root holding only the system libraries, the Python installation and the
    virtual environment (read-only) and this sandbox's own folders; a user id of its own,
    locked machine-wide (no other grader run uses it at the same time); ``no_new_privs``
    and a seccomp filter against new user namespaces. Each writable folder is a tmpfs of
    ``Limits.disk`` bytes, so filling it costs only that submission. When PID 1 of the
    namespace ends, the kernel kills every process left in it.
``userns`` (not root, user namespaces allowed)
    the same inside a user namespace, without the change of user or the disk caps.
``none``
    a new session, the resource limits and the seccomp filter only; at the end the
    process group and every process carrying this run's token are killed.

The configuration reaches the program on its standard input, never as a file it could
read back later; the program's files are copied into the sandbox.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import functools
import json
import os
import queue
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grading import child, evaluator

UNSHARE = (
    "unshare",
    "--pid",
    "--fork",
    "--kill-child",
    "--mount",
    "--net",
    "--ipc",
    "--uts",
    "--cgroup",
    "--mount-proc",
)
PROGRAMS = {
    "child": (
        Path(child.__file__).parent,
        (
            "harness.py",
            "boot.py",
            "exportable.py",
            "quiet.py",
            "export_mxnet.py",
            "export_pytorch.py",
            "export_tensorflow.py",
        ),
        "harness.py",
    ),
    "evaluator": (
        Path(evaluator.__file__).parent,
        (
            "main.py",
            "apply.py",
            "files.py",
            "refusal.py",
            "eval_mxnet.py",
            "eval_pytorch.py",
            "eval_tensorflow.py",
        ),
        "main.py",
    ),
}
TOKEN_VARIABLE = "GRADING_SANDBOX_TOKEN"
FIRST_UID = 62000
UID_COUNT = 20000
UID_LOCKS = "/run/grading-uids"
POLL_SECONDS = 0.05
PROGRESS_LIMIT = 16 * 1024 * 1024  # one event per cell: 100,000 cells fit
MNT_DETACH = 2


def _libc_call(name: str, *args: Any) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if getattr(libc, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}: {os.strerror(errno)}")


@dataclass(frozen=True)
class Limits:
    """Time and resource limits for one submission's processes."""

    submission_timeout: float = 300.0
    check_timeout: float = 20.0
    cell_timeout: float = 60.0
    import_timeout: float = 120.0
    grace: float = 5.0
    address_space: int = 8 * 2**30
    file_size: int = 64 * 2**20
    processes: int = 512
    open_files: int = 1024
    output_bytes: int = 32 * 1024
    disk: int = 256 * 2**20  # each writable folder's tmpfs (namespaces mode)


@dataclass
class ChildRun:
    """What one start of a program produced (events are data, never verdicts)."""

    returncode: int | None
    killed_for: str | None  # "stalled" | "deadline" | None
    events: list[dict[str, Any]]
    output: str
    output_dropped: int
    wall: float


@functools.cache
def isolation_mode() -> str:
    """The strongest isolation this machine allows: namespaces, userns or none."""
    if shutil.which("unshare") is None:
        return "none"
    attempts = [("namespaces", UNSHARE)] if os.geteuid() == 0 else []
    attempts.append(("userns", (UNSHARE[0], "--user", "--map-root-user", *UNSHARE[1:])))
    for mode, command in attempts:
        try:
            done = subprocess.run([*command, "true"], capture_output=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return mode
    return "none"


class UidLease:
    """A user id no other grader run on this machine holds: an ``flock`` on its file."""

    def __init__(self) -> None:
        os.makedirs(UID_LOCKS, mode=0o700, exist_ok=True)
        start = FIRST_UID + secrets.randbelow(UID_COUNT)
        for offset in range(UID_COUNT):
            uid = FIRST_UID + (start - FIRST_UID + offset) % UID_COUNT
            fd = os.open(f"{UID_LOCKS}/{uid}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.uid, self.fd = uid, fd
            return
        raise RuntimeError("no free sandbox user id")

    def release(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


def _environment(token: str, home: str) -> dict[str, str]:
    """A scrubbed environment: nothing of the grader's, one thread per library."""
    threads = "1"
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "TMPDIR": home,
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "TF_NUM_INTRAOP_THREADS": threads,
        "TF_NUM_INTEROP_THREADS": threads,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "TF_ENABLE_ONEDNN_OPTS": "0",
        "CUDA_VISIBLE_DEVICES": "",
        # MXNet's threaded engine restarts its threads around every fork, which fails in a
        # process that has entered a new PID namespace; the naive engine has none
        "MXNET_ENGINE_TYPE": "NaiveEngine",
        "MXNET_USE_SIGNAL_HANDLER": "0",  # a segfault reports its signal, as elsewhere
        "MPLBACKEND": "Agg",
        TOKEN_VARIABLE: token,
    }


class _OutputReader(threading.Thread):
    """Drain the program's stdout+stderr, keeping only the first ``limit`` bytes."""

    def __init__(self, stream: Any, limit: int):
        super().__init__(daemon=True)
        self.stream, self.limit = stream, limit
        self.kept = bytearray()
        self.dropped = 0

    def run(self) -> None:
        while chunk := self.stream.read1(65536):
            room = self.limit - len(self.kept)
            self.kept += chunk[: max(room, 0)]
            self.dropped += max(len(chunk) - max(room, 0), 0)


def _kill_token_holders(token: str) -> None:
    """Kill every process whose environment carries ``token`` (fallback cleanup)."""
    needle = f"{TOKEN_VARIABLE}={token}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)
        except OSError:
            continue


def _keep() -> list[str]:
    """What the interpreter needs, bound read-only at its own path in the sandbox."""
    paths = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    return sorted(os.path.realpath(p) for p in paths)


@dataclass
class Sandbox:
    """Private folders for one submission's processes, and a way to run them there."""

    limits: Limits
    mode: str = field(default_factory=isolation_mode)

    def __post_init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="grading-"))
        self.root.chmod(0o711)
        self.mounts: list[Path] = []
        self.leases: dict[str, UidLease] = {}
        (self.root / "root").mkdir()  # where each process builds its allow-listed root
        for program, (source, files, _) in PROGRAMS.items():
            folder = self.root / program
            folder.mkdir()
            for name in files:
                if (source / name).exists():
                    shutil.copyfile(source / name, folder / name)
            if program == "evaluator":  # the isolation, the contract, TF's quiet block
                for name in ("boot.py", "exportable.py", "quiet.py"):
                    shutil.copyfile(PROGRAMS["child"][0] / name, folder / name)

    def uid(self, who: str) -> int | None:
        """The user id ``who`` runs as (namespaces mode), leased for the sandbox's life."""
        if self.mode != "namespaces":
            return None
        if who not in self.leases:
            self.leases[who] = UidLease()
        return self.leases[who].uid

    def folder(self, name: str, owner: str | None = None, mode: int = 0o700) -> Path:
        """A fresh folder, its own bounded tmpfs in namespaces mode, owned by ``owner``."""
        path = self.root / name
        path.mkdir()
        if self.mode == "namespaces":
            options = f"size={self.limits.disk},mode=700".encode()
            _libc_call("mount", b"tmpfs", bytes(path), b"tmpfs", 2 | 4, options)
            self.mounts.append(path)
        uid = self.uid(owner) if owner else None
        if uid is not None:
            os.chown(path, uid, uid)
        path.chmod(mode)
        return path

    def _isolation(
        self,
        program: str,
        folders: dict[str, tuple[Path, bool]],
        who: str,
        long_lived: bool = False,
    ):
        """The isolation part of a program's config; a ``long_lived`` server (it outlives
        one submission's CPU budget) gets no CPU-time limit."""
        limits = self.limits
        isolation = {
            "mode": self.mode,
            "keep": _keep(),
            "sandbox_host": str(self.root),
            "folders": {
                "program": [str(self.root / program), False],
                **{name: [str(path), writable] for name, (path, writable) in folders.items()},
            },
            "uid": self.uid(who),
            "limits": {
                "address_space": limits.address_space,
                "cpu": int(limits.submission_timeout + limits.grace),
                "file_size": limits.file_size,
                "processes": limits.processes,
                "open_files": limits.open_files,
            },
        }
        if long_lived:
            isolation["limits"].pop("cpu")
        return isolation

    def _command(self, program: str) -> list[str]:
        script = str(self.root / program / PROGRAMS[program][2])
        python = [sys.executable, "-I", "-B", script]
        if self.mode == "namespaces":
            return [*UNSHARE, *python]
        if self.mode == "userns":
            return [UNSHARE[0], "--user", "--map-root-user", *UNSHARE[1:], *python]
        return python

    def start(
        self,
        program: str,
        config: dict[str, Any],
        folders: dict[str, tuple[Path, bool]],
        *,
        keep_stdin: bool = False,
    ) -> Running:
        """Start ``program`` with ``config`` as the first line of its standard input.

        ``folders`` maps names to ``(host folder, writable)``: the program sees each at
        ``/sandbox/<name>`` (or at the host path without namespaces). With ``keep_stdin``
        the input stays open for more lines (a long-lived evaluator's commands).
        """
        who = "evaluator" if program == "evaluator" else "student"
        config = {**config, "isolation": self._isolation(program, folders, who, keep_stdin)}
        token = secrets.token_hex(16)
        home = "/sandbox/work" if self.mode != "none" else str(folders["work"][0])
        process = subprocess.Popen(
            self._command(program),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=_environment(token, home),
            cwd="/",
            start_new_session=True,
        )
        reader = _OutputReader(process.stdout, self.limits.output_bytes)
        reader.start()
        running = Running(process, reader, token)
        running.send(config, close=not keep_stdin)
        return running

    def watch(
        self,
        running: Running,
        events: Path,
        deadline: float,
        budget: Callable[[dict[str, Any] | None], float],
        until: str | None = None,
    ) -> ChildRun:
        """Follow ``events`` until the process exits, logs ``until``, stalls or hits ``deadline``.

        ``budget(last_event)`` is how long it may stay silent. A process that stalls or
        passes the deadline is killed; one that logged ``until`` is left running.
        """
        started = time.monotonic()
        process = running.process
        found: list[dict[str, Any]] = []
        offset, last_seen, killed_for = 0, time.monotonic(), None
        while process.poll() is None:
            time.sleep(POLL_SECONDS)
            offset, new = read_events(events, offset)
            if new:
                found.extend(new)
                last_seen = time.monotonic()
            if until is not None and any(e["event"] == until for e in new):
                break
            now = time.monotonic()
            if now > deadline:
                killed_for = "deadline"
            elif now - last_seen > budget(found[-1] if found else None):
                killed_for = "stalled"
            if killed_for:
                self.stop(running)
                break
        if process.poll() is not None:
            self.stop(running)
        _, new = read_events(events, offset)
        found.extend(new)
        return ChildRun(
            returncode=process.returncode,
            killed_for=killed_for,
            events=found,
            output=running.reader.kept.decode("utf-8", "replace"),
            output_dropped=running.reader.dropped,
            wall=time.monotonic() - started,
        )

    def stop(self, running: Running) -> None:
        """Kill the process, its session and its PID namespace; drain its output."""
        _kill(running.process)
        if self.mode == "none":
            _kill_token_holders(running.token)
        running.lines.put(None)  # ends the input writer, which closes the input
        running.reader.join(timeout=5)
        stdout = running.process.stdout
        if stdout is not None and not running.reader.is_alive():  # else an escaped process
            stdout.close()  # holds the pipe: leave it be

    def fork_from(
        self,
        template: Any,
        config: dict[str, Any],
        folders: dict[str, tuple[Path, bool]],
        program: str = "child",
    ) -> Running:
        """``program``'s process, forked from a pre-imported ``grading.templates.Template``.

        The student process reads nothing more; an ``evaluator`` (a long-lived server)
        reads its commands from a FIFO in this sandbox's private folder, written through
        the returned ``Running`` as a started server's standard input would be.
        """
        from grading.templates import FileOutput

        server = program == "evaluator"  # a batch's long-lived server
        who = "evaluator" if server else "student"
        config = {**config, "isolation": self._isolation(program, folders, who, server)}
        token = secrets.token_hex(16)
        log = self.root / f"log-{token}"
        command = {
            "id": token,
            "log": str(log),
            "environment": _environment(token, "/sandbox/work"),
            "config": config,
            "started": time.time(),
        }
        commands = None
        if server:
            fifo = self.root / f"commands-{token}"
            os.mkfifo(fifo, 0o600)
            commands = open(os.open(fifo, os.O_RDWR), "wb", buffering=0)  # noqa: SIM115
            program_dir = str(self.root / program)
            command.update(program="evaluator", commands=str(fifo), program_dir=program_dir)
        process = template.spawn(command)
        process.stdin = commands
        return Running(process, FileOutput(log, self.limits.output_bytes), token)

    def run(
        self,
        program: str,
        config: dict[str, Any],
        folders: dict[str, tuple[Path, bool]],
        events: Path,
        deadline: float,
        budget: Callable[[dict[str, Any] | None], float],
        template: Any = None,
    ) -> ChildRun:
        """Start ``program`` once; return when it exits, stalls or reaches ``deadline``.

        With ``template`` (namespaces mode, the student process only) the process is
        forked from that pre-imported template instead of started afresh.
        """
        if template is not None and program == "child" and self.mode == "namespaces":
            running = self.fork_from(template, config, folders)
        else:
            running = self.start(program, config, folders)
        try:
            return self.watch(running, events, deadline, budget)
        finally:
            self.stop(running)

    def close(self) -> None:
        """Unmount and remove every folder and give the user ids back."""
        for path in reversed(self.mounts):
            with contextlib.suppress(OSError):
                _libc_call("umount2", bytes(path), MNT_DETACH)
        shutil.rmtree(self.root, ignore_errors=True)
        for lease in self.leases.values():
            lease.release()
        self.leases.clear()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Running:
    """A started program: its process, the thread draining its output, its cleanup token.

    Lines for its standard input go through one writer thread, in order, so a program that
    does not read cannot block the grader.
    """

    def __init__(self, process: Any, reader: Any, token: str):
        self.process, self.reader, self.token = process, reader, token
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        if process.stdin is not None:  # a template's child reads no input
            threading.Thread(target=self._write, daemon=True).start()

    def send(self, message: dict[str, Any], *, close: bool = False) -> None:
        """One JSON line to the program's standard input; ``close`` ends the input after it."""
        self.lines.put(json.dumps(message, allow_nan=False).encode() + b"\n")
        if close:
            self.lines.put(None)

    def _write(self) -> None:
        stream = self.process.stdin
        while (line := self.lines.get()) is not None:
            try:
                stream.write(line)
                stream.flush()
            except (OSError, ValueError):
                return
        with contextlib.suppress(OSError, ValueError):
            stream.close()


def _children(pid: int) -> list[int]:
    """The direct children of ``pid`` (with ``unshare``: the namespace's PID 1)."""
    found = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError):
                found.extend(int(n) for n in (task / "children").read_text().split())
    return found


def _kill(process: subprocess.Popen) -> None:
    """SIGKILL the child's whole session and the PID namespace's init.

    The harness may leave the session (``os.setsid`` in a cell), so its init is found as
    ``unshare``'s child and killed first, while ``unshare`` still holds it: when PID 1 of a
    PID namespace dies, the kernel kills every process in that namespace.
    """
    for pid in _children(process.pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def read_events(path: Path, offset: int) -> tuple[int, list[dict[str, Any]]]:
    """Complete JSON lines appended to ``path`` since ``offset`` (capped, malformed skipped)."""
    if offset >= PROGRESS_LIMIT:
        return offset, []
    try:  # the child owns the directory: refuse links, FIFOs and devices
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return offset, []
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return offset, []
        os.lseek(fd, offset, os.SEEK_SET)
        data = os.read(fd, PROGRESS_LIMIT - offset)
    except OSError:
        return offset, []
    finally:
        os.close(fd)
    end = data.rfind(b"\n") + 1
    events = []
    for line in data[:end].splitlines():
        try:
            event = json.loads(line, parse_constant=_refuse_constant)
        except (ValueError, RecursionError):  # RecursionError: '[' * 200000
            continue
        if isinstance(event, dict) and isinstance(event.get("event"), str):
            events.append(event)
    return offset + end, events


def _refuse_constant(name: str) -> Any:
    """``json.loads`` hook: NaN and Infinity are not data the child may send."""
    raise ValueError(f"non-finite number in an event: {name}")
