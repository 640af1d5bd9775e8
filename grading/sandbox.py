"""Run the child harness in a sandbox and watch it: limits, timeouts, output cap, cleanup.

Isolation, strongest available first (``isolation_mode`` tests once what this machine
allows):

``namespaces`` (root)
    ``unshare --pid --fork --kill-child --mount --net --mount-proc``: the child sees its own
    processes only, has no network (not even localhost), sees empty tmpfs over the project,
    ``/root``, ``/home``, the temp directories and every submission/output directory, and
    drops to a user id of its own (one per concurrent slot) before student code runs.
    When its first process ends, the kernel kills every process left in the namespace, even
    one started with ``setsid``: at the end that process is killed explicitly (found as
    ``unshare``'s child), and it re-arms its parent-death signal after changing user.
    The sandbox directory (work dir, responses) is a tmpfs of ``Limits.disk`` bytes on the
    host (unmounted by ``close``; a grader killed mid-run leaves it mounted), and every
    world-writable directory (``/run/lock``, ``/var/tmp``, ...) is covered in the child.
``userns`` (not root, user namespaces allowed)
    the same with ``--user --map-root-user``, without the change of user.
``none``
    a new session and the resource limits only; at the end the process group and every
    process carrying this run's token in its environment are killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grading import child

HARNESS_FILES = ("harness.py", "boot.py", "probe.py")
UNSHARE = ("unshare", "--pid", "--fork", "--kill-child", "--mount", "--net", "--mount-proc")
SANDBOX_MOUNT = "/tmp/sandbox"
TOKEN_VARIABLE = "GRADING_SANDBOX_TOKEN"
FIRST_UID = 62000
POLL_SECONDS = 0.05
PROGRESS_LIMIT = 1024 * 1024


SHARED_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/run/shm", "/run/lock", "/var/lock")
MNT_DETACH = 2


@functools.cache
def world_writable() -> tuple[str, ...]:
    """World-writable directories near the top of the tree (covered with tmpfs in the child).

    They would let a submission leave files for the next one (``/run/lock`` persists).
    """
    found = {path for path in SHARED_WRITABLE if os.path.isdir(path)}
    tops = ["/", "/run", "/var", "/dev", "/var/lib", "/var/cache", "/var/spool"]
    for top in tops:
        with contextlib.suppress(OSError), os.scandir(top) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    if entry.is_dir(follow_symlinks=False) and entry.stat().st_mode & 0o002:
                        found.add(entry.path)
    return tuple(sorted(found))


def _libc_call(name: str, *args: Any) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if getattr(libc, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}: {os.strerror(errno)}")


@dataclass(frozen=True)
class Limits:
    """Time and resource limits for one submission's child."""

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
    disk: int = 256 * 2**20  # the sandbox directory's tmpfs (namespaces mode)


@dataclass
class ChildRun:
    """What one start of the child produced (events come from the child: data, not verdicts)."""

    returncode: int | None
    killed_for: str | None  # "stalled" | "deadline" | None
    events: list[dict[str, Any]]
    output: str
    output_dropped: int
    wall: float
    stalled_on: dict[str, Any] | None = None


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


class _UidPool:
    """A distinct user id per concurrent child, so limits and files never mix."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.free = list(range(FIRST_UID, FIRST_UID + 1000))

    def take(self) -> int:
        with self.lock:
            return self.free.pop(0)

    def give(self, uid: int) -> None:
        with self.lock:
            self.free.append(uid)


_UIDS = _UidPool()


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
        "MPLBACKEND": "Agg",
        TOKEN_VARIABLE: token,
    }


class _OutputReader(threading.Thread):
    """Drain the child's stdout+stderr, keeping only the first ``limit`` bytes."""

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


@dataclass
class Sandbox:
    """A fresh directory holding the harness, the cells and the requests of one submission."""

    limits: Limits
    hide: tuple[str, ...] = ()
    mode: str = field(default_factory=isolation_mode)

    def __post_init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="grading-"))
        self.mounted = False
        if self.mode == "namespaces":  # root: bound what the child can write, in total
            with contextlib.suppress(OSError):
                options = f"size={self.limits.disk},mode=755".encode()
                _libc_call("mount", b"tmpfs", bytes(self.root), b"tmpfs", 2 | 4, options)
                self.mounted = True
        self.root.chmod(0o755)
        self.uid = _UIDS.take() if self.mode == "namespaces" else None
        harness = self.root / "harness"
        harness.mkdir()
        source = Path(child.__file__).parent
        for name in HARNESS_FILES:
            shutil.copyfile(source / name, harness / name)
        for name in ("requests", "responses", "work"):
            (self.root / name).mkdir()
        for name in ("responses", "work"):
            if self.uid is not None:
                os.chown(self.root / name, self.uid, self.uid)
            (self.root / name).chmod(0o700)

    @property
    def requests(self) -> Path:
        return self.root / "requests"

    @property
    def responses(self) -> Path:
        return self.root / "responses"

    def write(self, name: str, data: Any) -> None:
        (self.root / name).write_text(json.dumps(data), encoding="utf-8")

    def _config(self, frameworks: list[str], namespaces: list[str], exercises: list[str]):
        project = str(Path(child.__file__).resolve().parents[2])
        hide = {project, "/root", "/home", "/tmp", "/var/tmp", "/dev/shm", tempfile.gettempdir()}
        hide.update(world_writable())
        hide.update(self.hide)
        keep = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}
        limits = self.limits
        return {
            "mode": self.mode,
            "hide": sorted(hide),
            "keep": sorted(keep),
            "sandbox_host": str(self.root),
            "sandbox": SANDBOX_MOUNT,
            "uid": self.uid,
            "limits": {
                "address_space": limits.address_space,
                "cpu": int(limits.submission_timeout + limits.grace),
                "file_size": limits.file_size,
                "processes": limits.processes,
                "open_files": limits.open_files,
            },
            "timeouts": {"cell": limits.cell_timeout, "check": limits.check_timeout},
            "frameworks": frameworks,
            "namespaces": namespaces,
            "exercises": exercises,
        }

    def _command(self) -> list[str]:
        harness = str(self.root / "harness" / "harness.py")
        python = [sys.executable, "-I", "-B", harness, str(self.root)]
        if self.mode == "namespaces":
            return [*UNSHARE, *python]
        if self.mode == "userns":
            return [UNSHARE[0], "--user", "--map-root-user", *UNSHARE[1:], *python]
        return python

    def _budget(self, event: dict[str, Any] | None) -> float:
        """How long the child may stay silent after ``event``."""
        limits = self.limits
        kind = event["event"] if event else None
        if kind in (None, "started", "import_failed"):
            return limits.import_timeout + limits.grace
        if kind in ("probe_start", "probe_done", "classes"):
            return limits.check_timeout + limits.grace
        if kind == "finished":
            return limits.grace
        return limits.cell_timeout + limits.grace

    def run(
        self,
        frameworks: list[str],
        namespaces: list[str],
        exercises: list[str],
        deadline: float,
    ) -> ChildRun:
        """Start the child once; return when it exits, stalls or reaches ``deadline``."""
        for folder in (self.responses, self.root / "work"):  # a fresh start, a full quota
            for entry in os.scandir(folder):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
        self.write("config.json", self._config(frameworks, namespaces, exercises))
        token = secrets.token_hex(16)
        home = f"{SANDBOX_MOUNT}/work" if self.mode != "none" else str(self.root / "work")
        started = time.monotonic()
        process = subprocess.Popen(
            self._command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=_environment(token, home),
            cwd=self.root,
            start_new_session=True,
        )
        reader = _OutputReader(process.stdout, self.limits.output_bytes)
        reader.start()
        events: list[dict[str, Any]] = []
        offset, last_seen, killed_for = 0, time.monotonic(), None
        try:
            while process.poll() is None:
                time.sleep(POLL_SECONDS)
                offset, new = _read_events(self.responses / "progress.jsonl", offset)
                if new:
                    events.extend(new)
                    last_seen = time.monotonic()
                now = time.monotonic()
                if now > deadline:
                    killed_for = "deadline"
                elif now - last_seen > self._budget(events[-1] if events else None):
                    killed_for = "stalled"
                if killed_for:
                    break
        finally:
            _kill(process)
            if self.mode == "none":
                _kill_token_holders(token)
            reader.join(timeout=5)
            if not reader.is_alive():  # else an escaped process holds the pipe: leave it be
                process.stdout.close()
        _, new = _read_events(self.responses / "progress.jsonl", offset)
        events.extend(new)
        stalled_on = events[-1] if killed_for and events else None
        return ChildRun(
            returncode=process.returncode,
            killed_for=killed_for,
            events=events,
            output=reader.kept.decode("utf-8", "replace"),
            output_dropped=reader.dropped,
            wall=time.monotonic() - started,
            stalled_on=stalled_on,
        )

    def close(self) -> None:
        """Remove the directory and give the user id back."""
        if self.mounted:
            with contextlib.suppress(OSError):
                _libc_call("umount2", bytes(self.root), MNT_DETACH)
        shutil.rmtree(self.root, ignore_errors=True)
        if self.uid is not None:
            _UIDS.give(self.uid)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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


def _read_events(path: Path, offset: int) -> tuple[int, list[dict[str, Any]]]:
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
            event = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: '[' * 200000
            continue
        if isinstance(event, dict) and isinstance(event.get("event"), str):
            events.append(event)
    return offset + end, events
