"""Apply one exported graph to one trusted request and turn any failure into plain data."""

from __future__ import annotations

from typing import Any

try:
    from grading.evaluator.refusal import GraphRefused
except ImportError:  # copied alone into the sandbox
    from refusal import GraphRefused

MESSAGE_LIMIT = 400


def _message(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].startswith("Traceback"):
        lines = lines[-1:]  # MXNet puts its C++ traceback in the message
    text = " ".join(lines)
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def _failure(stage: str, kind: str, error: BaseException) -> dict[str, Any]:
    return {"params": None, "error": {"stage": stage, "type": kind, "message": _message(error)}}


def apply_graph(module: Any, folder: str, metadata: Any, request: dict[str, Any]) -> dict:
    """``module.evaluate`` on the graph in ``folder``; errors become ``{"error": ...}``."""
    try:
        if not isinstance(metadata, dict):
            raise GraphRefused("metadados do grafo ausentes ou mal formados")
        return module.evaluate(folder, metadata, request)
    except GraphRefused as error:
        return _failure("load", "GrafoRecusado", error)
    except LookupError as error:
        return _failure("set_weight", type(error).__name__, error)
    except Exception as error:  # the graph failed on these inputs (shapes, dtypes, ...)
        return _failure("evaluate", type(error).__name__, error)
