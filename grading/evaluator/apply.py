"""Apply one exported graph to one trusted request and turn any failure into plain data."""

from __future__ import annotations

from typing import Any

try:
    from grading.child.exportable import clean_message
    from grading.evaluator.refusal import GraphRefused
except ImportError:  # copied into the sandbox, beside exportable.py and refusal.py
    from exportable import clean_message
    from refusal import GraphRefused


def _failure(stage: str, kind: str, error: BaseException) -> dict[str, Any]:
    return {
        "params": None,
        "error": {"stage": stage, "type": kind, "message": clean_message(error)},
    }


def apply_graph(
    module: Any,
    folder: str,
    metadata: Any,
    request: dict[str, Any],
    loaded: dict[str, Any] | None = None,
) -> dict:
    """``module.evaluate`` on the graph in ``folder``; errors become ``{"error": ...}``.

    ``loaded`` keeps the graphs one submission's jobs share (see ``eval_tensorflow``).
    """
    try:
        if not isinstance(metadata, dict):
            raise GraphRefused("metadados do grafo ausentes ou mal formados")
        return module.evaluate(folder, metadata, request, {} if loaded is None else loaded)
    except GraphRefused as error:
        return _failure("load", "GrafoRecusado", error)
    except LookupError as error:
        return _failure("set_weight", type(error).__name__, error)
    except Exception as error:  # the graph failed on these inputs (shapes, dtypes, ...)
        return _failure("evaluate", type(error).__name__, error)
