"""frametabs' own message catalogs: compiled on each build, a fallback of the theme's."""

from __future__ import annotations

import gettext
import subprocess
from pathlib import Path

import sphinx_book_theme
from sphinx import locale

from frametabs.catalogs import LOCALE_DIR, compile_catalogs, register_catalogs

ROOT = Path(__file__).resolve().parents[2]
THEME_LOCALES = Path(sphinx_book_theme.get_html_theme_path()) / "static" / "locales"
NAMESPACE = "frametabs-tests"  # not Sphinx's "general": the builds' translators stay as they are


class CatalogApp:
    """What register_catalogs uses of a Sphinx application, in a namespace of its own."""

    def __init__(self):
        self.folders: list[str] = []

    def add_message_catalog(self, catalog: str, locale_dir: str) -> None:
        self.folders.append(locale_dir)
        locale.init([locale_dir], "pt_BR", catalog, NAMESPACE)


def test_each_po_compiles_to_a_mo_that_gettext_reads(tmp_path):
    assert compile_catalogs(LOCALE_DIR, tmp_path) == ["booktheme"]
    catalog = gettext.translation("booktheme", tmp_path, languages=["pt_BR"])
    assert catalog.gettext("Launch on") == "Abrir no"
    assert catalog.gettext("logo") == "(logotipo)"


def test_no_compiled_catalog_is_committed():
    tracked = subprocess.run(
        ["git", "ls-files", "frametabs/locale", "_templates/locale"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert tracked
    assert [path for path in tracked if not path.endswith(".po")] == []


def test_ours_fills_in_what_the_theme_catalog_lacks_and_the_theme_keeps_its_own():
    # As in a build: sphinx-book-theme registers its catalog first (its setup), then ours.
    locale.init([str(THEME_LOCALES)], "pt_BR", "booktheme", NAMESPACE)
    app = CatalogApp()
    assert register_catalogs(app) == ["booktheme"]
    translate = locale.get_translation("booktheme", NAMESPACE)
    assert translate("Launch on") == "Abrir no"
    assert translate("Launch interactive content") == "Abrir em um ambiente interativo"
    assert translate("Download this page") == "Baixe esta página"  # the theme's "pt" catalog
    # The temporary folder is gone: gettext read the .mo files when they were registered.
    assert app.folders
    assert not any(Path(folder).exists() for folder in app.folders)
