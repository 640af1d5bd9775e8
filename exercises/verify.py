"""Compare committed artefacts with a fresh build and describe every difference."""

from __future__ import annotations

import json
from pathlib import Path

_CELL_FIELDS = ("cell_type", "source", "metadata", "execution_count", "outputs")


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _cell_label(index: int, cell: dict) -> str:
    return f"cell {index} ({cell.get('id', 'no id')})"


def notebook_differences(committed: dict, fresh: dict) -> list[str]:
    """What differs between two notebooks: metadata, cell list, then field by field."""
    differences = []
    for key in ("nbformat", "nbformat_minor", "metadata"):
        if committed.get(key) != fresh.get(key):
            differences.append(f"notebook {key} differs")
    committed_ids = [cell.get("id") for cell in committed.get("cells", [])]
    fresh_ids = [cell.get("id") for cell in fresh.get("cells", [])]
    if committed_ids != fresh_ids:
        missing = [i for i in fresh_ids if i not in committed_ids]
        extra = [i for i in committed_ids if i not in fresh_ids]
        differences.append(f"cells differ: missing {missing}, unexpected {extra}")
        return differences
    for index, (old, new) in enumerate(zip(committed["cells"], fresh["cells"], strict=True)):
        fields = [name for name in _CELL_FIELDS if old.get(name) != new.get(name)]
        extra = sorted(set(old) ^ set(new))
        if fields or extra:
            differences.append(f"{_cell_label(index, new)}: {', '.join(fields + extra)} differ")
    return differences


def artefact_differences(committed: Path, fresh: Path) -> list[str]:
    """Differences between a committed artefact and its fresh build ([] when identical)."""
    if not committed.exists():
        return ["missing (run the update command)"]
    if committed.read_bytes() == fresh.read_bytes():
        return []
    if committed.suffix != ".ipynb":
        return ["content differs"]
    try:
        differences = notebook_differences(_load(committed), _load(fresh))
    except json.JSONDecodeError as error:
        return [f"not valid JSON: {error}"]
    return differences or ["formatting differs (same content, different bytes)"]
