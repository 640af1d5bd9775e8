"""Publish the book's package next to its pages: ``<html>/pacote/`` as a pip find-links page.

The set-up cell of every notebook installs the package from there
(``pip install --no-index --find-links <site>/pacote/ camadas-personalizadas``), so a
notebook opened on Colab, on Binder or as a lone download gets the package of the very book
it came from. ``make book`` runs ``python -m frametabs.publish _build/html``.
"""

from __future__ import annotations

import argparse
import html
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from frametabs.setup_cell import WHEEL_FOLDER

ROOT = Path(__file__).resolve().parents[1]
PROJECT_FILES = ("pyproject.toml", "README.md", "LICENSE")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")


def package_folders(root: Path) -> list[Path]:
    """The top-level package folders ``pyproject.toml``'s package search includes."""
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    names = sorted({pattern.rstrip("*").rstrip(".") for pattern in patterns})
    return [root / name for name in names]


def build_wheel(root: Path, out_dir: Path) -> Path:
    """Build the project's wheel from a clean copy of its sources (no build files left)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wheel-source-") as source:
        for name in PROJECT_FILES:
            shutil.copy2(root / name, Path(source) / name)
        for folder in package_folders(root):
            shutil.copytree(folder, Path(source) / folder.name, ignore=IGNORED)
        with tempfile.TemporaryDirectory(prefix="wheel-out-") as built:
            command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
            command += ["--no-build-isolation", "--wheel-dir", built, source]
            subprocess.run(command, check=True)
            (wheel,) = Path(built).glob("*.whl")
            target = out_dir / wheel.name
            shutil.copyfile(wheel, target)
    return target


def links_page(wheels: list[Path]) -> str:
    """An HTML page linking each wheel: what ``pip --find-links`` reads."""
    links = "\n".join(
        f'<a href="{html.escape(path.name)}">{html.escape(path.name)}</a><br>'
        for path in sorted(wheels)
    )
    return (
        '<!DOCTYPE html>\n<html lang="pt-BR"><head><meta charset="utf-8">'
        "<title>Pacote do livro</title></head>\n<body>\n"
        f"<h1>Pacote do livro (pip --find-links)</h1>\n{links}\n</body></html>\n"
    )


def publish(html_dir: Path, root: Path = ROOT) -> Path:
    """Put the wheel and its links page into ``<html_dir>/pacote/``; return the wheel."""
    folder = html_dir / WHEEL_FOLDER
    if folder.exists():
        shutil.rmtree(folder)
    wheel = build_wheel(root, folder)
    (folder / "index.html").write_text(links_page([wheel]), encoding="utf-8")
    return wheel


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", type=Path, help="the built site (_build/html)")
    args = parser.parse_args(argv)
    print(f"published {publish(args.html_dir)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
