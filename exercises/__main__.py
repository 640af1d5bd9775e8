"""Command line: ``python -m exercises [--check] [--root DIR]``."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from exercises.build import ARTEFACTS, UPDATE_COMMAND, generate
from exercises.verify import artefact_differences


def check(root: Path, fresh_root: Path) -> list[str]:
    """One line per difference between ``root``'s artefacts and those under ``fresh_root``."""
    lines = []
    for path in ARTEFACTS:
        for difference in artefact_differences(root / path, fresh_root / path):
            lines.append(f"{path}: {difference}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Regenerate the exercise notebooks, or with ``--check`` verify they are current."""
    parser = argparse.ArgumentParser(
        prog="python -m exercises",
        description="Build (and execute) the student and instructor exercise notebooks.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="build into a temporary folder and fail if the committed copies differ",
    )
    parser.add_argument(
        "--root", type=Path, default=Path.cwd(), help="repository root (default: cwd)"
    )
    args = parser.parse_args(argv)
    root = args.root.resolve()
    with tempfile.TemporaryDirectory(prefix="exercise-notebook-") as temporary:
        fresh_root = Path(temporary)
        generate(fresh_root, repo_root=root)
        if args.check:
            differences = check(root, fresh_root)
            for line in differences:
                print(line, file=sys.stderr)
            if differences:
                print(f"out of date: run `{UPDATE_COMMAND}`", file=sys.stderr)
                return 1
            print("exercise notebooks are up to date")
            return 0
        for path in ARTEFACTS:
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(fresh_root / path, root / path)
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
