"""Shards: each machine grades a fixed part of a batch; ``grading.merge`` joins the parts.

Shard ``I/N`` (``I`` from 0 to ``N - 1``) grades the submissions at positions ``I``,
``I + N``, ``I + 2N``, ... of the batch sorted by submission id (round robin). Membership
depends only on the sorted ids, never on the machine, the order the files were listed in or
the number of cores, so every machine that sees the same folder picks the same part. Round
robin rather than contiguous blocks: the shards' sizes differ by at most one, and slow
notebooks that sort together (one class's late submissions, one group's prefix) spread over
all shards instead of landing on one.

Every run, sharded or not, writes ``OUT/manifest.json`` last, when its reports are done:
the seed, the options that change verdicts, the shard, how many submissions the whole
batch holds (and a digest of their ids), the ids this run graded and the grader version.
``grading.merge`` refuses to join runs whose manifests disagree.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from grading.grader import GradeOptions

MANIFEST = "manifest.json"
FORMAT = 1
DISTRIBUTION = "camadas-personalizadas"
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
_SHARD = re.compile(r"([0-9]+)/([0-9]+)")

T = TypeVar("T")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (0-based)."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


WHOLE = Shard(0, 1)


def parse_shard(text: str) -> Shard:
    """``"2/10"`` as ``Shard(2, 10)``; an ``argparse`` type (its errors are in Portuguese)."""
    match = _SHARD.fullmatch(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(
            f"shard inválido {text!r}: use I/N, por exemplo 0/10 (I vai de 0 a N-1)"
        )
    index, count = int(match[1]), int(match[2])
    if count < 1:
        raise argparse.ArgumentTypeError(f"shard inválido {text!r}: N precisa ser pelo menos 1")
    if index >= count:
        raise argparse.ArgumentTypeError(
            f"shard inválido {text!r}: é preciso 0 ≤ I < N "
            f"(com N = {count}, os shards vão de 0/{count} a {count - 1}/{count})"
        )
    return Shard(index, count)


def select(items: Sequence[T], shard: Shard) -> list[T]:
    """The items of ``shard`` (``items`` sorted by submission id): every N-th from I."""
    return list(items[shard.index :: shard.count])


def ids_digest(ids: Sequence[str]) -> str:
    """A digest of the sorted ids: shards of one batch share it."""
    text = "\n".join(sorted(ids))
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def grader_version() -> str:
    """The project's version: the checkout's ``pyproject.toml``, else the installed one."""
    try:
        project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
        if project.get("name") == DISTRIBUTION:
            return str(project["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        pass
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "desconhecida"


def verdict_options(options: GradeOptions) -> dict[str, Any]:
    """The options that can change a verdict (the seed apart): framework and every limit."""
    return {"framework": options.framework, "limits": dataclasses.asdict(options.limits)}


def manifest(
    options: GradeOptions,
    shard: Shard,
    batch_ids: Sequence[str],
    graded: Sequence[str],
    failed: Sequence[str],
    isolation: str,
) -> dict[str, Any]:
    """The manifest of one run: ``graded`` are its ids, ``failed`` those without a report."""
    return {
        "format": FORMAT,
        "grader": {"name": DISTRIBUTION, "version": grader_version()},
        "seed": options.seed,
        "options": verdict_options(options),
        "shard": {"index": shard.index, "count": shard.count},
        "submissions": {"total": len(batch_ids), "digest": ids_digest(batch_ids)},
        "ids": sorted(graded),
        "failed": sorted(failed),
        "isolation": isolation,
    }


def write_manifest(out: Path, document: dict[str, Any]) -> Path:
    """Write ``out/manifest.json`` atomically (strict JSON; odd file names escaped)."""
    path = out / MANIFEST
    text = json.dumps(document, indent=2, allow_nan=False, default=str) + "\n"
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return path


def read_manifest(folder: Path) -> dict[str, Any]:
    """``folder/manifest.json``; raises ``OSError`` or ``ValueError`` when unusable."""
    document = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"formato de manifesto desconhecido (esperado {FORMAT})")
    return document
