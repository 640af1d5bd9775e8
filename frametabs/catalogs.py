"""Message catalogs of ours for the themes' strings that their own catalogs leave in English.

``frametabs/locale/<language>/LC_MESSAGES/<domain>.po`` holds them as source only (no
``.mo`` is committed): on each build they are compiled with Babel into a temporary folder
and registered with :meth:`sphinx.application.Sphinx.add_message_catalog`, which reads the
``.mo`` files at once, so the folder is removed right after.

``sphinx.locale.init`` merges a catalog registered under a domain that already has one
(sphinx-book-theme registers ``booktheme`` in its own ``setup``, before ours) as a
*fallback*: a message the theme's catalog translates keeps the theme's translation, and one
it lacks (for example "Launch on") is looked up in ours.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sphinx.application import Sphinx

LOCALE_DIR = Path(__file__).parent / "locale"


def compile_catalogs(source: Path, target: Path) -> list[str]:
    """Compile every ``<lang>/LC_MESSAGES/<domain>.po`` under ``source`` into ``target``.

    Returns the domains found, sorted.
    """
    domains = set()
    for po_path in sorted(source.glob("*/LC_MESSAGES/*.po")):
        language = po_path.parent.parent.name
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=language, domain=po_path.stem)
        mo_path = target / po_path.relative_to(source).with_suffix(".mo")
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        domains.add(po_path.stem)
    return sorted(domains)


def register_catalogs(app: Sphinx, source: Path = LOCALE_DIR) -> list[str]:
    """Compile our catalogs and add each domain to Sphinx's translators (as a fallback)."""
    with tempfile.TemporaryDirectory(prefix="frametabs-locale-") as folder:
        domains = compile_catalogs(source, Path(folder))
        for domain in domains:
            app.add_message_catalog(domain, folder)
    return domains
