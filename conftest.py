"""Root pytest set-up, shared by the nbval notebooks and the suites in tests/."""

import importlib.util

from frametabs.kernel_env import apply_quiet_kernel_env


def pytest_configure(config):
    """Quiet kernels, and MXNet loaded before anything can load TensorFlow.

    Kernels started by nbval inherit a quiet environment (no TensorFlow start-up logs).
    libmxnet.so (MXNet 1.9.1) segfaults when it is loaded after TensorFlow 2.17 in the
    same process; the other order is safe, so the test process loads MXNet first.
    """
    apply_quiet_kernel_env()
    if importlib.util.find_spec("mxnet") is not None:
        import mxnet  # noqa: F401
