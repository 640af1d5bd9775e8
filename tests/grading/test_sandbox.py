"""The sandbox's own mechanisms: machine-wide user ids and the filter on user namespaces."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from grading import sandbox

NEEDS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="leases and namespaces need root")

HOLD_LEASES = """
import sys, time
from grading.sandbox import UidLease
leases = [UidLease() for _ in range(int(sys.argv[1]))]
print(" ".join(str(lease.uid) for lease in leases), flush=True)
sys.stdin.read()
"""


@NEEDS_ROOT
def test_no_two_grader_runs_hold_the_same_user_id():
    other = subprocess.Popen(
        [sys.executable, "-c", HOLD_LEASES, "40"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        theirs = set(map(int, other.stdout.readline().split()))
        assert len(theirs) == 40
        mine = [sandbox.UidLease() for _ in range(40)]
        assert len({lease.uid for lease in mine}) == 40
        assert theirs.isdisjoint(lease.uid for lease in mine)
        for lease in mine:
            lease.release()
    finally:
        other.communicate("", timeout=30)


UNSHARE_USER = """
import ctypes, sys
sys.path.insert(0, sys.argv[1])
import boot
if sys.argv[2] == "filter":
    boot.forbid_user_namespaces()
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x10000000) == 0:
    print("permitido")
else:
    print("bloqueado", ctypes.get_errno())
"""


def _unshare_user(with_filter: bool) -> str:
    child = os.path.dirname(sandbox.PROGRAMS["child"][0] / "boot.py")
    mode = "filter" if with_filter else "none"
    done = subprocess.run(
        [sys.executable, "-c", UNSHARE_USER, child, mode], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_seccomp_filter_refuses_new_user_namespaces():
    if _unshare_user(with_filter=False) != "permitido":
        pytest.skip("this machine refuses user namespaces anyway")
    assert _unshare_user(with_filter=True) == "bloqueado 1"
