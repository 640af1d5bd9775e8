"""Plain data between the trusted side and the child: JSON metadata and ``.npy`` arrays.

Everything the child sends back passes through ``sanitize_response``: arrays become base
``numpy.ndarray`` objects of a whitelisted dtype and bounded size (an always-equal object or
an ndarray subclass cannot survive), every other field is checked for type and length.
Files are read with size caps and ``allow_pickle=False``. The in-process runner uses the
same sanitising, so both runners judge exactly the same kind of data.
"""

from __future__ import annotations

import io
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from grading.evaluator.files import UnreadableFile, read_regular

ALLOWED_DTYPES = frozenset(
    np.dtype(name)
    for name in (
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "complex64",
        "complex128",
    )
)
ARRAY_NAMES = ("output", "weight", "grad_X", "grad_weight")
MAX_ARRAY_BYTES = 8 * 1024 * 1024
MAX_ARRAY_DIMS = 8
MAX_JSON_BYTES = 256 * 1024
MAX_PARAMS = 64
MAX_TEXT = 400
STAGES = (
    "export",
    "load",
    "evaluate",
    "construct",
    "build",
    "parameters",
    "set_weight",
    "forward",
    "backward",
    "output",
    "gradient",
)


class IPCError(ValueError):
    """Data from the child that is not plain, small, well-formed data."""


def plain_array(value: Any) -> np.ndarray:
    """A base-class ``ndarray`` copy of ``value``, or ``IPCError``."""
    if not isinstance(value, np.ndarray):
        raise IPCError(f"esperado um array, obtido {type(value).__name__}")
    base = np.ndarray.view(value, np.ndarray)  # the C method: no subclass code runs
    if base.dtype not in ALLOWED_DTYPES:
        raise IPCError(f"tipo de dados não aceito: {base.dtype}")
    if base.ndim > MAX_ARRAY_DIMS or base.nbytes > MAX_ARRAY_BYTES:
        raise IPCError(f"array grande demais: forma {base.shape}")
    return np.ndarray.copy(base)


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise IPCError("texto esperado")
    return value[:limit]


def _params(value: Any) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_PARAMS:
        raise IPCError("lista de parâmetros inválida")
    params = []
    for item in value:
        if not isinstance(item, dict):
            raise IPCError("parâmetro inválido")
        shape = item.get("shape")
        if not isinstance(shape, list) or len(shape) > MAX_ARRAY_DIMS:
            raise IPCError("forma de parâmetro inválida")
        if not all(type(n) is int and 0 <= n < 2**31 for n in shape):
            raise IPCError("forma de parâmetro inválida")
        params.append(
            {
                "name": _text(item.get("name"), 200),
                "shape": list(shape),
                "trainable": item.get("trainable") is True,
            }
        )
    return params


def _error(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("stage") not in STAGES:
        raise IPCError("erro mal formado")
    return {
        "stage": value["stage"],
        "type": _text(value.get("type"), 100),
        "message": _text(value.get("message")),
    }


def sanitize_response(raw: Any) -> dict[str, Any]:
    """Validate a probe response; a malformed one becomes an ``output`` error."""
    try:
        if not isinstance(raw, dict):
            raise IPCError("resposta não é um dicionário")
        response: dict[str, Any] = {
            "params": _params(raw.get("params")),
            "weight_named": raw.get("weight_named") is True,
            "output_is_tensor": raw.get("output_is_tensor") is True,
            "error": _error(raw.get("error")),
        }
        for name in ARRAY_NAMES:
            if raw.get(name) is not None:
                response[name] = plain_array(raw[name])
        return response
    except IPCError as problem:
        error = {"stage": "output", "type": "DadosInválidos", "message": str(problem)}
        return {"params": None, "weight_named": False, "output_is_tensor": False, "error": error}


# --- files ------------------------------------------------------------------------------


def write_request_files(directory: Path, probes: list[dict[str, Any]]) -> None:
    """Write ``requests.json`` and one ``.npy`` per input array for the child to read."""
    entries = []
    for probe in probes:
        entry = {key: value for key, value in probe.items() if not isinstance(value, np.ndarray)}
        entry["arrays"] = {}
        for key, value in probe.items():
            if isinstance(value, np.ndarray):
                name = f"{probe['id']}.{key}.npy"
                np.save(directory / name, value, allow_pickle=False)
                entry["arrays"][key] = name
                entry.pop(key, None)
        entries.append(entry)
    (directory / "requests.json").write_text(json.dumps(entries), encoding="utf-8")


def _open_regular(path: Path, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file no larger than ``limit``."""
    try:
        return read_regular(str(path), limit)
    except UnreadableFile as problem:
        raise IPCError(str(problem)) from None


def _parse_array(data: bytes, name: str) -> np.ndarray:
    """An array from ``.npy`` bytes; the header is checked before anything is allocated."""
    handle = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, _fortran, dtype = np.lib.format.read_array_header_1_0(handle)
        elif version == (2, 0):
            shape, _fortran, dtype = np.lib.format.read_array_header_2_0(handle)
        else:
            raise IPCError(f"versão de .npy não aceita: {name}")
    except IPCError:
        raise
    except Exception:  # numpy raises ValueError and friends on a bad header
        raise IPCError(f"cabeçalho .npy inválido: {name}") from None
    if dtype not in ALLOWED_DTYPES:
        raise IPCError(f"tipo de dados não aceito: {dtype}")
    if len(shape) > MAX_ARRAY_DIMS or not all(type(n) is int and n >= 0 for n in shape):
        raise IPCError(f"forma inválida: {name}")
    nbytes = dtype.itemsize * math.prod(shape)
    if nbytes > MAX_ARRAY_BYTES or nbytes != len(data) - handle.tell():
        raise IPCError(f"array grande demais ou truncado: {name}")
    handle.seek(0)
    return plain_array(np.load(handle, allow_pickle=False))


def _load_array(path: Path) -> np.ndarray:
    return _parse_array(_open_regular(path, MAX_ARRAY_BYTES + 4096), path.name)


def _refuse_constant(name: str) -> Any:
    raise IPCError(f"número não finito: {name}")


def _plain_json(value: Any, depth: int = 0) -> Any:
    """``value`` if it is plain JSON data (dicts with string keys, lists, scalars), shallow."""
    if depth > 8:
        raise IPCError("metadados aninhados demais")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [_plain_json(item, depth + 1) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: _plain_json(item, depth + 1) for key, item in value.items()}
    raise IPCError("metadados mal formados")


def read_export(directory: Path, probe_id: str) -> dict[str, Any]:
    """``{"metadata": ...}`` or ``{"error": ...}`` from the student's ``<id>.json``.

    The student process wrote it: the metadata is checked only as small plain JSON here;
    the evaluator validates what it uses before it touches a graph.
    """
    try:
        data = _open_regular(directory / f"{probe_id}.json", MAX_JSON_BYTES)
        raw = json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
        if not isinstance(raw, dict):
            raise IPCError("metadados mal formados")
        if raw.get("error") is not None:
            return {"error": _error(raw["error"])}
        metadata = _plain_json(raw.get("metadata"))
        if not isinstance(metadata, dict):
            raise IPCError("metadados mal formados")
        return {"metadata": metadata}
    except (IPCError, OSError, ValueError, RecursionError, UnicodeDecodeError) as problem:
        return {"error": {"stage": "export", "type": "DadosInválidos", "message": str(problem)}}


def read_response(directory: Path, probe_id: str) -> dict[str, Any] | None:
    """The sanitised response the child wrote for ``probe_id``; ``None`` if there is none."""
    meta_path = directory / f"{probe_id}.json"
    if not os.path.lexists(meta_path):
        return None
    try:
        data = _open_regular(meta_path, MAX_JSON_BYTES).decode("utf-8")
        raw = json.loads(data, parse_constant=_refuse_constant)
        if not isinstance(raw, dict) or not isinstance(raw.get("arrays", {}), dict):
            raise IPCError("metadados mal formados")
        for name, file_name in raw.pop("arrays", {}).items():
            expected = f"{probe_id}.{name}.npy"
            if name not in ARRAY_NAMES or file_name != expected:
                raise IPCError(f"array inesperado: {name}")
            raw[name] = _load_array(directory / expected)
    except (IPCError, OSError, ValueError, RecursionError) as problem:
        raw = {"error": {"stage": "output", "type": "DadosInválidos", "message": str(problem)}}
    return sanitize_response(raw)
