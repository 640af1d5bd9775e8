"""The real book, built once: language, tab groups, outputs, downloads, launch buttons.

Every page is scanned for English: its text and reader-facing attributes, outside code,
outputs and math, against a small detector of English words and phrases.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path, PurePosixPath

import nbformat
import pytest
import yaml
from babel.messages.pofile import read_po

from frametabs.frameworks import DEFAULT_FRAMEWORK, FRAMEWORKS, LABELS
from frametabs.groups import consecutive_runs
from frametabs.setup_cell import WHEEL_FOLDER
from frametabs.split import Origin, has_framework_cells, split_notebook

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def book_docnames() -> list[str]:
    """Every document of the table of contents."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [toc["root"], *(entry["file"] for entry in toc.get("chapters", []))]


def framework_notebooks() -> list[str]:
    """Documents built from a notebook that has ``%%tab`` cells."""
    return [
        name
        for name in book_docnames()
        if (ROOT / f"{name}.ipynb").is_file()
        and has_framework_cells(nbformat.read(ROOT / f"{name}.ipynb", as_version=4))
    ]


def expected_groups(docname: str) -> list[dict[str, list]]:
    """Per tab group of the notebook, each framework's split cells, as the page shows them."""

    def visible(cell) -> bool:
        tags = cell.metadata.get("tags", [])
        return bool(cell.source.strip()) and "remove-cell" not in tags

    nb = split_notebook(nbformat.read(ROOT / f"{docname}.ipynb", as_version=4))

    def framework_of(cell):
        origin = Origin.from_metadata(cell.metadata)
        return origin.framework if origin else None

    cells = [cell for cell in nb.cells if visible(cell)]
    return [group.tabs() for group in consecutive_runs(cells, framework_of)]


NOTEBOOKS = framework_notebooks()


def test_the_book_has_framework_notebooks():
    assert "chapters/custom-layers" in NOTEBOOKS


# Every page the build writes: the table of contents' documents and Sphinx's own pages.
PAGES = [*book_docnames(), "search", "genindex"]
# English the themes emit (in earlier builds of this book or their templates): each is caught.
THEME_ENGLISH = (
    "Launch on Binder",
    "Launch on Colab",
    "Launch interactive content",
    "Binder logo",
    "Colab logo",
    "Main",
    "Page",
    "Please activate JavaScript to enable the search functionality.",
    "© Copyright 2026.",
    "Color mode",
    "Toggle primary sidebar",
    "Toggle secondary sidebar",
    "Search this book...",
    "Skip to main content",
    "Back to top",
    "System Settings",
    "On this page",
    "Contents",
    "Download this page",
    "Download source file",
    "Print to PDF",
    "Fullscreen mode",
    "Source repository",
    "Open an issue",
    "Edit this page",
    "Site navigation",
    "Link to this heading",
    "Copy",
    "Copied!",
    "Copy to clipboard",
    "Click to show",
)


def test_every_built_page_is_scanned(built_book):
    built = {
        path.relative_to(built_book).with_suffix("").as_posix()
        for path in built_book.rglob("*.html")
        if not any(part.startswith("_") for part in path.relative_to(built_book).parts)
    }
    # pacote/index.html is no page for readers: the list of wheels pip --find-links reads
    assert f"{WHEEL_FOLDER}/index" in built
    assert built - {f"{WHEEL_FOLDER}/index"} == set(PAGES)


@pytest.mark.parametrize("docname", PAGES)
def test_pages_are_in_brazilian_portuguese(book_page, english, docname):
    page = book_page(docname)
    assert page.html["lang"] == "pt-BR"
    search = page.select_one("input[name=q]")
    assert (
        search["placeholder"] == CONFIG["sphinx"]["config"]["html_theme_options"]["search_bar_text"]
    )
    found = [
        (where, text, words)
        for where, text in english.reader_strings(page)
        if (words := english.english_in(text))
    ]
    assert found == []


@pytest.mark.parametrize("text", THEME_ENGLISH)
def test_the_detector_flags_the_themes_english(english, text):
    assert english.english_in(text)


def test_the_detector_flags_every_pydata_theme_message(english):
    import pydata_sphinx_theme

    template = Path(pydata_sphinx_theme.__file__).parent / "locale" / "sphinx.pot"
    with template.open("rb") as file:
        messages = [message.id for message in read_po(file) if message.id]
    assert len(messages) > 10
    assert [message for message in messages if not english.english_in(message)] == []


def test_the_detector_passes_our_translations(english):
    catalogs = [
        ROOT / "_templates" / "locale" / "pt_BR" / "LC_MESSAGES" / "sphinx.po",
        *sorted((ROOT / "frametabs" / "locale").glob("*/LC_MESSAGES/*.po")),
    ]
    translations = []
    for path in catalogs:
        with path.open("rb") as file:
            translations += [message.string for message in read_po(file) if message.id]
    translations = [re.sub(r"%\(\w+\)s", "", text) for text in translations]  # placeholders
    assert len(translations) > 20
    assert [text for text in translations if english.english_in(text)] == []


@pytest.mark.parametrize("docname", NOTEBOOKS)
def test_every_group_has_three_tabs_in_order_pytorch_first_shown(book_page, html, docname):
    groups = html.tab_groups(book_page(docname))
    assert len(groups) == len(expected_groups(docname)) > 0
    for group in groups:
        tabs = html.tabs_of(group)
        assert [(sync, label) for sync, label, *_ in tabs] == [
            (fw, LABELS[fw]) for fw in FRAMEWORKS
        ]
        assert [sync for sync, _, _, checked in tabs if checked] == [DEFAULT_FRAMEWORK]


@pytest.mark.parametrize("docname", NOTEBOOKS)
def test_each_tab_shows_its_own_code_and_outputs(book_page, html, docname):
    groups = html.tab_groups(book_page(docname))
    expected = expected_groups(docname)
    shown_outputs = {fw: 0 for fw in FRAMEWORKS}
    for group, cells_by_fw in zip(groups, expected, strict=True):
        for sync, _, content, _ in html.tabs_of(group):
            cells = cells_by_fw[sync]
            codes = [code.strip() for code in html.code_texts(content)]
            assert codes == [cell.source.strip() for cell in cells]
            with_outputs = sum(1 for cell in cells if cell.get("outputs"))
            assert len(content.select("div.cell_output")) == with_outputs
            shown_outputs[sync] += with_outputs
    if docname == "chapters/custom-layers":
        assert all(shown_outputs.values()), shown_outputs


@pytest.mark.parametrize("docname", book_docnames())
def test_no_marker_is_visible(book_page, docname):
    page = book_page(docname)
    for code in page.select("div.cell_input pre, div.highlight pre"):
        assert not code.get_text().lstrip().startswith("%%tab"), code.get_text()[:80]


@pytest.mark.parametrize("docname", NOTEBOOKS)
def test_download_box_offers_each_framework_export(built_book, book_page, docname):
    box = book_page(docname).select_one("div.frametabs-downloads")
    links = box.select("a.reference.download")
    assert [link.get_text() for link in links] == [LABELS[fw] for fw in FRAMEWORKS]
    stem = PurePosixPath(docname).name
    exports = ROOT / CONFIG["sphinx"]["config"]["frametabs_exports_dir"]
    for fw, link in zip(FRAMEWORKS, links, strict=True):
        target = (built_book / PurePosixPath(docname).parent / link["href"]).resolve()
        assert target.name == f"{stem}.{fw}.ipynb"
        assert target.read_bytes() == (exports / target.name).read_bytes()


@pytest.mark.parametrize("docname", NOTEBOOKS)
def test_download_button_offers_the_notebook(built_book, book_page, docname):
    link = book_page(docname).select_one("a.btn-download-source-button")
    assert link.get_text(strip=True) == ".ipynb"
    target = (built_book / PurePosixPath(docname).parent / link["href"]).resolve()
    assert target.read_bytes() == (ROOT / f"{docname}.ipynb").read_bytes()


@pytest.mark.parametrize("docname", NOTEBOOKS)
def test_launch_buttons_link_to_this_notebook(book_page, docname):
    page = book_page(docname)
    launch = CONFIG["launch_buttons"]
    repo = CONFIG["repository"]["url"].removeprefix("https://github.com/").strip("/")
    branch = CONFIG["repository"]["branch"]
    notebook = f"{docname}.ipynb"
    for service in ("colab_url", "binderhub_url"):
        base = launch[service].rstrip("/")
        links = [a["href"] for a in page.find_all("a", href=True) if a["href"].startswith(base)]
        assert len(links) == 1, (service, links)
        (href,) = links
        assert repo in href
        assert branch in href
        assert href.endswith(notebook)


@pytest.mark.parametrize("docname", PAGES)
def test_each_script_is_included_once_and_fontawesome_js_not_at_all(book_page, docname):
    """No script twice: Sphinx 7.4 wrote sphinx-thebe's ``const THEBE_JS_URL`` twice, and the
    second threw. No fontawesome.js (1.5 MB): the theme's stylesheet draws the same icons."""
    scripts = [
        (script.get("src"), script.get_text()) for script in book_page(docname).find_all("script")
    ]
    assert [script for script, count in Counter(scripts).items() if count > 1] == []
    assert sum("THEBE_JS_URL" in body for _, body in scripts) == 1
    assert [src for src, _ in scripts if src and "fontawesome" in src] == []
    # The search index loads on the search page only (no search-as-you-type elsewhere).
    indexes = [src for src, _ in scripts if src and src.endswith("searchindex.js")]
    assert len(indexes) == (docname == "search")


@pytest.mark.parametrize("docname", PAGES)
def test_every_page_names_the_books_icon(built_book, book_page, docname):
    (icon,) = book_page(docname).select("link[rel~=icon]")
    path = (built_book / PurePosixPath(docname).parent / icon["href"]).resolve()
    assert path.read_bytes() == (ROOT / CONFIG["html"]["favicon"]).read_bytes()
    assert path.read_text(encoding="utf-8").startswith("<svg")


@pytest.mark.parametrize("docname", PAGES)
def test_one_search_box_and_no_key_hints(book_page, docname):
    """The sidebar's search button is the page's (no top bar with a second one), and no
    "Ctrl+K" hint is left: neither in it, nor in the search dialog or the search page."""
    page = book_page(docname)
    assert page.select("#pst-header *") == []
    assert len(page.select(".bd-sidebar-primary .search-button__button")) == 1
    assert page.select(".search-button__kbd-shortcut, .kbd-shortcut__modifier") == []


# Columns a code block shows without scrolling at 1280 px (74 in the theme's monospace
# font there; tests/book/test_browser.py measures it), less a margin for other fonts.
CODE_COLUMNS = 72


def test_exercise_stubs_fit_the_code_block_width(book_page, html):
    code = html.code_texts(book_page("chapters/exercises"))
    stubs = [text for text in code if "SEU CÓDIGO AQUI" in text]
    assert len(stubs) == 2 * len(FRAMEWORKS)
    wide = [line for text in code for line in text.splitlines() if len(line) > CODE_COLUMNS]
    assert wide == []
