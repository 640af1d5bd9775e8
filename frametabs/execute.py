"""Execute notebooks in place so that their stored outputs are real and current.

Usage: ``python -m frametabs.execute chapters/custom-layers.ipynb [...]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def execute_notebook(path: Path, timeout: int = 600) -> None:
    """Run every cell of ``path`` in a fresh kernel (cwd: its folder) and save the outputs."""
    import nbformat
    from nbclient import NotebookClient

    from frametabs.kernel_env import apply_quiet_kernel_env

    apply_quiet_kernel_env()

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
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
