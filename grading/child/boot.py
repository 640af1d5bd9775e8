"""Isolate the child before any student code runs: mounts, resource limits, a new user.

Run as root inside fresh mount, PID and network namespaces (``unshare``), ``isolate``:

1. makes every mount private, so nothing below leaks to the host;
2. covers each ``hide`` directory (the project, ``/root``, ``/home``, ``/tmp``, ...) with
   an empty tmpfs, then binds back read-only the ``keep`` paths the interpreter needs
   (the virtual environment, the Python installation);
3. binds the sandbox directory at ``sandbox``;
4. sets resource limits and drops to an unprivileged user with ``no_new_privs``.

Without namespaces (``mode == "none"``) only the resource limits apply.
"""

from __future__ import annotations

import ctypes
import os
import resource
from typing import Any

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
PR_SET_NO_NEW_PRIVS = 38
PR_SET_DUMPABLE = 4
PR_SET_PDEATHSIG = 1
SIGKILL = 9

_libc = None


def _call(name: str, *args: Any) -> None:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if getattr(_libc, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}{args[:2]}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = ""):
    _call(
        "mount",
        None if source is None else source.encode(),
        target.encode(),
        None if fstype is None else fstype.encode(),
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )


def _bind(fd: int, target: str, *, readonly: bool) -> None:
    os.makedirs(target, exist_ok=True)
    _mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
    if readonly:
        _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _inside(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def hide_and_bind(hide: list[str], keep: list[str], sandbox_host: str, sandbox: str) -> None:
    """Cover ``hide`` with tmpfs, keep ``keep`` (read-only) and bind the sandbox."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    sandbox_fd = os.open(sandbox_host, os.O_RDONLY | os.O_DIRECTORY)
    hidden: list[str] = []
    for directory in sorted(set(hide), key=len):
        if os.path.isdir(directory) and not any(_inside(directory, h) for h in hidden):
            hidden.append(directory)  # a directory inside a hidden one is hidden already
    keep_fds = {k: os.open(k, os.O_RDONLY) for k in keep if os.path.exists(k)}
    for directory in hidden:
        _mount("tmpfs", directory, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=755")
        for path, fd in keep_fds.items():
            if _inside(path, directory):
                _bind(fd, path, readonly=True)
    _bind(sandbox_fd, sandbox, readonly=False)
    for fd in [sandbox_fd, *keep_fds.values()]:
        os.close(fd)


def set_limits(limits: dict[str, int]) -> None:
    """Lower the resource limits (an unprivileged process may always lower them)."""
    names = {
        "address_space": resource.RLIMIT_AS,
        "cpu": resource.RLIMIT_CPU,
        "file_size": resource.RLIMIT_FSIZE,
        "processes": resource.RLIMIT_NPROC,
        "open_files": resource.RLIMIT_NOFILE,
    }
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for key, value in limits.items():
        _, hard = resource.getrlimit(names[key])
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(names[key], (value, value))


def drop_privileges(uid: int) -> None:
    """Become ``uid`` (no supplementary groups) for good."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    # changing the user clears the parent-death signal ``unshare --kill-child`` set: re-arm
    # it, so that this process (PID 1 of the namespace) dies with ``unshare``
    _call("prctl", PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # outside a PID namespace: the parent is already gone
        os._exit(1)
    _call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def isolate(config: dict[str, Any]) -> str:
    """Apply the configured isolation; return the directory the child should work in."""
    mode = config["mode"]
    if mode in ("namespaces", "userns"):
        hide_and_bind(config["hide"], config["keep"], config["sandbox_host"], config["sandbox"])
        root = config["sandbox"]
    else:
        root = config["sandbox_host"]
    set_limits(config["limits"])
    if mode == "namespaces" and config.get("uid") is not None:
        drop_privileges(config["uid"])
    else:
        _call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    return root
