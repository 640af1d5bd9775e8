"""The package's shape: framework modules import only their own framework, same public names."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import solutions
from frametabs.frameworks import IMPORT_NAMES as FRAMEWORK_MODULES

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("mxnet", "tensorflow", "torch", "matplotlib")


def _imported_after(module: str) -> set[str]:
    """The heavy packages in ``sys.modules`` after importing ``module`` in a fresh Python."""
    code = (
        "import importlib, sys\n"
        f"importlib.import_module({module!r})\n"
        f"print(' '.join(name for name in {HEAVY!r} if name in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


@pytest.mark.parametrize(
    "module",
    ["solutions", "solutions.reference", "solutions.catalogue", "solutions.properties",
     "solutions.figures", "solutions.speed"],
)  # fmt: skip
def test_framework_free_modules_import_no_framework(module):
    assert _imported_after(module) == set()


@pytest.mark.parametrize("framework", FRAMEWORK_MODULES)
def test_framework_module_imports_only_its_framework(framework):
    pytest.importorskip(FRAMEWORK_MODULES[framework])
    frameworks = _imported_after(f"solutions.{framework}") - {"matplotlib"}  # TF loads it
    assert frameworks == {FRAMEWORK_MODULES[framework]}


def _public_names(framework: str) -> tuple[list[str], set[str]]:
    """``__all__`` and the top-level classes and functions, read without importing."""
    tree = ast.parse((ROOT / "solutions" / f"{framework}.py").read_text(encoding="utf-8"))
    exported = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and [t.id for t in node.targets] == ["__all__"]
    )
    defined = {
        node.name
        for node in tree.body
        if isinstance(node, ast.ClassDef | ast.FunctionDef) and not node.name.startswith("_")
    }
    return exported, defined


def test_framework_modules_expose_the_same_public_names():
    names = {framework: _public_names(framework) for framework in FRAMEWORK_MODULES}
    for framework, (exported, defined) in names.items():
        assert sorted(exported) == sorted(solutions.EXERCISES), framework
        assert set(exported) == defined, f"{framework}: __all__ {exported}, defines {defined}"


@pytest.mark.parametrize("framework", FRAMEWORK_MODULES)
def test_framework_module_all_resolves(framework):
    pytest.importorskip(FRAMEWORK_MODULES[framework])
    module = __import__(f"solutions.{framework}", fromlist=["__all__"])
    for name in module.__all__:
        assert isinstance(getattr(module, name), type)
