"""Fixtures for the book tests: small notebooks, small Sphinx projects, the real book."""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from bs4 import BeautifulSoup, Comment, Doctype
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from frametabs.frameworks import FRAMEWORKS
from frametabs.publish import publish

ROOT = Path(__file__).resolve().parents[2]
CONF = """\
extensions = ["myst_nb", "sphinx_design", "frametabs"]
exclude_patterns = ["_build", "exports"]
nb_execution_mode = "off"
language = "pt_BR"
"""


def tagged(framework: str, kind: str, text: str):
    """An output as the ``%%tab`` magic stores it for a multi-framework cell."""
    return new_output(
        "display_data",
        data={"text/plain": text},
        metadata={"frametabs": {"framework": framework, "kind": kind}},
    )


def framework_cell(spec: str, body: str, outputs=(), count: int | None = None):
    """A code cell starting with ``%%tab <spec>``."""
    return new_code_cell(f"%%tab {spec}\n{body}", outputs=list(outputs), execution_count=count)


def group_cells(tag: str, frameworks=FRAMEWORKS):
    """One single-framework cell per framework, each printing its own line of text."""
    return [
        framework_cell(
            fw,
            f"print('{tag} {fw}')",
            [new_output("stream", name="stdout", text=f"{tag} output {fw}\n")],
        )
        for fw in frameworks
    ]


def notebook(*cells):
    """A notebook with a Python kernel, the magic loaded in a removed first cell."""
    first = new_code_cell("%load_ext frametabs", metadata={"tags": ["remove-cell"]})
    return new_notebook(
        cells=[first, *cells],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )


def sample_notebook():
    """A page with a title, two framework groups (one ``%%tab all``) and a plain cell."""
    all_outputs = [
        tagged(fw, kind, f"{kind} of {fw}") for fw in FRAMEWORKS for kind in ("stdout", "result")
    ]
    return notebook(
        new_markdown_cell("# Caderno de teste"),
        *group_cells("first"),
        new_markdown_cell("Texto entre grupos."),
        framework_cell("all", "x", all_outputs, count=7),
        new_code_cell("plain_value = 41 + 1\nplain_value"),
    )


class Project:
    """A small Sphinx project in a folder: notebooks, export files, one HTML build."""

    def __init__(self, root: Path):
        self.src = root / "src"
        self.out = root / "out"
        (self.src / "exports").mkdir(parents=True)
        (self.src / "conf.py").write_text(CONF, encoding="utf-8")
        self.docs: list[str] = []

    def add_notebook(self, name: str, nb, exports: bool = True) -> None:
        """Write ``<name>.ipynb`` and, unless told not to, its three export files."""
        nbformat.write(nb, self.src / f"{name}.ipynb")
        self.docs.append(name)
        if exports:
            for fw in FRAMEWORKS:
                nbformat.write(new_notebook(), self.src / "exports" / f"{name}.{fw}.ipynb")

    def build(self) -> Path:
        """Build HTML with warnings as errors; return the output folder."""
        from sphinx.application import Sphinx
        from sphinx.util.docutils import docutils_namespace, patch_docutils

        toctree = "\n".join(self.docs)
        index = f"# Início\n\n```{{toctree}}\n{toctree}\n```\n"
        (self.src / "index.md").write_text(index, encoding="utf-8")
        warnings = io.StringIO()
        with patch_docutils(self.src), docutils_namespace():
            app = Sphinx(
                str(self.src),
                str(self.src),
                str(self.out),
                str(self.out / ".doctrees"),
                "html",
                status=None,
                warning=warnings,
                warningiserror=True,
                freshenv=True,
            )
            app.build()
        assert not warnings.getvalue(), warnings.getvalue()
        return self.out

    def page(self, name: str) -> BeautifulSoup:
        """The built page ``<name>.html``, parsed."""
        return BeautifulSoup((self.out / f"{name}.html").read_text(encoding="utf-8"), "html.parser")


@pytest.fixture
def project(tmp_path) -> Project:
    """An empty Sphinx project using myst-nb, sphinx-design and frametabs."""
    return Project(tmp_path)


def tab_groups(page: BeautifulSoup) -> list:
    """Every framework tab set on a page (sphinx-design's HTML, synced by framework)."""
    return [
        tab_set
        for tab_set in page.select("div.sd-tab-set")
        if tab_set.select(":scope > label[data-sync-group='framework']")
    ]


def tabs_of(tab_set) -> list[tuple[str, str, object, bool]]:
    """(sync id, label text, content div, checked) for each tab of a tab set, in order."""
    tabs = []
    for label in tab_set.select(":scope > label.sd-tab-label"):
        radio = tab_set.find("input", id=label["for"])
        content = label.find_next_sibling("div")
        tabs.append(
            (
                label.get("data-sync-id"),
                label.get_text(strip=True),
                content,
                radio.has_attr("checked"),
            )
        )
    return tabs


def code_texts(tag) -> list[str]:
    """The source text of every code cell inside ``tag``."""
    return [cell.get_text() for cell in tag.select("div.cell_input pre")]


def output_texts(tag) -> list[str]:
    """The text of every output block inside ``tag``."""
    return [out.get_text() for out in tag.select("div.cell_output pre")]


# What a reader meets besides the text: these attributes of any element.
READER_ATTRIBUTES = (
    "title",
    "aria-label",
    "aria-description",
    "aria-roledescription",
    "alt",
    "placeholder",
    "label",
    "data-bs-title",
    "data-tooltip",
)
# Code, outputs and math are shown as they are (any language); scripts and styles are unseen.
# A code block's own controls (the copy button next to its <pre>) are not exempt.
EXEMPT_SELECTOR = "script, style, template, pre, code, kbd, samp, .output, .cell_output, .math"
# Words that only English has, chosen from what the themes emit (navigation, buttons,
# tooltips, notices, headings). Not here: English words spelled like Portuguese ones
# ("logo", "site", "link", "no", "a"); ENGLISH_PHRASES catches those in their theme phrases.
ENGLISH_WORDS = frozenset(
    """
    about activate all also an and announcement are back be breadcrumb browser built button
    by choose click close code collapse color contents copied copy copyright dark download
    edit enable enabled error expand file fullscreen functionality hide home in index into
    interactive is issue it its last launch light loading main mode more navigation
    next of on open or page pages please powered previous print repository search searching
    section select settings show sidebar skip source suggest system that the theme this to
    toggle top updated version view warning with you your indices created using
    """.split()  # noqa: SIM905 (a list of words reads best as text)
)
ENGLISH_PHRASES = re.compile(
    r"\b(?:Binder|Colab|JupyterHub|JupyterLite|Deepnote|GitHub|GitLab) logo\b"
    r"|\bsite navigation\b|\blink to\b|\bpermalink\b",
    re.IGNORECASE,
)
# Proper names (and a licence) that stay as they are, though they hold words of the list.
ALLOWED_PHRASES = (
    "Dive into Deep Learning",
    "CC BY-SA",
    "JavaScript",
)
WORD = re.compile(r"\w+")  # identifiers such as in_units are one word, not "in"


def english_in(text: str) -> list[str]:
    """The English words and phrases of ``text``, once the allowed phrases are removed."""
    text = " ".join(text.split())
    for phrase in ALLOWED_PHRASES:
        text = text.replace(phrase, " ")
    words = [word for word in WORD.findall(text) if word.lower() in ENGLISH_WORDS]
    return words + ENGLISH_PHRASES.findall(text)


def reader_strings(page: BeautifulSoup) -> list[tuple[str, str]]:
    """(where, text) for each text node and reader-facing attribute of a page (parsed anew).

    The exempt elements (code, outputs, math, scripts) are removed from ``page`` first.
    """
    for exempt in page.select(EXEMPT_SELECTOR):
        exempt.extract()
    found = []
    for element in page.find_all(True):
        for name in READER_ATTRIBUTES:
            value = element.get(name)
            if value:
                text = " ".join(value) if isinstance(value, list) else value
                found.append((f"<{element.name} {name}>", text))
        if element.name == "input" and element.get("type") in {"button", "submit", "reset"}:
            found.append(("<input value>", element.get("value", "")))
    for string in page.find_all(string=True):
        if string.strip() and not isinstance(string, Comment | Doctype):
            found.append((f"<{string.parent.name}> text", string.strip()))
    return found


def jupyter_book() -> str:
    """The jupyter-book command of the environment running the tests."""
    return str(Path(sys.executable).with_name("jupyter-book"))


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> Path:
    """Build the real book as ``make book`` does (warnings are errors), into a temporary folder."""
    out = tmp_path_factory.mktemp("book")
    result = subprocess.run(
        [jupyter_book(), "build", "--warningiserror", "--path-output", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    html = out / "_build" / "html"
    assert (html / "index.html").is_file()
    publish(html)  # as make book does: the package's wheel beside the pages
    return html


@pytest.fixture(scope="session")
def book_page(built_book) -> Callable[[str], BeautifulSoup]:
    """Parse a page of the built book by its document name."""

    def parse(docname: str) -> BeautifulSoup:
        return BeautifulSoup((built_book / f"{docname}.html").read_text("utf-8"), "html.parser")

    return parse


@pytest.fixture(scope="session")
def nbkit() -> SimpleNamespace:
    """Builders for fixture notebooks."""
    return SimpleNamespace(
        tagged=tagged,
        framework_cell=framework_cell,
        group_cells=group_cells,
        notebook=notebook,
        sample_notebook=sample_notebook,
    )


@pytest.fixture(scope="session")
def html() -> SimpleNamespace:
    """Readers for built HTML: tab groups, their tabs, code and output text."""
    return SimpleNamespace(
        tab_groups=tab_groups, tabs_of=tabs_of, code_texts=code_texts, output_texts=output_texts
    )


@pytest.fixture(scope="session")
def english() -> SimpleNamespace:
    """The English detector: a page's reader strings, the English words and phrases of a text."""
    return SimpleNamespace(reader_strings=reader_strings, english_in=english_in)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Debian's Chromium: skip without it, but fail when ``CI=true``."""
    path = shutil.which("chromium")
    if path is None:
        message = "Debian's chromium is not installed (make chromium, or apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI=true requires the browser test")
        pytest.skip(message)
    return path


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser(chromium_executable):
    """Headless Debian Chromium with a fresh profile (Playwright downloads no browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


class RecordingHandler(SimpleHTTPRequestHandler):
    """Serve a folder's files, recording each request's path and status instead of logging.

    The server, not the page, sees what the browser asks for by itself: Chromium's
    ``/favicon.ico`` request reaches no Playwright event.
    """

    def __init__(self, served: list[tuple[str, int]], *args, **kwargs):
        self.served = served
        super().__init__(*args, **kwargs)

    def log_request(self, code="-", size="-"):
        self.served.append((self.path, int(code)))

    def log_message(self, format, *args):
        pass


@contextlib.contextmanager
def serve_folder(folder: Path, served: list[tuple[str, int]]) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (a free port) from a thread; yield its address.

    Every request's (path, status) is appended to ``served``.
    """
    handler = functools.partial(RecordingHandler, served, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="session")
def book_server() -> Callable:
    """``serve_folder``, for tests (test files cannot import this conftest)."""
    return serve_folder
