"""Export a student's PyTorch layer as a TorchScript trace (runs where student code runs).

The layer is traced with ``torch.jit.trace`` on random placeholder inputs of the probe's
shape (never the probe values) and checked against a second placeholder, so a forward
pass whose ops depend on the input's values (a Python ``if`` on a tensor, a NumPy round
trip) is refused with a message instead of being frozen into a wrong graph. The trace's
TracerWarnings tell a tensor that left PyTorch (to NumPy, a Python number or list) from a
Python ``if``; that refusal, like ``.numpy()`` on a tensor that requires a gradient, says in
Portuguese what happened and ends with PyTorch's own message. Parameters stay parameters of
the traced module, so the evaluator can set and differentiate ``weight``.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

try:
    from grading.child.exportable import NotExportable, StageError
except ImportError:  # copied alone into the sandbox
    from exportable import NotExportable, StageError

GRAPH_FILE = "layer.pt"
CANNOT = "a camada não pôde ser exportada como grafo do PyTorch"
HINT = (
    "use só operações do PyTorch sobre tensores no forward, sem if/for que dependam dos "
    "valores da entrada, sem .numpy(), .item() ou .tolist()"
)
LEFT_PYTORCH = (
    "{CANNOT}: o forward sai do PyTorch ({how}), e o que se calcula fora dele fica sem grafo "
    "e sem gradiente. Use só operações do PyTorch (torch.fft, torch.einsum…), sem detach(). "
    "Mensagem do PyTorch: {detail}"
)
# What a TracerWarning says was converted -> how the forward pass left PyTorch.
CONVERSIONS = {
    "to a NumPy array": "uma ida e volta pelo NumPy, com .numpy() ou np.*",
    "to a Python list": "uma conversão para lista, com .tolist()",
    "to a Python number": "uma conversão para número, com .item() ou float()",
}
DETAIL_LIMIT = 90


def construct(layer_class: type, exercise: str, sizes: dict[str, int] | None) -> Any:
    """The layer, built with the contract's constructor."""
    try:
        if exercise == "TensorReduction":
            return layer_class(sizes["in_units"], sizes["units"])
        return layer_class()
    except BaseException as error:  # the student's constructor may raise anything
        raise StageError("construct", error) from None


def parameters(layer: Any) -> list[dict[str, Any]]:
    """``name``, ``shape`` and ``trainable`` of every registered parameter."""
    return [
        {"name": name, "shape": list(p.shape), "trainable": bool(p.requires_grad)}
        for name, p in layer.named_parameters()
    ]


def weight_name(params: list[dict[str, Any]]) -> str | None:
    """The parameter named ``weight`` (or ``x.weight``), else the only parameter."""
    named = [p["name"] for p in params if p["name"].split(".")[-1].endswith("weight")]
    if named:
        return named[0]
    return params[0]["name"] if len(params) == 1 else None


def _placeholder(torch: Any, spec: dict[str, Any], seed: int) -> Any:
    generator = torch.Generator().manual_seed(seed)
    dtype = getattr(torch, spec.get("dtype", "float32"))
    return torch.randn(*spec["shape"], generator=generator, dtype=dtype)


def _first_sentence(text: str) -> str:
    """The framework's message, cut to its first sentence and ``DETAIL_LIMIT`` characters."""
    line = " ".join(text.split())
    sentence = line.split(". ")[0].rstrip(".") + "." if line else ""
    return sentence if len(sentence) <= DETAIL_LIMIT else sentence[: DETAIL_LIMIT - 1] + "…"


def left_pytorch(how: str, detail: str) -> str:
    """The refusal of a forward pass that leaves PyTorch, PyTorch's own words last."""
    return LEFT_PYTORCH.format(CANNOT=CANNOT, how=how, detail=_first_sentence(detail))


def _numpy_call(error: BaseException) -> bool:
    """True for PyTorch refusing ``.numpy()`` on a tensor that requires a gradient."""
    return isinstance(error, RuntimeError) and "numpy()" in str(error)


def _conversion(caught: list[warnings.WarningMessage]) -> tuple[str, str] | None:
    """How the traced forward left PyTorch, read off its TracerWarnings, and the warning.

    ``caught`` holds only TracerWarnings (the filter in ``_trace``).
    """
    for record in caught:
        text = str(record.message)
        for needle, how in CONVERSIONS.items():
            if needle in text:
                return how, text
    return None


def _trace(torch: Any, layer: Any, spec: dict[str, Any]) -> Any:
    first, second = _placeholder(torch, spec, 1), _placeholder(torch, spec, 2)
    try:
        output = layer(first)
    except BaseException as error:  # the student's forward may raise anything
        if _numpy_call(error):
            raise NotExportable(left_pytorch(CONVERSIONS["to a NumPy array"], str(error))) from None
        raise StageError("forward", error) from None
    if not isinstance(output, torch.Tensor):
        raise NotExportable(
            f"o forward devolveu {type(output).__name__}, não um torch.Tensor: devolva o "
            "tensor calculado pelo PyTorch (sem converter para NumPy ou listas)"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("ignore")  # none is shown; TracerWarnings are kept: they say why
        warnings.filterwarnings("always", category=torch.jit.TracerWarning)
        try:
            traced = torch.jit.trace(layer, first, check_inputs=[(second,)], check_tolerance=1e-4)
        except torch.jit.TracingCheckError:
            conversion = _conversion(caught)
            if conversion is not None:
                raise NotExportable(left_pytorch(*conversion)) from None
            raise NotExportable(
                f"{CANNOT}: o grafo muda com os valores da entrada; {HINT}"
            ) from None
        except BaseException as error:
            raise NotExportable(_trace_failure(error)) from None
    return traced


def _trace_failure(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    if "requires grad as a constant" in text:
        return (
            "a camada usa um tensor que exige gradiente mas não é um parâmetro registrado: "
            "crie o peso com nn.Parameter(...) no __init__"
        )
    return f"{CANNOT} (torch.jit.trace: {type(error).__name__}: {text}); {HINT}"


def export_layer(
    layer_class: type, exercise: str, spec: dict[str, Any], folder: str
) -> dict[str, Any]:
    """Trace the layer and save it in ``folder``; return the metadata for the evaluator."""
    import torch

    layer = construct(layer_class, exercise, spec.get("sizes"))
    if not isinstance(layer, torch.nn.Module):
        raise NotExportable(f"{exercise} deve herdar de torch.nn.Module")
    try:
        params = parameters(layer)
    except BaseException as error:
        raise StageError("parameters", error) from None
    traced = _trace(torch, layer, spec)
    try:
        torch.jit.save(traced, os.path.join(folder, GRAPH_FILE))
    except BaseException as error:
        raise NotExportable(
            f"{CANNOT}: o grafo traçado não pôde ser salvo ({type(error).__name__}); {HINT}"
        ) from None
    return {"file": GRAPH_FILE, "params": params, "weight": weight_name(params)}
