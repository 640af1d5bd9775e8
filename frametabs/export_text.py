"""What a Markdown cell becomes in a per-framework export, so the export stands alone.

Three adaptations, applied to every Markdown cell of the export for one framework:

- **Export text.** ``metadata["frametabs"]["export"]`` says what the cell becomes: ``false``
  leaves it out, a string replaces its text (``{framework}`` becomes the framework's label,
  e.g. ``PyTorch``), and a mapping from framework names to ``false`` or a string does so
  per framework (a framework it does not name keeps the cell's own text). The book and the
  three-framework notebook show the cell's own text; only the exports read the metadata.
- **Links** to a sibling notebook that has exports (``exercises.ipynb``, ``exercises.md`` or
  ``exercises``, with any ``#anchor``) point at the same framework's export
  (``exercises.pytorch.ipynb``). Any other relative link would break in a lone download, so
  it stops the export: give the cell an export text or an absolute address.
- **Images** with a relative path become cell attachments (``attachment:<name>``), so the
  figure shows in a lone download or on Colab.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Collection
from pathlib import Path, PurePosixPath
from typing import Any

from frametabs.frameworks import FRAMEWORKS, LABELS
from frametabs.magic import OUTPUT_KEY

EXPORT_KEY = "export"
PLACEHOLDER = "{framework}"
NOTEBOOK_SUFFIXES = (".ipynb", ".md", "")
_LINK = re.compile(
    r"(?P<bang>!?)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)(?P<title>\s+\"[^\"]*\")?\)"
)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


class ExportError(ValueError):
    """A cell that cannot be exported as it stands (the message says how to fix it)."""


def export_setting(cell: Any, framework: str) -> bool | str:
    """The cell's export setting for ``framework``: True (as is), False (left out) or a text."""
    setting = cell.get("metadata", {}).get(OUTPUT_KEY, {}).get(EXPORT_KEY, True)
    if isinstance(setting, dict):
        unknown = sorted(set(setting) - set(FRAMEWORKS))
        if unknown:
            raise ExportError(f"export text for unknown framework(s) {', '.join(unknown)}")
        setting = setting.get(framework, True)
    if not isinstance(setting, bool | str):
        raise ExportError(f"frametabs.export must be false, a text or a mapping, not {setting!r}")
    if isinstance(setting, str) and cell.cell_type != "markdown":
        raise ExportError(f"only Markdown cells take an export text, not {cell.cell_type} cells")
    return setting


def is_relative(target: str) -> bool:
    """True for a link into the book's files (not a URL, an anchor or an attachment)."""
    return not (_SCHEME.match(target) or target.startswith("#"))


def retarget_link(target: str, framework: str, siblings: Collection[str]) -> str:
    """The address, in ``framework``'s export, of a relative link to a sibling notebook."""
    path, hash_sign, anchor = target.partition("#")
    page = PurePosixPath(path)
    stem = page.name.removesuffix(page.suffix) if page.suffix in NOTEBOOK_SUFFIXES else None
    if len(page.parts) != 1 or stem not in siblings:
        raise ExportError(
            f"the link {target!r} cannot be followed from a downloaded export: link a notebook "
            "of the same folder that has exports, use an absolute address, or give the cell "
            'an export text (metadata {"frametabs": {"export": "..."}})'
        )
    return f"{stem}.{framework}.ipynb{hash_sign}{anchor}"


def image_attachment(target: str, source_dir: Path | None) -> tuple[str, dict[str, str]]:
    """The attachment name and bundle (MIME type to base64 data) of a relative image."""
    if source_dir is None:
        raise ExportError(f"the image {target!r} needs the notebook's folder to be embedded")
    path = source_dir / target
    mime, _ = mimetypes.guess_type(path.name)
    if not path.is_file() or not (mime or "").startswith("image/"):
        raise ExportError(f"the image {target!r} is not an image file under {source_dir}")
    return path.name, {mime: base64.b64encode(path.read_bytes()).decode("ascii")}


def adapt_markdown(
    source: str,
    framework: str,
    *,
    source_dir: Path | None = None,
    siblings: Collection[str] = (),
) -> tuple[str, dict[str, dict[str, str]]]:
    """``source`` with its links retargeted and images embedded; also the attachments."""
    attachments: dict[str, dict[str, str]] = {}

    def replace(match: re.Match[str]) -> str:
        target = match["target"]
        if not is_relative(target):
            return match[0]
        if match["bang"]:
            name, bundle = image_attachment(target, source_dir)
            if attachments.get(name, bundle) != bundle:
                raise ExportError(f"two different images named {name!r} in one cell")
            attachments[name] = bundle
            target = f"attachment:{name}"
        else:
            target = retarget_link(target, framework, siblings)
        return f"{match['bang']}[{match['text']}]({target}{match['title'] or ''})"

    return _LINK.sub(replace, source), attachments


def export_markdown_cell(
    cell: Any, framework: str, *, source_dir: Path | None, siblings: Collection[str]
) -> Any | None:
    """The exported form of a Markdown cell (changed in place), or None when left out."""
    setting = export_setting(cell, framework)
    if setting is False:
        return None
    if isinstance(setting, str):
        cell.source = setting.replace(PLACEHOLDER, LABELS[framework])
    cell.source, attachments = adapt_markdown(
        cell.source, framework, source_dir=source_dir, siblings=siblings
    )
    if attachments:
        cell.attachments = {**cell.get("attachments", {}), **attachments}
    return cell


def drop_export_setting(cell: Any) -> None:
    """Remove ``frametabs.export`` from the cell's metadata (an export has no use for it)."""
    options = cell.get("metadata", {}).get(OUTPUT_KEY)
    if isinstance(options, dict):
        options.pop(EXPORT_KEY, None)
        if not options:
            del cell.metadata[OUTPUT_KEY]
