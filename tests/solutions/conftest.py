"""Fixtures for the solutions suite: one driver per framework, shared by the session.

Loading MXNet's library after TensorFlow's crashes the process (a segmentation fault in
``ctypes.CDLL`` for libmxnet.so, seen with mxnet 1.9.1 and tensorflow-cpu 2.17.1), while
the other order works. The frameworks are therefore imported here, MXNet first, before any
test module of this folder imports one.
"""

from __future__ import annotations

import importlib
import importlib.util

import pytest

from frametabs.frameworks import FRAMEWORKS, IMPORT_NAMES

for _module in ("mxnet", "torch", "tensorflow"):
    if importlib.util.find_spec(_module) is not None:
        importlib.import_module(_module)


def framework_driver(framework: str):
    """The framework's driver, or a skip where the framework is not installed."""
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
