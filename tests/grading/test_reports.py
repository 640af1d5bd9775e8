"""Reports hold text from student-controlled processes only as escaped plain text."""

from __future__ import annotations

import csv
import json
import math
import unicodedata

import pytest
from markdown_it import MarkdownIt

from grading import gradebook, report
from grading.gradebook import Gradebook
from grading.grader import ExerciseGrade, SubmissionReport
from grading.report import feedback_markdown, results_json, write_reports
from grading.results import CheckResult, ExerciseResult

EVIL = (
    "início\n\n# Nota: 20/20\n**Nota: 20/20** <script>alert(1)</script> "
    "[clique](http://mal.example/x) ![img](http://mal.example/i.png) <http://mal.example> "
    "http://mal.example www.mal.example aluno@mal.example `code` ``` ~~riscado~~ "
    "$x^2$ {role}`x` &lt;b&gt; | a | b |\n|---|---|\r\n- item\n1. lista\n> citação\n"
    "    indentado\x1b[31m vermelho\x00\x07\u202eoculto\u2028linha\u200b \\ _it_ NaN fim"
)
WORDS = ("início", "Nota: 20/20", "script", "clique", "vermelho", "oculto", "fim")
FORBIDDEN_TOKENS = {
    "html_block",
    "html_inline",
    "link_open",
    "image",
    "table_open",
    "blockquote_open",
    "code_block",
    "s_open",
    "em_open",
    "ordered_list_open",
    "hr",
}


def _check(points: float, status: str, message: str) -> CheckResult:
    return CheckResult("TensorReduction", "pytorch", "k", "forma", 1.0, points, status, message)


def _report(**changes) -> SubmissionReport:
    attempt = ExerciseResult(
        "TensorReduction",
        "pytorch",
        (_check(float("nan"), "failed", EVIL), _check(1.0, "passed", "")),
        note=EVIL,
    )
    fields = {
        "submission_id": "aluno",
        "path": "/x/aluno.ipynb",
        "seed": 7,
        "status": "crashed",
        "exercises": (
            ExerciseGrade("TensorReduction", attempt, (attempt,), EVIL),
            ExerciseGrade("FourierHalf", None, (), "classe FourierHalf não encontrada (PyTorch)"),
        ),
        "notes": (f"falha ao importar pytorch: {EVIL}", EVIL),
        "cell_errors": (
            {"cell": EVIL, "namespace": EVIL, "type": EVIL, "message": EVIL, "line": 3},
            {"cell": "4", "namespace": "pytorch", "type": "X", "message": "y", "line": 10**50},
        ),
        "isolation": "namespaces",
        "elapsed": float("nan"),
        "timings": {
            "cells": float("nan"),
            "probes": float("inf"),
            "child_start": 1.5,
            "framework_import": -float("inf"),
        },
        "log": "saída\n```\n" + EVIL + "\n`````````` fim\n~~~\n",
    }
    fields.update(changes)
    return SubmissionReport(**fields)


def _tokens(markdown: str) -> list:
    flat = []
    for token in MarkdownIt("gfm-like").enable(["strikethrough"]).parse(markdown):
        flat.append(token)
        flat.extend(token.children or [])
    return flat


def _no_control_characters(text: str, allowed: str = "\n") -> None:
    bad = {
        c
        for c in text
        if c not in allowed and unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp")
    }
    assert not bad, sorted(map(hex, map(ord, bad)))


# --- feedback.md ------------------------------------------------------------------------


def test_child_text_cannot_change_the_structure_of_feedback_md():
    text = feedback_markdown(_report())
    tokens = _tokens(text)
    found = {t.type for t in tokens} & FORBIDDEN_TOKENS
    assert not found, found
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings == [
        "Correção de aluno",
        "Avisos",
        "Células com erro",
        "TensorReduction: 0/10",
        "FourierHalf: 0/10",
        "Saída do processo (final, truncada)",
    ]
    assert sum(t.type == "strong_open" for t in tokens) == 1
    fences = [t for t in tokens if t.type == "fence"]
    assert len(fences) == 2  # the one attempt and the log
    assert "```" in fences[-1].content and "`````````` fim" in fences[-1].content
    rendered = MarkdownIt("gfm-like").render(text)
    assert "<script" not in rendered and "<a " not in rendered and "<img" not in rendered
    _no_control_characters(text)


def test_the_escaped_text_still_reads_as_the_original():
    tokens = _tokens(feedback_markdown(_report()))
    plain = " ".join(t.content for t in tokens if t.type in ("text", "text_special", "fence"))
    for word in WORDS:
        assert word in plain, word
    assert "<script>alert(1)</script>" in plain and "[clique](http://mal.example/x)" in plain


def test_an_attempt_block_cannot_be_closed_by_a_check_message():
    tokens = _tokens(feedback_markdown(_report(status="ok", log="")))
    (fence,) = [t for t in tokens if t.type == "fence"]
    assert "Nota: 20/20" in fence.content and "\n# Nota" not in fence.content
    assert "vermelho" in fence.content
    assert all(line.startswith(("TensorReduction", "  ")) for line in fence.content.splitlines())


def test_an_odd_submission_id_is_escaped_in_the_heading():
    text = feedback_markdown(_report(submission_id="`*x*`<b>[a](b)"))
    heading = text.split("\n", 1)[0]
    assert heading.startswith("# Correção de ")
    tokens = _tokens(heading)
    assert {t.type for t in tokens} & FORBIDDEN_TOKENS == set()
    assert tokens[1].children and "".join(c.content for c in tokens[1].children).endswith(
        "`*x*`<b>[a](b)"
    )


def test_nan_scores_are_shown_as_zero():
    text = feedback_markdown(_report())
    assert "nan" not in text.lower().replace("nan fim", "")
    assert "**Nota: 0/20**" in text


# --- results.json -----------------------------------------------------------------------


def _reject(constant: str):
    raise ValueError(f"não é JSON estrito: {constant}")


def _numbers(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield value


def test_results_json_is_strict_json_with_finite_numbers(tmp_path):
    folder = write_reports(_report(), tmp_path)
    text = (folder / "results.json").read_text(encoding="utf-8")
    document = json.loads(text, parse_constant=_reject)
    assert all(math.isfinite(number) for number in _numbers(document))
    assert document["score"] == 0.0
    assert document["execution_time"] == 0.0
    timings = document["extra_data"]["timings"]
    assert timings == {"child_start": 1.5}


def test_child_text_in_results_json_is_one_plain_line_per_item():
    document = results_json(_report())
    assert document["output_format"] == "text" and document["test_output_format"] == "text"
    lines = document["output"].split("\n")
    assert len(lines) == 1 + 2 + 2 + 2  # summary, exercises, notes, cell errors
    _no_control_characters(document["output"])
    for test in document["tests"]:
        assert "\n" not in test["output"] and "\n" not in test["name"]
        _no_control_characters(test["output"], allowed="")
    assert "linha 10000000" not in document["output"]


def test_a_report_that_cannot_be_serialised_strictly_is_never_written_loosely(tmp_path):
    folder = write_reports(_report(seed=3, elapsed=float("inf")), tmp_path)
    json.loads((folder / "results.json").read_text(encoding="utf-8"), parse_constant=_reject)


def test_undecodable_names_and_lone_surrogates_are_written_as_utf8(tmp_path):
    odd = "aluno\udcff\u2029"  # a file name with a byte that is not UTF-8
    report = _report(submission_id=odd, notes=("nota \ud800",), log="log \udfff")
    folder = write_reports(report, tmp_path)
    for name in ("results.json", "feedback.md"):
        text = (folder / name).read_text(encoding="utf-8")
        assert "\N{REPLACEMENT CHARACTER}" in text
        _no_control_characters(text, allowed="\n")
    book = Gradebook(tmp_path / "gradebook.csv")
    book.add(report)
    assert "aluno\N{REPLACEMENT CHARACTER}" in (tmp_path / "gradebook.csv").read_text("utf-8")


# --- gradebook.csv ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["=cmd()", "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://x")']
)
def test_ids_that_spreadsheets_run_as_formulas_are_quoted(tmp_path, name):
    book = Gradebook(tmp_path / "gradebook.csv")
    book.add(_report(submission_id=name))
    book.add(_report(submission_id="ana"))
    with (tmp_path / "gradebook.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    ids = sorted(row["id"] for row in rows)
    assert "ana" in ids
    (odd,) = [i for i in ids if i != "ana"]
    assert odd.startswith("'") and odd.lstrip("'").strip() == name.strip()
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), row
            _no_control_characters(value, allowed="")


def test_gradebook_numbers_are_finite_and_the_status_is_kept(tmp_path):
    book = Gradebook(tmp_path / "gradebook.csv")
    book.add(_report(status="invalid"))
    with (tmp_path / "gradebook.csv").open(encoding="utf-8", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["status"] == "invalid notebook" and row["situação"] == "notebook inválido"
    assert row["TensorReduction"] == "0" and row["total"] == "0" and row["tempo_s"] == "0.0"


def test_one_escaping_helper_serves_every_report_writer():
    assert gradebook.plain_text is report.plain_text
    assert report.markdown_text("a*b") == "a\\*b"
    assert report.plain_text("a\n\tb\x00c") == "a b c"
