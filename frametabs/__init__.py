"""Tooling for a multi-framework book: the ``%%tab`` magic, the Sphinx tabs, the exports.

Importing this package imports no deep-learning framework.
"""

from frametabs.frameworks import DEFAULT_FRAMEWORK, FRAMEWORKS, LABELS, parse_marker


def load_ipython_extension(ipython):
    """Register the ``%%tab`` cell magic (``%load_ext frametabs``), quieting TensorFlow first."""
    from frametabs.kernel_env import quiet_learner_kernel
    from frametabs.magic import register

    quiet_learner_kernel()

    register(ipython)


def setup(app):
    """Sphinx entry point (``extensions: [frametabs]``)."""
    from frametabs.sphinx_tabs import setup as sphinx_setup

    return sphinx_setup(app)


__all__ = ["DEFAULT_FRAMEWORK", "FRAMEWORKS", "LABELS", "parse_marker"]
