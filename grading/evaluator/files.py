"""Read a file another process wrote, as a capped regular file opened without following links.

The student process owns the folders its exports and responses are in: it may leave a link,
a FIFO or a device where a file is expected, or swap one in between a check and an open.
So the file is opened with ``O_NOFOLLOW | O_NONBLOCK`` and every check is made on the
opened descriptor. The trusted side (``grading.ipc``) and the evaluator's loaders share
this one reader, each raising its own refusal.
"""

from __future__ import annotations

import os
import stat

CHUNK = 1 << 20


class UnreadableFile(Exception):
    """The file is missing, a link, not a regular file, or over the limit (Portuguese text)."""


def read_capped(fd: int, limit: int) -> bytes:
    """Up to ``limit + 1`` bytes from ``fd`` (one more than ``limit`` says: too big)."""
    chunks, size = [], 0
    while size <= limit:
        chunk = os.read(fd, min(CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def read_regular(path: str, limit: int, *, dir_fd: int | None = None) -> bytes:
    """The bytes of ``path`` (relative to ``dir_fd`` when given), at most ``limit`` of them."""
    name = os.path.basename(str(path))
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        fd = os.open(path, flags, dir_fd=dir_fd)
    except OSError:  # missing, or a link (ELOOP)
        raise UnreadableFile(f"arquivo ausente ou link: {name}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(f"não é um arquivo comum: {name}")
        if info.st_size > limit:
            raise UnreadableFile(f"arquivo grande demais: {name}")
        data = read_capped(fd, limit)
    except OSError:
        raise UnreadableFile(f"arquivo ilegível: {name}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise UnreadableFile(f"arquivo grande demais: {name}")
    return data
