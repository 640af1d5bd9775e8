"""Execute notebooks in place so that their stored outputs are real and current.

Usage: ``python -m frametabs.execute chapters/custom-layers.ipynb [...]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def run_in_kernel(notebook, cwd: Path, timeout: int = 600):
    """Run every cell of ``notebook`` in a fresh ``python3`` kernel in ``cwd``, in place.

    The kernel gets the quiet environment of :mod:`frametabs.kernel_env` and no timing is
    recorded, so the stored outputs depend only on the code and the pinned environment.
    """
    from nbclient import NotebookClient

    from frametabs.kernel_env import quiet_kernel_env

    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute(env=quiet_kernel_env())
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    return notebook


def execute_notebook(path: Path, timeout: int = 600) -> None:
    """Run every cell of the notebook at ``path`` (cwd: its folder) and save the outputs."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    run_in_kernel(notebook, path.parent, timeout=timeout)
    nbformat.write(notebook, path)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        print(f"executing {path}", file=sys.stderr)
        execute_notebook(path, timeout=args.timeout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
