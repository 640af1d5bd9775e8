"""``python -m grading merge OUT_0 ... OUT_N-1 --out OUT``: join the reports of shards.

Reads every shard's ``manifest.json`` and refuses (exit 2) to join shards graded with
different seeds, options, grader versions or batches, a shard missing or given twice, ids
graded by two shards, or a folder without a manifest (a shard that did not finish). Then it
copies every ``OUT_k/<id>/`` into ``OUT/<id>/``, writes one ``gradebook.csv`` (the shards'
rows through ``grading.gradebook.Gradebook``, so the file is what one unsharded run writes)
and ``OUT/manifest.json`` last. Exit 1 when a shard recorded a failure of the grader itself
(as the unsharded run would), 0 otherwise.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grading import shards
from grading.gradebook import COLUMNS, STATUS_CODES, Gradebook, text_cell
from grading.results import plural

GRADEBOOK = "gradebook.csv"
STATUS_OF_CODE = {code: status for status, code in STATUS_CODES.items()}
AGREEMENT = {  # manifest key -> what differs, in the refusal
    "seed": "sementes",
    "options": "opções",
    "grader": "versões do corretor",
    "submissions": "lotes de submissões",
}


class Refused(Exception):
    """The shards cannot be joined; the message says why, in Portuguese."""


@dataclass
class Part:
    """One shard's folder and manifest."""

    folder: Path
    manifest: dict[str, Any]

    @property
    def shard(self) -> shards.Shard:
        shard = self.manifest["shard"]
        return shards.Shard(shard["index"], shard["count"])

    @property
    def with_rows(self) -> list[str]:
        """The ids with a report and a gradebook row (in the gradebook's order)."""
        failed = set(self.manifest["failed"])
        return sorted(i for i in self.manifest["ids"] if i not in failed)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m grading merge",
        description="Junta os resultados de shards corrigidos com a mesma semente e opções.",
    )
    parser.add_argument("shards", nargs="+", type=Path, help="pastas --out dos shards")
    parser.add_argument("--out", type=Path, required=True, help="pasta (nova ou vazia)")
    parser.add_argument("--quiet", action="store_true", help="só erros e avisos")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        parts = [_read(folder) for folder in args.shards]
        _check_agreement(parts)
        _check_coverage(parts)
        _check_out(args.out, parts)
        rows = {i: row for part in parts for i, row in _rows(part).items()}
        for part in parts:
            _check_folders(part)
    except Refused as refusal:
        print(f"merge recusado: {refusal}", file=sys.stderr)
        return 2
    _write(args.out, parts, rows)
    failed = sorted(i for part in parts for i in part.manifest["failed"])
    modes = sorted({str(part.manifest.get("isolation")) for part in parts})
    if len(modes) > 1:
        print(
            f"aviso: shards corrigidos com isolamentos diferentes: {', '.join(modes)}",
            file=sys.stderr,
        )
    if not args.quiet:
        print(_summary(parts, rows, args.out))
    if failed:
        print(
            f"aviso: falha do corretor em {plural(len(failed), 'submissão', 'submissões')}: "
            f"{', '.join(failed)}",
            file=sys.stderr,
        )
        return 1
    return 0


# --- reading and checking the shards ----------------------------------------------------


def _read(folder: Path) -> Part:
    if not (folder / shards.MANIFEST).is_file():
        raise Refused(
            f"{folder} não tem {shards.MANIFEST}: a correção desse shard não terminou "
            "(ou a pasta não é saída de python -m grading)"
        )
    try:
        manifest = shards.read_manifest(folder)
    except (OSError, ValueError) as error:
        raise Refused(f"manifesto ilegível em {folder}: {error}") from error
    if manifest.get("shard") is None:
        raise Refused(f"{folder} é o resultado de um merge, não de um shard")
    if not _well_formed(manifest):
        raise Refused(f"manifesto incompleto em {folder}")
    return Part(folder, manifest)


def _well_formed(manifest: dict[str, Any]) -> bool:
    shard, batch = manifest.get("shard"), manifest.get("submissions")
    return (
        isinstance(shard, dict)
        and all(type(shard.get(k)) is int for k in ("index", "count"))
        and 0 <= shard["index"] < shard["count"]
        and isinstance(batch, dict)
        and type(batch.get("total")) is int
        and isinstance(batch.get("digest"), str)
        and all(
            isinstance(manifest.get(k), list) and all(_is_id(i) for i in manifest[k])
            for k in ("ids", "failed")
        )
    )


def _is_id(value: object) -> bool:
    """A submission id as ``grading.grader.submission_id`` makes them: one path component."""
    return isinstance(value, str) and value[:1] not in ("", ".") and "/" not in value


def _check_agreement(parts: list[Part]) -> None:
    for key, what in AGREEMENT.items():
        flat = [_flatten(part.manifest.get(key), key) for part in parts]
        names = sorted({name for values in flat for name in values})
        differing = [n for n in names if len({_canonical(v.get(n)) for v in flat}) > 1]
        if differing:
            each = "; ".join(_values(name, parts, flat) for name in differing)
            raise Refused(f"shards corrigidos com {what} diferentes ({each})")
    counts = {part.shard.count for part in parts}
    if len(counts) > 1:
        each = ", ".join(f"{part.folder} = {part.shard}" for part in parts)
        raise Refused(f"shards de divisões diferentes ({each})")


def _values(name: str, parts: list[Part], flat: list[dict[str, object]]) -> str:
    """``seed: notas-0 = 7, notas-1 = 8``."""
    pairs = zip(parts, flat, strict=True)
    return f"{name}: " + ", ".join(f"{part.folder} = {values.get(name)}" for part, values in pairs)


def _check_coverage(parts: list[Part]) -> None:
    count = parts[0].shard.count
    seen: dict[int, Path] = {}
    for part in parts:
        index = part.shard.index
        if index in seen:
            raise Refused(f"shard {part.shard} repetido: {seen[index]} e {part.folder}")
        seen[index] = part.folder
    missing = [f"{i}/{count}" for i in range(count) if i not in seen]
    if missing:
        raise Refused(f"faltam os shards {', '.join(missing)}")
    owner: dict[str, Path] = {}
    for part in parts:
        for i in part.manifest["ids"]:
            if i in owner:
                raise Refused(f"o id {i!r} aparece em dois shards: {owner[i]} e {part.folder}")
            owner[i] = part.folder
    batch = parts[0].manifest["submissions"]
    if len(owner) != batch["total"] or shards.ids_digest(list(owner)) != batch["digest"]:
        raise Refused(
            f"os shards somam {plural(len(owner), 'submissão', 'submissões')}, mas o lote "
            "dividido tinha "
            f"{batch['total']} (ou outros ids)"
        )


def _check_out(out: Path, parts: list[Part]) -> None:
    target = out.resolve()
    for part in parts:
        folder = part.folder.resolve()
        if target == folder or target.is_relative_to(folder) or folder.is_relative_to(target):
            raise Refused(f"a pasta de saída {out} não pode conter nem estar em {part.folder}")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise Refused(f"a pasta de saída {out} já existe e não está vazia: use uma pasta nova")


def _rows(part: Part) -> dict[str, dict[str, str]]:
    """The shard's gradebook rows by id, each checked against the manifest."""
    path = part.folder / GRADEBOOK
    try:
        with path.open(encoding="utf-8", newline="") as file:
            reader = csv.DictReader(file)
            rows = list(reader)
            columns = tuple(reader.fieldnames or ())
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise Refused(f"{path} ilegível: {error}") from error
    if columns != COLUMNS:
        raise Refused(f"{path} tem outras colunas (corretor de outra versão?)")
    ids = part.with_rows
    if len(rows) != len(ids) or any(
        row["id"] != text_cell(i) for i, row in zip(ids, rows, strict=True)
    ):
        raise Refused(f"{path} não corresponde ao manifesto de {part.folder}")
    return dict(zip(ids, rows, strict=True))


def _check_folders(part: Part) -> None:
    for i in part.with_rows:
        if not (part.folder / i).is_dir():
            raise Refused(f"falta a pasta de resultados {part.folder / i}")


# --- writing the merged folder ----------------------------------------------------------


def _write(out: Path, parts: list[Part], rows: dict[str, dict[str, str]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for part in parts:
        for i in part.with_rows:
            shutil.copytree(part.folder / i, out / i, symlinks=True)
    gradebook = Gradebook(out / GRADEBOOK)
    gradebook.rows.update(rows)  # the shards' rows, already escaped by Gradebook.add
    gradebook.write()
    shards.write_manifest(out, _merged_manifest(parts))


def _merged_manifest(parts: list[Part]) -> dict[str, Any]:
    first = parts[0].manifest
    isolation = {part.manifest.get("isolation") for part in parts}
    ordered = sorted(parts, key=lambda part: part.shard.index)
    return {
        **{key: first[key] for key in ("format", "grader", "seed", "options", "submissions")},
        "shard": None,
        "ids": sorted(i for part in parts for i in part.manifest["ids"]),
        "failed": sorted(i for part in parts for i in part.manifest["failed"]),
        "isolation": isolation.pop() if len(isolation) == 1 else "misto",
        "merged_from": [
            {
                "folder": str(part.folder),
                "shard": str(part.shard),
                "isolation": part.manifest.get("isolation"),
            }
            for part in ordered
        ],
    }


def _summary(parts: list[Part], rows: dict[str, dict[str, str]], out: Path) -> str:
    from grading.cli import status_counts  # the grading command's wording

    statuses = [STATUS_OF_CODE.get(row["status"], row["status"]) for row in rows.values()]
    statuses += ["grader_error"] * sum(len(part.manifest["failed"]) for part in parts)
    seed = parts[0].manifest["seed"]
    return (
        f"{plural(len(statuses), 'submissão', 'submissões')} de "
        f"{plural(len(parts), 'shard', 'shards')} "
        f"{'juntada' if len(statuses) == 1 else 'juntadas'}; "
        f"{status_counts(statuses)}; semente {seed}; resultados em {out}"
    )


def _flatten(value: object, name: str) -> dict[str, object]:
    """``{"options.limits.check_timeout": 20.0, ...}``: the leaves of a manifest entry."""
    if not isinstance(value, dict):
        return {name: value}
    flat: dict[str, object] = {}
    for key, item in value.items():
        flat.update(_flatten(item, f"{name}.{key}"))
    return flat


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, default=str)
