"""Sphinx extension: every run of framework cells becomes one group of synced tabs.

Three steps, all at build time:

1. ``source-read``: each ``%%tab`` cell of an ``.ipynb`` notebook is split into one plain
   cell per framework (:mod:`frametabs.split`), so the marker line never reaches the page
   (text notebooks, such as MyST ``.md`` ones, are not split);
2. a transform gathers consecutive framework cells (:mod:`frametabs.groups`) into
   sphinx-design's tab components, synced by framework, PyTorch selected; a group that
   lacks a framework stops the build; the page also gets a box linking the notebook's
   per-framework exports (:mod:`frametabs.downloads`);
3. ``frametabs.js`` remembers the reader's framework across pages, reads ``?tab=`` and
   adds keyboard support and ARIA roles to the tabs.

It also gives the themes' strings that their catalogs leave in English a Portuguese
catalog of ours (:mod:`frametabs.catalogs`), and sphinx-copybutton Portuguese texts
(``copybutton-pt.js``); and it writes each page's scripts once (Sphinx 7.4 repeats some
inline ones).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import nbformat
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import SphinxError
from sphinx.transforms import SphinxTransform
from sphinx_design.shared import create_component

from frametabs.catalogs import register_catalogs
from frametabs.downloads import MissingExportError, download_box, export_paths
from frametabs.frameworks import DEFAULT_FRAMEWORK, FRAMEWORKS, LABELS
from frametabs.groups import Group, consecutive_runs
from frametabs.split import Origin, SplitError, has_framework_cells, split_notebook

SYNC_GROUP = "framework"
QUERY_PARAMETER = "tab"
STATIC_DIR = Path(__file__).parent / "static"
TAB_SET_CLASS = "frametabs-tab-set"


class FrameTabsError(SphinxError):
    """A notebook whose framework cells cannot be shown as complete tab groups."""

    category = "frametabs error"


def split_source(app: Sphinx, docname: str, source: list[str]) -> None:
    """``source-read`` handler: split the ``%%tab`` cells of a notebook source."""
    path = PurePosixPath(app.env.doc2path(docname, base=False))
    if path.suffix != ".ipynb":
        return
    notebook = nbformat.reads(source[0], as_version=4)
    try:
        if has_framework_cells(notebook):
            source[0] = nbformat.writes(split_notebook(notebook))
    except SplitError as error:
        raise FrameTabsError(f"{path}: {error}") from error


def cell_origin(node: nodes.Node) -> Origin | None:
    """The origin of a myst-nb code cell split from a ``%%tab`` cell, else None."""
    if not isinstance(node, nodes.container) or node.get("nb_element") != "cell_code":
        return None
    return Origin.from_metadata(node.get("cell_metadata") or {})


def build_tab_set(group: Group[nodes.container]) -> nodes.container:
    """sphinx-design tab components for one group: a synced tab per framework."""
    items = []
    for framework, cells in group.tabs().items():
        label = nodes.rubric(
            LABELS[framework],
            nodes.Text(LABELS[framework]),
            classes=["sd-tab-label"],
            sync_id=framework,
            sync_group=SYNC_GROUP,
        )
        content = create_component("tab-content", classes=["sd-tab-content"], children=cells)
        items.append(
            create_component(
                "tab-item",
                classes=["sd-tab-item"],
                children=[label, content],
                selected=framework == DEFAULT_FRAMEWORK,
            )
        )
    tab_set = create_component("tab-set", classes=["sd-tab-set", TAB_SET_CLASS], children=items)
    first = group.members[0][1]
    tab_set.source, tab_set.line = first.source, first.line
    return tab_set


class FrameworkTabs(SphinxTransform):
    """Replace each run of framework cells by a tab group; add the download box."""

    default_priority = 500

    def apply(self, **kwargs) -> None:
        """Group the document's framework cells; fail on an incomplete group."""
        cells = [node for node in self.document.findall(nodes.container) if cell_origin(node)]
        if not cells:
            return
        path = self.env.doc2path(self.env.docname, base=False)
        groups = [
            group
            for parent in dict.fromkeys(cell.parent for cell in cells)
            for group in consecutive_runs(list(parent.children), _framework_of)
        ]
        for group in groups:
            check_complete(group, path)
        for group in groups:
            first = group.members[0][1]
            parent = first.parent  # read before build_tab_set re-parents the cells
            parent.replace(first, build_tab_set(group))
            for _, cell in group.members[1:]:
                parent.remove(cell)
        self.add_download_box(Path(path).stem)

    def add_download_box(self, stem: str) -> None:
        """Put the per-framework download box under the page title."""
        try:
            paths = export_paths(Path(self.app.srcdir), self.config.frametabs_exports_dir, stem)
        except MissingExportError as error:
            docpath = self.env.doc2path(self.env.docname, base=False)
            raise FrameTabsError(f"{docpath}: {error}") from error
        box = download_box(self.env.docname, paths)
        section = next(iter(self.document.findall(nodes.section)), None)
        if section is not None and section.children and isinstance(section[0], nodes.title):
            section.insert(1, box)
        else:
            self.document.insert(0, box)


def _framework_of(node: nodes.Node) -> str | None:
    """The framework of a split framework cell; None for any other node."""
    origin = cell_origin(node)
    return origin.framework if origin else None


def check_complete(group: Group[nodes.container], path: str) -> None:
    """Raise FrameTabsError naming the notebook and cell when a framework is missing."""
    missing = group.missing()
    if missing:
        origin = cell_origin(group.members[0][1])
        names = ", ".join(LABELS[name] for name in missing)
        raise FrameTabsError(
            f"{path}: the tab group starting at {origin.describe()} has no {names} cell; "
            f"each run of %%tab cells needs {', '.join(LABELS[fw] for fw in FRAMEWORKS)} "
            "(add the missing '%%tab <framework>' cell next to it)"
        )


def add_static_files(app: Sphinx) -> None:
    """Ship the tab script and style with HTML builds."""
    if app.builder.format != "html":
        return
    app.config.html_static_path.append(str(STATIC_DIR))
    app.add_css_file("frametabs.css")
    attributes = {
        "data-sync-group": SYNC_GROUP,
        "data-query-parameter": QUERY_PARAMETER,
        "data-frameworks": " ".join(FRAMEWORKS),
    }
    # After sphinx-design's design-tabs.js (priority 500), so the reader's choice wins.
    app.add_js_file("frametabs.js", priority=510, **attributes)
    if "sphinx_copybutton" in app.extensions:
        # After copybutton.js (priority 500), before its buttons are made (DOMContentLoaded).
        app.add_js_file("copybutton-pt.js", priority=510)


def drop_repeated_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` handler: each page gets each script once.

    Sphinx 7.4 keeps an inline script registered once the builder exists (sphinx-thebe's
    ``const THEBE_JS_URL``, sphinx-togglebutton's selector) under the file name ``None``,
    then adds it again under ``''`` before writing, so every page declared the constant
    twice and the browser threw "Identifier 'THEBE_JS_URL' has already been declared"
    (fixed upstream by sphinx-doc/sphinx#13402, in Sphinx 8; Jupyter Book 1 needs Sphinx 7).
    """
    scripts = context.get("script_files")
    if not scripts:
        return
    unique = {}
    for script in scripts:
        attributes = getattr(script, "attributes", {})
        key = (
            getattr(script, "filename", script) or "",
            getattr(script, "priority", None),
            tuple(sorted(attributes.items())),
        )
        unique.setdefault(key, script)
    context["script_files"] = list(unique.values())


def setup(app: Sphinx) -> dict[str, object]:
    """Register the tab extension (needs sphinx_design and myst_nb)."""
    app.setup_extension("sphinx_design")
    app.add_config_value("frametabs_exports_dir", "exports", "env", [str])
    app.connect("source-read", split_source)
    app.connect("builder-inited", add_static_files)
    app.connect("html-page-context", drop_repeated_scripts)
    app.add_transform(FrameworkTabs)
    register_catalogs(app)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
