"""The first code cell of every book notebook: load ``%%tab``, installing it where missing.

On Colab or Binder (the book's launch buttons) and in a downloaded notebook, this
project's package is not installed. The cell installs it from the wheel the book publishes
next to its pages (``<site>/pacote/``, see :mod:`frametabs.publish`), or failing that from
the repository, and stops with a Portuguese message when neither works. ``$CAMADAS_BOOK_URL``
points it at another copy of the book (a test serves one on 127.0.0.1).

Both addresses come from ``_config.yml`` (``html.baseurl``, ``repository.url``) through
:mod:`frametabs.address`; ``python -m frametabs.setup_cell --sync`` regenerates that module
and the set-up cell of the hand-written notebooks after the configuration changes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from frametabs.address import REPOSITORY, SITE_URL

PACKAGE = "camadas-personalizadas"
WHEEL_FOLDER = "pacote"
BOOK_URL_VARIABLE = "CAMADAS_BOOK_URL"
HAND_WRITTEN = ("chapters/custom-layers.ipynb",)  # the others are generated (make exercises)
INSTALL_FAILED = (
    "Não foi possível instalar o pacote deste livro ({package}): nem do site {{_book}} nem "
    "do repositório {repository}. Verifique a conexão com a internet e execute esta célula "
    "de novo."
)


def setup_source(site_url: str = SITE_URL, repository: str = REPOSITORY) -> str:
    """The set-up cell's source for a book published at ``site_url`` from ``repository``."""
    message = INSTALL_FAILED.format(package=PACKAGE, repository=repository)
    return f"""\
# No Colab, no Binder ou num caderno baixado, instala antes o pacote deste livro.
import importlib, importlib.util, os, subprocess, sys
if importlib.util.find_spec("frametabs") is None:
    _book = os.environ.get("{BOOK_URL_VARIABLE}", "{site_url.rstrip("/")}").rstrip("/")
    _sources = [
        ["--no-index", "--find-links", f"{{_book}}/{WHEEL_FOLDER}/", "{PACKAGE}"],
        ["{PACKAGE} @ git+{repository}"],
    ]
    _pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    if not any(subprocess.run(_pip + _source).returncode == 0 for _source in _sources):
        raise RuntimeError(f"{message}")
    importlib.invalidate_caches()
%load_ext frametabs"""


SETUP_SOURCE = setup_source()


def configured_addresses(config_path: Path) -> tuple[str, str]:
    """``(site_url, repository)`` as ``_config.yml`` gives them."""
    import yaml

    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    site_url = (config.get("html") or {}).get("baseurl") or ""
    repository = (config.get("repository") or {}).get("url") or ""
    if not site_url or not repository:
        raise ValueError(f"{config_path}: set html.baseurl and repository.url")
    return site_url, repository


ADDRESS_DOCSTRING = '''"""Where the book is published (generated from ``_config.yml``, not by hand).

``html.baseurl`` is the site's address and ``repository.url`` the repository's. After
changing either, run ``python -m frametabs.setup_cell --sync`` (``make address``).
"""'''


def address_module(site_url: str, repository: str) -> str:
    """The text of :mod:`frametabs.address` for these addresses."""
    return f'{ADDRESS_DOCSTRING}\n\nSITE_URL = "{site_url}"\nREPOSITORY = "{repository}"\n'


ADDRESS_MODULE = Path(__file__).with_name("address.py")


def sync(root: Path, module: Path = ADDRESS_MODULE) -> list[Path]:
    """Rewrite :mod:`frametabs.address` and the hand-written notebooks' set-up cells."""
    import nbformat

    site_url, repository = configured_addresses(root / "_config.yml")
    written = []
    text = address_module(site_url, repository)
    if module.read_text(encoding="utf-8") != text:
        module.write_text(text, encoding="utf-8")
        written.append(module)
    source = setup_source(site_url, repository)
    for name in HAND_WRITTEN:
        path = root / name
        notebook = nbformat.read(path, as_version=4)
        first = next(cell for cell in notebook.cells if cell.cell_type == "code")
        if first.source != source:
            first.source = source
            nbformat.write(notebook, path)
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """``--sync``: propagate ``_config.yml``'s addresses; otherwise print the cell."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sync", action="store_true", help="rewrite address.py and notebooks")
    parser.add_argument("--root", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    if not args.sync:
        print(SETUP_SOURCE)
        return 0
    for path in sync(args.root.resolve()):
        print(f"wrote {path}")
    print("now run `make exercises exports` to regenerate the generated notebooks")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
