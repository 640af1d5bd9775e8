"""Load a TorchScript trace written by the student process and apply it (never runs student code).

Before ``torch.jit.load`` sees the archive, it is checked as a zip: one regular file of
bounded size, bounded total uncompressed size, only the entries a trace holds, and no
TorchScript method other than straight-line code (no ``__setstate__``, which ``load`` would
run). After loading, every node of the inlined ``forward`` graph must be an allow-listed
pure tensor op; only then is the graph applied to the trusted inputs.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from typing import Any

import numpy as np

try:
    from grading.evaluator.files import UnreadableFile, read_regular
    from grading.evaluator.refusal import GraphRefused
except ImportError:  # copied alone into the sandbox
    from files import UnreadableFile, read_regular
    from refusal import GraphRefused

GRAPH_FILE = "layer.pt"
MAX_FILE_BYTES = 64 * 2**20
MAX_UNPACKED_BYTES = 128 * 2**20
MAX_NODES = 200_000
_ENTRY = re.compile(
    r"^[\w.-]+/(data\.pkl|constants\.pkl|version|byteorder|\.data/serialization_id|"
    r"\.data/version|data/\d+|constants/\d+|traced_inputs\.pkl|traced_inputs/\d+|"
    r"code/__torch__(/[\w./-]+)?\.py(\.debug_pkl)?|extra/[\w.-]+)$"
)
_FORBIDDEN_CODE = ("__setstate__", "__getstate__", "torch.classes", "ops.prim.Print")

# Pure tensor ops: arithmetic, reductions, products, shapes and indexing, creation of
# constants, Fourier transforms, complex parts, elementwise functions. Nothing that reads
# or writes files, prints, sleeps, draws random numbers or calls back into Python.
ALLOWED = frozenset(
    [
        f"prim::{name}"
        for name in (
            "Constant",
            "GetAttr",
            "ListConstruct",
            "ListUnpack",
            "TupleConstruct",
            "TupleUnpack",
            "NumToTensor",
            "device",
            "dtype",
            "max",
            "min",
        )
    ]
    + [
        f"aten::{name}"
        for name in (
            # scalars and shapes
            "Int",
            "Float",
            "ScalarImplicit",
            "size",
            "dim",
            "numel",
            "len",
            "floordiv",
            "floor_divide",
            "remainder",
            "div",
            "mul",
            "add",
            "sub",
            "neg",
            "pow",
            "true_divide",
            "rsub",
            "reciprocal",
            "sqrt",
            "rsqrt",
            "square",
            "abs",
            "sign",
            "exp",
            "log",
            "log1p",
            "expm1",
            "sin",
            "cos",
            "tan",
            "tanh",
            "sigmoid",
            "relu",
            "atan2",
            "clamp",
            "clamp_min",
            "clamp_max",
            "minimum",
            "maximum",
            "where",
            # products
            "matmul",
            "mm",
            "bmm",
            "mv",
            "dot",
            "einsum",
            "tensordot",
            "outer",
            "bilinear",
            "linear",
            "baddbmm",
            "addmm",
            "kron",
            # reductions
            "sum",
            "mean",
            "prod",
            "cumsum",
            "amax",
            "amin",
            # shapes, views and indexing
            "reshape",
            "view",
            "view_as",
            "flatten",
            "unflatten",
            "squeeze",
            "unsqueeze",
            "permute",
            "transpose",
            "t",
            "contiguous",
            "expand",
            "expand_as",
            "repeat",
            "broadcast_to",
            "slice",
            "select",
            "narrow",
            "index_select",
            "gather",
            "cat",
            "stack",
            "chunk",
            "split",
            "unbind",
            "flip",
            "roll",
            "movedim",
            "diagonal",
            "tril",
            "triu",
            "clone",
            "detach",
            "alias",
            "resolve_conj",
            "resolve_neg",
            "copy_",
            "fill_",
            "zero_",
            "select_scatter",
            "slice_scatter",
            # creation of constants
            "arange",
            "zeros",
            "ones",
            "full",
            "eye",
            "linspace",
            "zeros_like",
            "ones_like",
            "full_like",
            "empty_like",
            "tensor",
            "scalar_tensor",
            "lift_fresh",
            # types
            "to",
            "type_as",
            "float",
            "double",
            # Fourier transforms and complex numbers
            "fft_fft",
            "fft_rfft",
            "fft_fftn",
            "fft_rfftn",
            "fft_fft2",
            "fft_ifft",
            "fft_irfft",
            "real",
            "imag",
            "complex",
            "polar",
            "view_as_complex",
            "view_as_real",
            "conj",
            "angle",
        )
    ]
)


def _nodes(block: Any):
    for node in block.nodes():
        yield node
        for inner in node.blocks():
            yield from _nodes(inner)


def _check_archive(path: str) -> None:
    """Refuse anything but a plain, bounded TorchScript archive, before loading it."""
    try:
        data = read_regular(path, MAX_FILE_BYTES)
    except UnreadableFile as problem:
        raise GraphRefused(f"o grafo exportado não pôde ser lido ({problem})") from None
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
        if sum(entry.file_size for entry in entries) > MAX_UNPACKED_BYTES:
            raise GraphRefused("o grafo exportado é grande demais")
        for entry in entries:
            if not _ENTRY.match(entry.filename):
                raise GraphRefused(f"entrada inesperada no grafo: {entry.filename[:80]}")
            if entry.filename.endswith(".py"):
                code = archive.read(entry).decode("utf-8", "replace")
                if any(word in code for word in _FORBIDDEN_CODE):
                    raise GraphRefused("o grafo exportado tem métodos não permitidos")
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise GraphRefused("o grafo exportado não é um TorchScript válido") from None


def check_graph(module: Any) -> None:
    """Refuse a loaded module whose ``forward`` holds an op outside the allow-list."""
    refused: set[str] = set()
    count = 0
    for node in _nodes(module.inlined_graph):
        count += 1
        if node.kind() not in ALLOWED:
            refused.add(node.kind())
    if refused:
        names = ", ".join(sorted(refused)[:10])
        raise GraphRefused(f"o grafo usa operações não permitidas: {names}")
    if count > MAX_NODES:
        raise GraphRefused(f"o grafo tem operações demais ({count})")


def load(folder: str) -> Any:
    """The checked ScriptModule in ``folder``; ``GraphRefused`` when it is not acceptable."""
    import torch

    path = os.path.join(folder, GRAPH_FILE)
    _check_archive(path)
    try:
        module = torch.jit.load(path, map_location="cpu")
    except Exception as error:  # a malformed archive: refused, never a crash
        kind = type(error).__name__
        raise GraphRefused(f"o grafo exportado não pôde ser carregado ({kind})") from None
    check_graph(module)
    return module


def _loss(torch: Any, exercise: str, out: Any, grad_output: np.ndarray | None) -> Any:
    if exercise == "TensorReduction":
        return (out * torch.tensor(grad_output)).sum()
    if out.is_complex():
        return out.real.sum() + out.imag.sum()
    return out.sum()


def evaluate(
    folder: str, metadata: dict[str, Any], request: dict[str, Any], loaded: Any = None
) -> dict[str, Any]:
    """Apply the exported layer in ``folder`` to ``request``; plain arrays out.

    ``loaded`` (graphs shared by a submission's jobs) is unused: each probe has its own.
    """
    import torch

    module = load(folder)
    params = dict(module.named_parameters())
    name = metadata.get("weight")
    weight = params.get(name) if isinstance(name, str) else None
    response: dict[str, Any] = {
        "params": [
            {"name": n, "shape": list(p.shape), "trainable": bool(p.requires_grad)}
            for n, p in params.items()
        ],
        "weight_named": any(n.split(".")[-1].endswith("weight") for n in params),
        "output_is_tensor": True,
    }
    if request.get("set_weight") is not None:
        if weight is None:
            raise LookupError("nenhum parâmetro chamado weight")
        with torch.no_grad():
            weight.copy_(torch.tensor(request["set_weight"]))
    x = torch.tensor(request["X"], requires_grad=bool(request.get("want_grad")))
    for p in params.values():
        p.grad = None
    out = module(x)
    if not isinstance(out, torch.Tensor):
        raise TypeError("o grafo não devolveu um tensor")
    if request.get("want_grad") and out.requires_grad:
        _loss(torch, request["exercise"], out, request.get("grad_output")).backward()
        if x.grad is not None:
            response["grad_X"] = x.grad.numpy().copy()
        if weight is not None and weight.grad is not None:
            response["grad_weight"] = weight.grad.numpy().copy()
    response["output"] = out.detach().resolve_conj().resolve_neg().numpy().copy()
    if weight is not None:
        response["weight"] = weight.detach().numpy().copy()
    return response
