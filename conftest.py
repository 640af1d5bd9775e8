"""Root pytest set-up, shared by the nbval notebooks and the suites in tests/."""

from frametabs.frameworks import installed_frameworks, load_mxnet_first
from frametabs.kernel_env import apply_quiet_kernel_env


def pytest_configure(config):
    """Quiet kernels, and MXNet loaded before anything can load TensorFlow.

    Kernels started by nbval inherit a quiet environment (no TensorFlow start-up logs);
    the test process loads MXNet first (see ``frametabs.frameworks.load_mxnet_first``).
    """
    apply_quiet_kernel_env()
    load_mxnet_first(installed_frameworks())
