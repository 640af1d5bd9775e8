"""The progress bar (rate and time left) and the summary line, rendered without timing."""

from __future__ import annotations

import io
from pathlib import Path

from grading import cli
from grading.gradebook import STATUS_TEXT
from grading.grader import SubmissionReport
from grading.shards import Shard


def _rendered(n: int, total: int, elapsed: float) -> str:
    """The bar's text after ``n`` of ``total`` submissions in ``elapsed`` seconds."""
    bar = cli._progress(total, quiet=False, file=io.StringIO())
    try:
        state = {**bar.format_dict, "n": n, "elapsed": elapsed, "rate": None}
        return bar.format_meter(**state)
    finally:
        bar.close()


def test_the_bar_shows_submissions_per_second_and_the_time_left():
    text = _rendered(4, 10, 12.0)
    assert "4/10" in text and "40%" in text
    assert "0.33 submissões/s" in text  # the rate: 4 in 12 s
    assert "faltam ~00:18" in text  # 6 more at that rate
    assert "00:12 passados" in text


def test_a_slow_batch_still_shows_submissions_per_second():
    text = _rendered(1, 100, 90.0)
    assert "0.01 submissões/s" in text
    assert "s/ submissões" not in text  # tqdm's default flips to seconds per item
    assert "faltam ~2:28:30" in text


def test_before_the_first_submission_the_rate_is_unknown():
    assert "faltam ~?, ? submissões/s" in _rendered(0, 10, 0.0)


def test_the_bar_is_drawn_on_the_given_file():
    buffer = io.StringIO()
    bar = cli._progress(3, quiet=False, file=buffer)
    bar.close()
    assert "corrigindo:" in buffer.getvalue() and "0/3" in buffer.getvalue()


def test_quiet_draws_nothing():
    buffer = io.StringIO()
    bar = cli._progress(3, quiet=True, file=buffer)
    bar.update(3)
    bar.close()
    assert buffer.getvalue() == ""


def _report(name: str, status: str) -> SubmissionReport:
    return SubmissionReport(
        submission_id=name,
        path=f"{name}.ipynb",
        seed=7,
        status=status,
        exercises=(),
        notes=(),
        cell_errors=(),
        isolation="none",
        elapsed=1.0,
        timings={},
        log="",
    )


def test_the_summary_counts_every_status_in_portuguese():
    reports = [_report("a", "ok"), _report("b", "ok"), _report("c", "timeout")]
    line = cli._summary(reports, 30.0, 7, Path("notas"), failed=1)
    assert line.startswith("4 submissões corrigidas em 30.0 s (8.0 por minuto); ")
    counts = "corrigida: 2, tempo esgotado: 1, processo terminou: 0, notebook inválido: 0"
    assert f"{counts}, erro do corretor: 1;" in line
    assert all(text in line for text in STATUS_TEXT.values())
    assert line.endswith("semente 7; resultados em notas")


def test_the_summary_of_a_shard_names_it():
    line = cli._summary([_report("a", "crashed")], 2.0, 3, Path("n"), shard=Shard(2, 5))
    assert line.startswith("shard 2/5: 1 submissão corrigida")
    assert "processo terminou: 1" in line
