"""A learner's own kernel stays clean: ``%load_ext frametabs`` quiets TensorFlow's start-up logs.

The kernels here start without ``TF_CPP_MIN_LOG_LEVEL`` (as JupyterLab or Colab start them),
unlike those of the project's own runner.
"""

from __future__ import annotations

import os

import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from frametabs.kernel_env import QUIET_KERNEL_ENV, quiet_learner_kernel

pytestmark = pytest.mark.slow
# oneDNN's notice is logged when TensorFlow loads, cpu_feature_guard's at the first op.
USE_TENSORFLOW = "import tensorflow as tf\nprint(float(tf.reduce_sum(tf.ones((2, 2)))))"
LOG_MARKERS = ("oneDNN", "cpu_feature_guard", "I tensorflow", "W tensorflow")


def stderr_of(cells: list[str]) -> tuple[str, str]:
    """Run ``cells`` in a kernel started without the quiet settings; (stdout, stderr)."""
    notebook = new_notebook(cells=[new_code_cell(source) for source in cells])
    env = {key: value for key, value in os.environ.items() if key not in QUIET_KERNEL_ENV}
    env.pop("FRAMETABS_FRAMEWORKS", None)
    # ipykernel forwards C++ (fd 2) logs to the notebook, as for a learner, except under pytest.
    env.pop("PYTEST_CURRENT_TEST", None)
    NotebookClient(notebook, timeout=300, kernel_name="python3").execute(env=env)
    streams = {"stdout": "", "stderr": ""}
    for cell in notebook.cells:
        for output in cell.outputs:
            if output.output_type == "stream":
                streams[output.name] += output.text
            assert output.output_type != "error", output
    return streams["stdout"], streams["stderr"]


def test_tensorflow_logs_nothing_after_load_ext():
    stdout, stderr = stderr_of(["%load_ext frametabs", USE_TENSORFLOW])
    assert "4.0" in stdout
    assert not any(marker in stderr for marker in LOG_MARKERS), stderr


def test_a_level_the_learner_chose_is_kept():
    # The same notebook with the learner asking for every log: the logs are there, so the
    # test above would see them if %load_ext did not quiet TensorFlow.
    choose = "import os\nos.environ['TF_CPP_MIN_LOG_LEVEL'] = '0'"
    stdout, stderr = stderr_of([choose, "%load_ext frametabs", USE_TENSORFLOW])
    assert "4.0" in stdout
    assert any(marker in stderr for marker in LOG_MARKERS), stderr


def test_quiet_learner_kernel_only_fills_what_is_unset():
    environ = {"TF_CPP_MIN_LOG_LEVEL": "0"}
    quiet_learner_kernel(environ)
    assert environ == {"TF_CPP_MIN_LOG_LEVEL": "0"}
    empty: dict[str, str] = {}
    quiet_learner_kernel(empty)
    assert empty == QUIET_KERNEL_ENV
