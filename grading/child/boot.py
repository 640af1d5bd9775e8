"""Isolate a sandboxed process before it runs anything untrusted: an allow-listed root.

Run inside fresh mount, PID, network, IPC, UTS and cgroup namespaces (``unshare``), as root
or as the mapped root of a user namespace, ``isolate``:

1. makes every mount private, so nothing below leaks to the host;
2. builds a new, empty root (a small tmpfs) and binds into it, read-only and at their own
   paths, only what the interpreter needs: the system's libraries (``/usr``, ``/lib*``), a
   few files of ``/etc``, the Python installation and the virtual environment, and a few
   devices; the sandbox's own folders appear under ``/sandbox/<name>``, writable only
   where the trusted side said so; nothing else of the host exists there (no project, no
   other submission, no home directory, no shared ``/tmp``, no host sockets);
3. ``chroot``s into it with a fresh ``/proc``;
4. sets resource limits, drops to an unprivileged user of its own (when root), sets
   ``no_new_privs`` and installs a seccomp filter that refuses new user namespaces.

Without namespaces (``mode == "none"``) only the resource limits and the filter apply.
"""

from __future__ import annotations

import ctypes
import errno as errno_codes
import os
import platform
import resource
import struct
from typing import Any

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
PR_SET_NO_NEW_PRIVS = 38
PR_SET_PDEATHSIG = 1
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SIGKILL = 9
CLONE_NEWUSER = 0x10000000
SANDBOX = "/sandbox"
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/group",
    "/etc/alternatives",
)
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
# (audit arch, unshare, clone, clone3, setns) per machine
SYSCALLS = {
    "x86_64": (0xC000003E, 272, 56, 435, 308),
    "aarch64": (0xC00000B7, 97, 220, 435, 268),
}

_libc = None


def _call(name: str, *args: Any) -> None:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if getattr(_libc, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = ""):
    _call(
        "mount",
        None if source is None else source.encode(),
        target.encode(),
        None if fstype is None else fstype.encode(),
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )


def _bind(source: str, target: str, *, writable: bool) -> None:
    """Bind ``source`` at ``target`` (created as a file or folder), read-only by default."""
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            open(target, "wb").close()
    _mount(source, target, None, MS_BIND | MS_REC)
    flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV
    if not writable:
        flags |= MS_RDONLY
    if not source.startswith("/dev/"):
        _mount(None, target, None, flags)


def allowed_paths(keep: list[str]) -> list[str]:
    """System paths, ``/etc`` files and ``keep`` that exist, with links resolved, each once."""
    found: list[str] = []
    for path in (*SYSTEM_PATHS, *ETC_FILES, *keep):
        if os.path.islink(path):  # /lib -> usr/lib: the target is bound, the link recreated
            continue
        if os.path.exists(path) and path not in found:
            found.append(path)
    return found


def build_root(keep: list[str], folders: dict[str, tuple[str, bool]], new_root: str) -> None:
    """Make the allow-listed root at ``new_root`` (an empty folder) and ``chroot`` into it."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", new_root, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=755")
    for path in allowed_paths(keep):
        _bind(path, new_root + path, writable=False)
    for path in SYSTEM_PATHS:  # /lib -> usr/lib and friends, as on the host
        if os.path.islink(path):
            os.symlink(os.readlink(path), new_root + path)
    for device in DEVICES:
        if os.path.exists(device):
            _bind(device, new_root + device, writable=True)
    for name, (source, writable) in folders.items():
        _bind(source, f"{new_root}{SANDBOX}/{name}", writable=writable)
    os.makedirs(new_root + "/proc", exist_ok=True)
    _mount("proc", new_root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.makedirs(new_root + "/tmp", mode=0o1777, exist_ok=True)
    os.chmod(new_root + "/tmp", 0o755)  # nobody writes here: TMPDIR is the work folder
    os.chdir(new_root)
    os.chroot(new_root)
    os.chdir("/")
    _mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


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
    if os.getppid() == 1 and os.getpid() != 1:  # the parent is already gone
        os._exit(1)


def _filter_program() -> bytes | None:
    """A seccomp BPF program refusing new user namespaces (``None`` on unknown machines)."""
    numbers = SYSCALLS.get(platform.machine())
    if numbers is None:
        return None
    arch, unshare, clone, clone3, setns = numbers
    ld, jeq, jset, ret = 0x20, 0x15, 0x45, 0x06
    allow, kill = 0x7FFF0000, 0x80000000
    eperm = 0x00050000 | errno_codes.EPERM
    enosys = 0x00050000 | errno_codes.ENOSYS
    program = [
        (ld, 0, 0, 4),  # arch
        (jeq, 1, 0, arch),
        (ret, 0, 0, kill),
        (ld, 0, 0, 0),  # syscall number
        (jeq, 0, 1, clone3),  # clone3 hides its flags in memory: glibc falls back to clone
        (ret, 0, 0, enosys),
        (jeq, 0, 1, setns),
        (ret, 0, 0, eperm),
        (jeq, 1, 0, unshare),
        (jeq, 0, 3, clone),
        (ld, 0, 0, 16),  # first argument (flags), low 32 bits
        (jset, 0, 1, CLONE_NEWUSER),
        (ret, 0, 0, eperm),
        (ret, 0, 0, allow),
    ]
    return b"".join(struct.pack("HBBI", *instruction) for instruction in program)


def forbid_user_namespaces() -> bool:
    """Install the seccomp filter (after ``no_new_privs``); False where it is unavailable."""
    _call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    program = _filter_program()
    if program is None:
        return False
    buffer = ctypes.create_string_buffer(program)

    class SockFprog(ctypes.Structure):
        _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))

    fprog = SockFprog(len(program) // 8, ctypes.addressof(buffer))
    _call("prctl", PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0)
    return True


def isolate(config: dict[str, Any]) -> dict[str, str]:
    """Apply the configured isolation; return each sandbox folder as this process sees it."""
    mode = config["mode"]
    folders = {name: (path, bool(writable)) for name, (path, writable) in config["folders"].items()}
    if mode in ("namespaces", "userns"):
        build_root(config["keep"], folders, os.path.join(config["sandbox_host"], "root"))
        paths = {name: f"{SANDBOX}/{name}" for name in folders}
    else:
        paths = {name: path for name, (path, _) in folders.items()}
    set_limits(config["limits"])
    if mode == "namespaces" and config.get("uid") is not None:
        drop_privileges(config["uid"])
    forbid_user_namespaces()
    return paths
