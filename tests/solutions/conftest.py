"""Fixtures for the solutions suite: one driver per framework, shared by the session.

Loading MXNet's library after TensorFlow's crashes the process (a segmentation fault in
``ctypes.CDLL`` for libmxnet.so, seen with mxnet 1.9.1 and tensorflow-cpu 2.17.1), while
the other order works. The root ``conftest.py`` already imports MXNet in
``pytest_configure``, before any test is collected; :func:`framework_driver` still imports
MXNet (where installed) before any other framework, so the order holds however this folder
is run (``--noconftest`` aside, which skips these fixtures too). No framework is imported
when this module is: only when a test asks for a driver.
"""

from __future__ import annotations

import pytest

from frametabs.frameworks import FRAMEWORKS, IMPORT_NAMES, installed_frameworks, load_mxnet_first


def framework_driver(framework: str):
    """The framework's driver, or a skip where the framework is not installed."""
    load_mxnet_first(installed_frameworks())
    pytest.importorskip(IMPORT_NAMES[framework])
    from solutions.properties import DRIVERS

    return DRIVERS[framework]()


@pytest.fixture(scope="session", params=FRAMEWORKS)
def driver(request):
    """Each framework's driver in turn."""
    return framework_driver(request.param)


@pytest.fixture(scope="session")
def drivers():
    """All three drivers, for the cross-framework tests."""
    return {name: framework_driver(name) for name in IMPORT_NAMES}
