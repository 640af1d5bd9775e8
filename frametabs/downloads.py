"""The box that offers a notebook's per-framework exports for download."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from docutils import nodes
from sphinx import addnodes

from frametabs.frameworks import FRAMEWORKS, LABELS

INTRO = "Baixe este caderno para um só framework: "
SEPARATOR = " · "
BOX_CLASS = "frametabs-downloads"


class MissingExportError(FileNotFoundError):
    """A per-framework export that the download box needs does not exist."""


def export_paths(srcdir: Path, exports_dir: str, stem: str) -> dict[str, PurePosixPath]:
    """Each framework's export, relative to ``srcdir``; raise if any file is missing."""
    paths = {fw: PurePosixPath(exports_dir) / f"{stem}.{fw}.ipynb" for fw in FRAMEWORKS}
    missing = [str(path) for path in paths.values() if not (srcdir / path).is_file()]
    if missing:
        raise MissingExportError(
            f"missing per-framework export(s) {', '.join(missing)} under {srcdir}; "
            "run `make exports` (python -m frametabs.export chapters --out exports)"
        )
    return paths


def download_box(docname: str, paths: dict[str, PurePosixPath]) -> nodes.container:
    """A small Portuguese box linking each framework's export as a Sphinx download."""
    paragraph = nodes.paragraph("", INTRO)
    for position, framework in enumerate(FRAMEWORKS):
        if position:
            paragraph += nodes.Text(SEPARATOR)
        paragraph += addnodes.download_reference(
            "",
            LABELS[framework],
            reftarget=f"/{paths[framework]}",
            refdoc=docname,
            refexplicit=True,
            refdomain="",
            reftype="download",
            classes=[f"{BOX_CLASS}-{framework}"],
        )
    return nodes.container("", paragraph, classes=[BOX_CLASS])
