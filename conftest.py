"""Root pytest set-up, shared by the nbval notebooks in chapters/ and the suites in tests/."""

from frametabs.kernel_env import apply_quiet_kernel_env


def pytest_configure(config):
    """Kernels started by nbval inherit a quiet environment (no TensorFlow start-up logs)."""
    apply_quiet_kernel_env()
