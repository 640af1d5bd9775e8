"""The PyTorch solutions on a CUDA device: values, gradients and the rfft on the device.

Skipped where ``torch.cuda.is_available()`` is false. Run alone on a GPU machine with
``python -m pytest -m cuda tests/solutions/test_cuda.py -p no:nbval -o addopts=""``
(the ``-o addopts=""`` drops the project's ``--nbval`` options where nbval is absent).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from solutions import catalogue, properties, reference  # noqa: E402
from solutions.properties import FourierCase, ReductionCase  # noqa: E402

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
]

EXTRA_REDUCTION_CASES = (
    ReductionCase(256, 64, 32, "float32", 21),  # the benchmark's size
    ReductionCase(7, 9, 3, "float64", 22),
)
EXTRA_FOURIER_CASES = (
    FourierCase((256, 1024), "float32", 23),  # the benchmark's size
    FourierCase((3, 4, 1023), "float64", 24),
)


@pytest.fixture(scope="module")
def cuda_driver():
    # Full-precision float32 products: TF32 would miss the float32 tolerance.
    torch.backends.cuda.matmul.allow_tf32 = False
    return properties.PyTorchDriver(device="cuda")


@pytest.mark.parametrize("exercise", catalogue.EXERCISES)
def test_solution_passes_every_check_on_cuda(cuda_driver, exercise):
    extra = {"TensorReduction": EXTRA_REDUCTION_CASES, "FourierHalf": EXTRA_FOURIER_CASES}
    cases = properties.CASES[exercise] + extra[exercise]
    assert properties.run_checks(cuda_driver, cuda_driver.solution(exercise), exercise, cases) == []


@pytest.mark.parametrize(
    "entry", catalogue.implementations(framework="pytorch", wrong=False), ids=lambda e: e.name
)
def test_correct_styles_pass_on_cuda(cuda_driver, entry):
    cls = cuda_driver.load(entry.source, entry.exercise)
    assert properties.run_checks(cuda_driver, cls, entry.exercise) == []


def test_outputs_and_gradients_stay_on_the_device():
    from solutions.pytorch import FourierHalf, TensorReduction

    layer = TensorReduction(5, 3).cuda()
    X = torch.randn(4, 5, device="cuda", requires_grad=True)
    Y = layer(X)
    Y.sum().backward()
    assert Y.device.type == "cuda" and Y.shape == (4, 3)
    assert X.grad.device.type == "cuda" and layer.weight.grad.device.type == "cuda"

    signal = torch.randn(2, 3, 10, device="cuda", requires_grad=True)
    C = FourierHalf()(signal)
    assert C.device.type == "cuda" and C.dtype == torch.complex64 and C.shape == (2, 3, 5)
    (C.real.sum() + C.imag.sum()).backward()
    expected = reference.fourier_half_input_grad(signal.detach().cpu().numpy())
    np.testing.assert_allclose(signal.grad.cpu().numpy(), expected, rtol=1e-4, atol=1e-4)
