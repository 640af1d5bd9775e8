"""Reading a notebook on the trusted side: bad files get a clear message, cells are parsed."""

from __future__ import annotations

import pytest

from grading.submission import SHARED, SubmissionError, parse, read_submission


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "vazio"),
        (b"isto nao e json", "JSON válido"),
        (b'{"cells": [{"cell_type": "code", "source": "x', "JSON válido"),
        (b"[1, 2, 3]", "notebook do Jupyter"),
        (b"\xff\xfe\x00", "UTF-8"),
        (b'{"cells": [{"cell_type": "markdown", "source": "oi"}]}', "células de código"),
    ],
)
def test_bad_files_get_a_clear_message(tmp_path, content, message):
    path = tmp_path / "aluno.ipynb"
    path.write_bytes(content)
    with pytest.raises(SubmissionError, match=message):
        read_submission(path)


def test_a_100_mb_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "grande.ipynb"
    with path.open("wb") as handle:
        handle.truncate(100 * 2**20)
    with pytest.raises(SubmissionError, match="grande demais"):
        read_submission(path)


def test_cells_markers_and_skipped_lines(tmp_path, helpers):
    path = helpers.write_notebook(
        tmp_path / "a.ipynb",
        [
            "%load_ext frametabs\nimport numpy as np",
            "%%tab pytorch, mxnet\nfrom grading.notebook import check\nx = 1",
            ("check(TensorReduction)", ["check"]),
            "%%tab all\n!pip install coisa\ny = 2",
        ],
        outputs=[{"output_type": "stream", "name": "stdout", "text": "10/10 pontos"}],
    )
    submission = read_submission(path)
    assert submission.frameworks == ("mxnet", "pytorch", "tensorflow")
    shared, both, everywhere = submission.cells
    assert shared.namespaces == (SHARED,) and "load_ext" not in shared.code
    assert both.namespaces == ("mxnet", "pytorch")
    assert "grading" not in both.code and both.code.splitlines()[2] == "x = 1"
    assert "pip" not in everywhere.code and "y = 2" in everywhere.code


def test_an_unknown_framework_marker_is_skipped_with_a_note():
    notebook = {"cells": [{"cell_type": "code", "source": "%%tab pytroch\nx = 1"}]}
    submission = parse(notebook)
    assert submission.cells == ()
    assert "marcador %%tab inválido" in submission.notes[0]


def test_a_cell_of_a_framework_the_book_does_not_run_is_skipped_with_a_note():
    notebook = {"cells": [{"cell_type": "code", "source": "%%tab jax\nx = 1"}]}
    submission = parse(notebook)
    assert submission.cells == ()
    assert submission.notes == ("célula 0 ignorada: o corretor não avalia JAX",)
    shared = parse({"cells": [{"cell_type": "code", "source": "%%tab pytorch, jax\nx = 1"}]})
    assert [cell.namespaces for cell in shared.cells] == [("pytorch",)] and not shared.notes
