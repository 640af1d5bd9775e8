"""What reaches the grader: special files, the book's set-up cell, magics, huge notebooks."""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import time
import tracemalloc
from contextlib import contextmanager
from pathlib import Path

import pytest

from frametabs.setup_cell import SETUP_SOURCE
from grading import grader, submission
from grading.cli import collect
from grading.submission import MAX_NOTEBOOK_BYTES, SubmissionError, parse, read_submission
from solutions import catalogue

REPO = Path(__file__).resolve().parents[2]
ANSWER_KEY = REPO / "instructor" / "exercises-solutions.ipynb"
EXERCISE_BOOK = REPO / "chapters" / "exercises.ipynb"


@contextmanager
def _deadline(seconds: int):
    """Fail instead of hanging (a FIFO opened without ``O_NONBLOCK`` blocks forever)."""

    def expired(signum, frame):
        raise TimeoutError("bloqueou")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _good_cells() -> list[str]:
    return [
        "%%tab pytorch\n" + catalogue.reference_source(exercise, "pytorch")
        for exercise in ("TensorReduction", "FourierHalf")
    ]


def _bind_socket(path: Path) -> socket.socket | None:
    if len(str(path)) >= 100:  # AF_UNIX path limit
        return None
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    return server


@pytest.fixture
def folder(tmp_path, helpers):
    """A submissions folder holding one real notebook and every kind of special entry."""
    elsewhere = tmp_path / "outro"
    elsewhere.mkdir()
    helpers.write_notebook(elsewhere / "bom.ipynb", _good_cells())
    entregas = tmp_path / "e"
    entregas.mkdir()
    helpers.write_notebook(entregas / "ana.ipynb", _good_cells())
    (entregas / "chave.ipynb").symlink_to(ANSWER_KEY)
    (entregas / "copia.ipynb").symlink_to(elsewhere / "bom.ipynb")
    (entregas / "colega.ipynb").symlink_to(entregas / "ana.ipynb")
    (entregas / "relativo.ipynb").symlink_to("ana.ipynb")
    (entregas / "quebrado.ipynb").symlink_to(entregas / "nada.ipynb")
    (entregas / "laco.ipynb").symlink_to(entregas / "laco.ipynb")
    (entregas / "dir.ipynb").mkdir()
    os.mkfifo(entregas / "fifo.ipynb")
    (entregas / "notas.txt").write_text("não é notebook")
    server = _bind_socket(entregas / "sock.ipynb")
    yield entregas
    if server is not None:
        server.close()


SPECIAL = {
    "chave": "link simbólico",
    "copia": "link simbólico",
    "colega": "link simbólico",
    "relativo": "link simbólico",
    "quebrado": "link simbólico",
    "laco": "link simbólico",
    "dir": "pasta",
    "fifo": "FIFO",
    "sock": "socket",
}


# --- collect ---------------------------------------------------------------------------


def test_collect_lists_every_entry_of_a_folder_without_following_links(folder):
    names = [path.name for path in collect([folder])]
    expected = {"ana.ipynb", *(f"{name}.ipynb" for name in SPECIAL)}
    if not (folder / "sock.ipynb").exists():
        expected.discard("sock.ipynb")
    assert sorted(names) == sorted(expected)
    assert len(names) == len(set(names))
    assert all(path.parent == folder for path in collect([folder]))


def test_a_path_given_twice_counts_once_compared_without_resolving_links(folder):
    ana, colega = folder / "ana.ipynb", folder / "colega.ipynb"
    paths = collect([ana, folder / "." / "ana.ipynb", ana, colega, folder])
    assert sorted(p.name for p in paths).count("ana.ipynb") == 1
    assert sorted(p.name for p in paths).count("colega.ipynb") == 1
    assert [p.name for p in collect([ana, colega])] == ["ana.ipynb", "colega.ipynb"]


def test_collect_keeps_a_named_file_that_is_not_a_notebook(tmp_path):
    missing = tmp_path / "falta.ipynb"
    assert collect([missing]) == [missing]


# --- read_submission refuses anything that is not a regular file -----------------------


@pytest.mark.parametrize("name", sorted(SPECIAL))
def test_special_files_are_refused_with_a_clear_message(folder, name):
    path = folder / f"{name}.ipynb"
    if not os.path.lexists(path):
        pytest.skip("socket AF_UNIX indisponível neste caminho")
    with _deadline(10), pytest.raises(SubmissionError, match="não é um arquivo comum") as caught:
        read_submission(path)
    assert SPECIAL[name] in str(caught.value)


def test_load_notebook_refuses_a_link_to_the_answer_key(folder):
    with pytest.raises(SubmissionError, match="link simbólico"):
        submission.load_notebook(folder / "chave.ipynb")


def test_a_device_is_refused_without_being_opened():
    with pytest.raises(SubmissionError, match="não é um arquivo comum: dispositivo"):
        read_submission(Path("/dev/null"))


def test_a_missing_file_gets_a_portuguese_message(tmp_path):
    with pytest.raises(SubmissionError, match="o arquivo não existe"):
        read_submission(tmp_path / "falta.ipynb")


def test_a_file_swapped_for_a_link_after_the_check_is_still_refused(tmp_path, monkeypatch, helpers):
    path = helpers.write_notebook(tmp_path / "ana.ipynb", _good_cells())
    real_lstat, swapped = os.lstat, []

    def lstat_then_swap(target, *args, **kwargs):
        info = real_lstat(target, *args, **kwargs)
        if Path(target) == path and not swapped:
            swapped.append(True)
            path.unlink()
            path.symlink_to(ANSWER_KEY)
        return info

    monkeypatch.setattr(os, "lstat", lstat_then_swap)
    with pytest.raises(SubmissionError, match="link simbólico"):
        read_submission(path)


def test_a_file_swapped_for_a_fifo_after_the_check_does_not_block(tmp_path, monkeypatch, helpers):
    path = helpers.write_notebook(tmp_path / "ana.ipynb", _good_cells())
    real_lstat = os.lstat

    def lstat_then_swap(target, *args, **kwargs):
        info = real_lstat(target, *args, **kwargs)
        if Path(target) == path and path.is_file():
            path.unlink()
            os.mkfifo(path)
        return info

    monkeypatch.setattr(os, "lstat", lstat_then_swap)
    with _deadline(10), pytest.raises(SubmissionError, match="FIFO"):
        read_submission(path)


def test_the_size_cap_holds_on_the_bytes_read_not_on_a_stat(tmp_path, monkeypatch):
    path = tmp_path / "cresce.ipynb"
    path.write_bytes(b'{"cells": []' + b" " * (MAX_NOTEBOOK_BYTES + 10) + b"}")
    real_stat, real_fstat, real_lstat = os.stat, os.fstat, os.lstat

    def small(real):
        def stat(target, *args, **kwargs):
            info = real(target, *args, **kwargs)
            return os.stat_result((info.st_mode, *info[1:6], 100, *info[7:10]))

        return stat

    monkeypatch.setattr(os, "stat", small(real_stat))
    monkeypatch.setattr(os, "fstat", small(real_fstat))
    monkeypatch.setattr(os, "lstat", small(real_lstat))
    with pytest.raises(SubmissionError, match="grande demais"):
        read_submission(path)


def test_an_os_error_while_reading_is_a_submission_error(tmp_path, monkeypatch, helpers):
    path = helpers.write_notebook(tmp_path / "ana.ipynb", _good_cells())

    def broken(fd, size):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "read", broken)
    with pytest.raises(SubmissionError, match="não foi possível ler o arquivo"):
        read_submission(path)


def test_special_files_are_invalid_rows_that_never_reach_the_child(folder, monkeypatch):
    def no_child(*args, **kwargs):
        raise AssertionError("um arquivo especial chegou ao processo filho")

    monkeypatch.setattr(grader, "Sandbox", no_child)
    for name, kind in SPECIAL.items():
        path = folder / f"{name}.ipynb"
        if not os.path.lexists(path):
            continue
        report = grader.grade_submission(path, grader.GradeOptions(seed=1))
        assert report.status == "invalid", (name, report.notes)
        assert report.score == 0.0
        assert any("não é um arquivo comum" in note and kind in note for note in report.notes)
        assert report.submission_id == name


# --- the book's set-up cell and magics --------------------------------------------------


def _compiles(cells) -> None:
    for cell in cells:
        compile(cell.code, f"<célula {cell.index}>", "exec")


@pytest.mark.parametrize("notebook", [ANSWER_KEY, EXERCISE_BOOK], ids=["chave", "exercicios"])
def test_the_book_notebooks_give_only_valid_code(notebook):
    parsed = read_submission(notebook)
    _compiles(parsed.cells)
    assert all("find_spec" not in cell.code for cell in parsed.cells)
    assert not parsed.notes


def test_the_setup_cell_is_dropped_by_its_exact_source_only(helpers, tmp_path):
    student = SETUP_SOURCE + "\nclass TensorReduction:\n    pass"
    path = helpers.write_notebook(
        tmp_path / "a.ipynb",
        [(SETUP_SOURCE, ["remove-cell"]), (student, []), ("1 / 0", ["remove-cell"])],
    )
    parsed = read_submission(path)
    assert [cell.index for cell in parsed.cells] == [1, 2]  # a tag hides nothing
    _compiles(parsed.cells)
    assert "class TensorReduction" in parsed.cells[0].code


def test_a_setup_cell_saved_with_crlf_is_dropped_too():
    notebook = {"cells": [{"cell_type": "code", "source": SETUP_SOURCE.replace("\n", "\r\n")}]}
    assert parse(notebook).cells == ()


def test_a_cell_of_magics_only_is_dropped():
    notebook = {"cells": [{"cell_type": "code", "source": "%matplotlib inline\n# nada\n!ls"}]}
    assert parse(notebook).cells == ()


def test_magics_become_pass_and_keep_the_code_valid_and_the_line_numbers():
    source = "if True:\n    %pip install x\n    !ls\nelse:\n\t%time 1\ny = 2"
    (cell,) = parse({"cells": [{"cell_type": "code", "source": source}]}).cells
    compile(cell.code, "<c>", "exec")
    lines = cell.code.split("\n")
    assert lines[1] == "    pass" and lines[2] == "    pass" and lines[4] == "\tpass"
    assert len(lines) == 6 and lines[5] == "y = 2"


@pytest.mark.parametrize(
    "source",
    [
        "y = (7\n     % 3)",
        'doc = """\n%d itens\n!importante\n"""',
        "z = 7 \\\n    % 3",
        "w = [1,\n  # comentário (\n  2]\n",
        "s = 'a' \\\n    'b'\nt = ('x'\n  % ())",
    ],
)
def test_a_percent_inside_an_expression_or_a_string_is_kept(source):
    (cell,) = parse({"cells": [{"cell_type": "code", "source": source}]}).cells
    assert cell.code == source
    compile(cell.code, "<c>", "exec")


def test_grading_imports_are_dropped_without_breaking_blocks():
    source = (
        "if True:\n    from grading.notebook import check\n"
        "from grading.notebook import (\n    check,\n)\nimport grading\nx = 1"
    )
    (cell,) = parse({"cells": [{"cell_type": "code", "source": source}]}).cells
    compile(cell.code, "<c>", "exec")
    assert "grading" not in cell.code and "check" not in cell.code
    assert cell.code.split("\n")[-1] == "x = 1" and cell.code.count("\n") == source.count("\n")


def test_an_invalid_marker_note_is_in_portuguese():
    notebook = {"cells": [{"cell_type": "code", "source": "%%tab pytroch\nx = 1"}]}
    (note,) = parse(notebook).notes
    assert "marcador %%tab inválido" in note and "unknown" not in note


def test_a_json_error_message_is_in_portuguese(tmp_path):
    path = tmp_path / "a.ipynb"
    path.write_bytes(b'{"cells": [')
    with pytest.raises(SubmissionError, match="JSON válido") as caught:
        read_submission(path)
    assert "Expecting" not in str(caught.value)


# --- many cells -------------------------------------------------------------------------


def _compact(cells: list[dict]) -> bytes:
    return json.dumps({"cells": cells}, separators=(",", ":")).encode()


def test_100000_trivial_cells_parse_fast_and_small(tmp_path):
    cells = [{"cell_type": "code", "source": "x = 1"} for _ in range(100_000)]
    cells += [{"cell_type": "code", "source": source} for source in _good_cells()]
    path = tmp_path / "muitas.ipynb"
    path.write_bytes(_compact(cells))
    assert path.stat().st_size <= MAX_NOTEBOOK_BYTES
    started = time.perf_counter()
    parsed = read_submission(path)
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0
    tracemalloc.start()
    try:
        read_submission(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200 * 2**20
    assert len(parsed.cells) == 100_002
    assert "class TensorReduction" in parsed.cells[-2].code
    _compiles(parsed.cells[-2:])


def test_100000_cells_as_jupyter_saves_them_are_read_and_parsed(tmp_path):
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": []}
    notebook = {"cells": [{**cell, "source": ["pass"]} for _ in range(100_000)]}
    notebook["cells"].append({**cell, "source": ["%%tab pytorch\n", "y = 2"]})
    path = tmp_path / "muitas.ipynb"
    path.write_text(json.dumps(notebook, indent=1))
    assert path.stat().st_size > 4 * 2**20
    started = time.perf_counter()
    submission = read_submission(path)
    assert time.perf_counter() - started < 5.0
    assert [c.code.strip() for c in submission.cells] == ["y = 2"]


def test_a_notebook_over_the_cap_is_refused_clearly(tmp_path):
    path = tmp_path / "grande.ipynb"
    path.write_text(json.dumps({"cells": [], "x": "a" * (17 * 2**20)}))
    with pytest.raises(SubmissionError, match=r"grande demais \(\d+,\d MiB; limite 16 MiB\)"):
        read_submission(path)


# --- the whole command line -------------------------------------------------------------


@pytest.mark.slow
def test_special_files_in_a_batch_get_their_own_rows(tmp_path, helpers):
    elsewhere = tmp_path / "outro"
    elsewhere.mkdir()
    helpers.write_notebook(elsewhere / "bom.ipynb", _good_cells())
    entregas, out = tmp_path / "entregas", tmp_path / "notas"
    entregas.mkdir()
    helpers.write_notebook(entregas / "ana.ipynb", _good_cells())
    (entregas / "copia.ipynb").symlink_to(elsewhere / "bom.ipynb")
    (entregas / "colega.ipynb").symlink_to(entregas / "ana.ipynb")
    (entregas / "dir.ipynb").mkdir()
    os.mkfifo(entregas / "fifo.ipynb")
    done = helpers.run_cli([str(entregas), "--out", str(out), "--seed", "5", "--jobs", "2"])
    assert done.returncode == 0, done.stderr[-3000:]
    with (out / "gradebook.csv").open(encoding="utf-8") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {"ana", "copia", "colega", "dir", "fifo"}
    assert rows["ana"]["status"] == "ok" and float(rows["ana"]["total"]) == 20.0
    for name, kind in {"copia": "link", "colega": "link", "dir": "pasta", "fifo": "FIFO"}.items():
        assert rows[name]["status"] == "invalid notebook", rows[name]
        assert float(rows[name]["total"]) == 0.0
        feedback = (out / name / "feedback.md").read_text(encoding="utf-8")
        assert "não é um arquivo comum" in feedback and kind in feedback, feedback


@pytest.mark.slow
def test_the_answer_key_has_no_cell_error(tmp_path, helpers):
    out = tmp_path / "notas"
    done = helpers.run_cli([str(ANSWER_KEY), "--out", str(out), "--seed", "2", "--jobs", "1"])
    assert done.returncode == 0, done.stderr[-3000:]
    results = helpers.read_results(out, "exercises-solutions")
    feedback = (out / "exercises-solutions" / "feedback.md").read_text(encoding="utf-8")
    assert "Células com erro" not in feedback and "levantou" not in results["output"], feedback
    assert results["score"] == 20.0, feedback
