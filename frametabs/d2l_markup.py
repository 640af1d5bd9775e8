"""d2l-book's prose markup in MyST, as this book's Sphinx build reads it.

* ``:label:`sec_x``` under a heading becomes the target ``(sec_x)=`` above it; an
  ``:eqlabel:`eq_x``` under a ``$$ ... $$`` equation becomes its label, ``$$ ... $$ (eq_x)``
  (the book enables MyST's ``dollarmath``). Other labels (figures, tables) and the
  ``:width:`` lines of images are dropped.
* ``:numref:`sec_x``` becomes ``{ref}`sec_x``` (the section's title: the book's sections
  are not numbered, so ``{numref}`` would warn) and ``:eqref:`eq_x``` becomes
  ``{eq}`eq_x```, when the target is in the converted document. A reference to anything
  else (another d2l section, a figure) would be a dangling reference, which warns at build:
  it becomes plain text naming the label and what it is, ``sec_x`` (seção do d2l).
* ``:cite:`He.Zhang.Ren.ea.2016``` becomes the author-year text d2l's own pages show,
  "(He et al., 2016)" (``:citet:`` gives "He et al. (2016)"). The book has no
  bibliography (no ``.bib`` file, no sphinxcontrib-bibtex set up) and a footnote would need
  the reference's full entry, which only d2l's ``d2l.bib`` holds: d2l's keys spell authors
  and year, and that is what the reader gets, with no warning at build.
* d2l's highlight marks ``[** ... **]`` (text tied to the code below) are removed, text kept.
* Prose for some frameworks (``:begin_tab:``) becomes a sphinx-design tab set synced with
  the code tabs (:func:`tab_set`).

Fenced blocks inside the prose are left alone, except that ```` ```eval_rst ```` becomes
MyST's ```` ```{eval-rst} ````.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from frametabs.frameworks import DEFAULT_FRAMEWORK, FRAMEWORKS, LABELS
from frametabs.sphinx_tabs import SYNC_GROUP

LABEL = re.compile(r"^:label:`([^`]+)`$")
EQLABEL = re.compile(r"^:eqlabel:`([^`]+)`$")
SIZE = re.compile(r"^:(width|height):`[^`]*`$")
HEADING = re.compile(r"^#{1,6}\s")
FENCE = re.compile(r"^(`{3,}|~{3,})\s*(.*?)\s*$")
ROLE = re.compile(r":(numref|ref|eqref|cite|citep|citet):`([^`]+)`")
HIGHLIGHT = re.compile(r"\[\*\*(.+?)\*\*\](?!\()", re.DOTALL)
YEAR = re.compile(r"\d{4}[a-z]?")
# What a dangling label names, by d2l's prefixes.
KINDS = {
    "chap": "capítulo",
    "sec": "seção",
    "subsec": "seção",
    "fig": "figura",
    "tab": "tabela",
    "eq": "equação",
}


@dataclass(frozen=True)
class Targets:
    """The labels a converted document defines: section targets and equation labels."""

    sections: frozenset[str] = frozenset()
    equations: frozenset[str] = frozenset()


def _previous(lines: list[str]) -> int | None:
    """Index of the last non-blank line of ``lines``."""
    return next((i for i in range(len(lines) - 1, -1, -1) if lines[i].strip()), None)


def _attach_labels(lines: list[str]) -> tuple[list[str], set[str], set[str]]:
    """Move heading labels above their heading, equation labels onto their ``$$`` line."""
    out: list[str] = []
    sections: set[str] = set()
    equations: set[str] = set()
    for line in lines:
        label, eqlabel = LABEL.match(line.strip()), EQLABEL.match(line.strip())
        last = _previous(out)
        if label:
            if last is not None and HEADING.match(out[last]):
                out.insert(last, f"({label[1]})=")
                sections.add(label[1])
        elif eqlabel:
            if last is not None and out[last].rstrip().endswith("$$"):
                out[last] = f"{out[last].rstrip()} ({eqlabel[1]})"
                equations.add(eqlabel[1])
        elif not SIZE.match(line.strip()):
            out.append(line)
    return out, sections, equations


def _chunks(text: str) -> list[tuple[bool, list[str]]]:
    """``text`` cut into (is_fence, lines): fenced blocks apart from the prose around them."""
    chunks: list[tuple[bool, list[str]]] = []
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if fence:
            end = next(
                (
                    j
                    for j in range(index + 1, len(lines))
                    if set(lines[j].strip()) == {fence[1][0]}
                    and len(lines[j].strip()) >= len(fence[1])
                ),
                len(lines) - 1,
            )
            block = lines[index : end + 1]
            if fence[2] == "eval_rst":
                block[0] = f"{fence[1]}{{eval-rst}}"
            chunks.append((True, block))
            index = end + 1
            continue
        if chunks and not chunks[-1][0]:
            chunks[-1][1].append(lines[index])
        else:
            chunks.append((False, [lines[index]]))
        index += 1
    return chunks


def find_targets(texts: Iterable[str]) -> Targets:
    """The section and equation labels that ``texts`` (a document's prose) define."""
    sections: set[str] = set()
    equations: set[str] = set()
    for text in texts:
        for is_fence, lines in _chunks(text):
            if not is_fence:
                _, found_sections, found_equations = _attach_labels(lines)
                sections |= found_sections
                equations |= found_equations
    return Targets(frozenset(sections), frozenset(equations))


def dangling(label: str) -> str:
    """Plain text for a reference to a label the document lacks: ``sec_x`` (seção do d2l)."""
    kind = KINDS.get(label.split("_", 1)[0].lower(), "referência")
    return f"`{label}` ({kind} do d2l)"


def _authors_and_year(key: str) -> tuple[str, str] | None:
    """("He et al.", "2016") for d2l's key ``He.Zhang.Ren.ea.2016``; None for another form."""
    parts = key.strip().split(".")
    if len(parts) < 2 or not YEAR.fullmatch(parts[-1]) or not all(parts[:-1]):
        return None
    names = parts[:-1]
    if "ea" in names or len(names) > 2:
        who = f"{names[0]} et al."
    elif len(names) == 2:
        who = f"{names[0]} e {names[1]}"
    else:
        who = names[0]
    return who, parts[-1]


def citation(keys: str, textual: bool = False) -> str:
    """d2l's ``:cite:`` (or ``:citet:`` when ``textual``) keys as author-year text."""
    entries = [key.strip() for key in keys.split(",") if key.strip()]
    found = [(key, _authors_and_year(key)) for key in entries]
    if textual:
        return ", ".join(f"{ay[0]} ({ay[1]})" if ay else key for key, ay in found)
    return "(" + "; ".join(f"{ay[0]}, {ay[1]}" if ay else key for key, ay in found) + ")"


def _role(match: re.Match[str], targets: Targets) -> str:
    role, label = match[1], match[2].strip()
    if role in ("cite", "citep", "citet"):
        return citation(label, textual=role == "citet")
    if label in targets.equations:
        return f"{{eq}}`{label}`"
    if role != "eqref" and label in targets.sections:
        return f"{{ref}}`{label}`"
    return dangling(label)


def _inline(text: str, targets: Targets) -> str:
    text = HIGHLIGHT.sub(lambda m: m[1], text)
    return ROLE.sub(lambda m: _role(m, targets), text)


def to_myst(text: str, targets: Targets) -> str:
    """d2l prose as MyST; ``targets`` are the labels the whole converted document defines."""
    parts = []
    for is_fence, lines in _chunks(text):
        if is_fence:
            parts.append("\n".join(lines))
        else:
            parts.append(_inline("\n".join(_attach_labels(lines)[0]), targets))
    return "\n".join(parts)


def _fence(texts: Iterable[str], floor: int = 3) -> str:
    """A backtick fence longer than any fence inside ``texts``."""
    longest = max(
        (len(m[1]) for text in texts for m in map(FENCE.match, text.split("\n")) if m),
        default=0,
    )
    return "`" * max(floor, longest + 1)


def tab_set(texts: dict[str, str]) -> str:
    """MyST for prose per framework: tabs synced with the code tabs, PyTorch selected."""
    inner = _fence(texts.values())
    outer = inner + "`"
    lines = [f"{outer}{{tab-set}}", f":sync-group: {SYNC_GROUP}", ""]
    for framework in FRAMEWORKS:
        if framework not in texts:
            continue
        lines += [f"{inner}{{tab-item}} {LABELS[framework]}", f":sync: {framework}"]
        lines += [":selected:"] if framework == DEFAULT_FRAMEWORK else []
        lines += ["", texts[framework], inner, ""]
    lines.append(outer)
    return "\n".join(lines)
