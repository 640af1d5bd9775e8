"""The named checks of each exercise: inputs drawn from a seed, and a judge for the answer.

A check never runs student code. ``Check.request(seed)`` gives the plain-data request a
probe (``grading.child.probe``) applies to the student's layer; ``Check.judge`` compares the
probe's plain arrays with ``solutions.reference``; when they differ, the message ends with
the hint of ``grading.hints`` that names the mistake, if it recognises one. The in-process
runner (``grading.inprocess``) and the sandboxed runner (``grading.grader``) share this
module.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from grading import hints
from grading.results import CheckResult
from solutions import reference

EXERCISES: tuple[str, ...] = ("TensorReduction", "FourierHalf")
# With 2048 weights, the largest |w - mean| of a normal sample is below 2.3 standard
# deviations with probability about e**-44; a uniform sample's stays near sqrt(3) = 1.73
# (its standard deviation would have to be underestimated by 25% to reach 2.3).
NORMAL_TAIL = 2.3
PARAMETER_SIZES = {"in_units": 16, "units": 8}
NOT_IMPLEMENTED = "ainda não implementado"
STAGES = {
    "export": "ao exportar a camada como grafo",
    "load": "ao carregar o grafo exportado",
    "evaluate": "ao aplicar o grafo exportado às entradas da correção",
    "construct": "no construtor",
    "build": "na primeira chamada da camada",
    "parameters": "ao ler os parâmetros",
    "set_weight": "ao trocar o peso",
    "forward": "no forward",
    "output": "ao ler a saída",
    "backward": "no cálculo do gradiente (backward)",
    "gradient": "ao ler o gradiente",
}
TENSOR_NAMES = {"pytorch": "torch.Tensor", "mxnet": "mxnet.nd.NDArray", "tensorflow": "tf.Tensor"}


@dataclass(frozen=True)
class Verdict:
    """A judge's answer: ``message`` is empty when the check passed."""

    status: str  # "passed" | "failed" | "not_implemented" | "timeout"
    message: str = ""


PASSED = Verdict("passed")

Request = dict[str, Any]
Response = dict[str, Any]


@dataclass(frozen=True)
class Check:
    """One named check: ``points`` of the exercise's 10, a request maker and a judge."""

    exercise: str
    key: str
    title: str
    points: float
    make: Callable[[np.random.Generator], Request]
    judge: Callable[[Request, Response, str], Verdict]

    def request(self, seed: int) -> Request:
        """The check's inputs for ``seed``, the same for every framework."""
        index = [check.key for check in CHECKS[self.exercise]].index(self.key)
        rng = np.random.default_rng([seed, zlib.crc32(self.exercise.encode()), index])
        return {"exercise": self.exercise, **self.make(rng)}

    def evaluate(self, request: Request, response: Response, framework: str) -> CheckResult:
        """Judge a probe's response and turn the verdict into points."""
        verdict = _error_verdict(response) or self.judge(request, response, framework)
        return CheckResult(
            exercise=self.exercise,
            framework=framework,
            key=self.key,
            title=self.title,
            max_points=self.points,
            points=self.points if verdict.status == "passed" else 0.0,
            status=verdict.status,
            message=verdict.message,
        )

    def unanswered(self, framework: str, status: str, message: str) -> CheckResult:
        """The result of a check whose probe never came back (timeout, crash)."""
        return CheckResult(
            self.exercise, framework, self.key, self.title, self.points, 0.0, status, message
        )


def _error_verdict(response: Response) -> Verdict | None:
    """A failed verdict when the layer raised; ``None`` when it did not."""
    error = response.get("error")
    if not error:
        return None
    if error["type"] == "NotImplementedError":
        return Verdict("not_implemented", NOT_IMPLEMENTED)
    if error["type"] == "SoftTimeout":
        return Verdict("timeout", "tempo esgotado: a verificação passou do limite de tempo")
    if error["type"] == "NotExportable":
        return Verdict("failed", error["message"])  # the exporter's own full sentence
    if error["type"] == "GrafoRecusado":
        return Verdict("failed", f"grafo recusado pelo corretor: {error['message']}")
    where = STAGES.get(error["stage"], error["stage"])
    detail = f": {error['message']}" if error["message"] else ""
    return Verdict("failed", f"a camada levantou {error['type']} {where}{detail}")


def _fmt(value: Any) -> str:
    """A number as the messages print it: 4 significant digits, complex included."""
    if np.iscomplexobj(value):
        return f"{complex(value):.4g}"
    return f"{float(value):.4g}"


def compare(expected: np.ndarray, got: np.ndarray | None, what: str) -> str:
    """Empty string when ``got`` matches ``expected`` within tolerance, else a hint."""
    if got is None:
        return f"{what}: nada foi devolvido"
    if got.shape != expected.shape:
        return f"{what}: forma esperada {tuple(expected.shape)}, obtida {tuple(got.shape)}"
    if got.dtype.kind not in "fciub":
        return f"{what}: tipo {got.dtype} não é numérico"
    if not np.all(np.isfinite(got)):
        return f"{what}: contém NaN ou Inf"
    if not np.iscomplexobj(expected) and np.iscomplexobj(got):
        return f"{what}: esperado real, obtido complexo ({got.dtype})"
    close = hints.close(expected, got)
    if close.all():
        return ""
    wrong = np.argwhere(~close)
    first = tuple(int(i) for i in wrong[0])
    values = f"esperado {_fmt(expected[first])}, obtido {_fmt(got[first])}"
    if close.size == 1:
        return f"{what}: o valor difere da referência: {values}"
    if len(wrong) == 1:
        return f"{what}: 1 de {close.size} valores difere da referência, em {list(first)}: {values}"
    return (
        f"{what}: {len(wrong)} de {close.size} valores diferem da referência; o primeiro em "
        f"{list(first)}: {values}"
    )


def _with_hint(message: str, hint: str) -> str:
    """A comparison's message followed by the hint that names the mistake, if any."""
    return f"{message}. {hint}" if message and hint else message


def _verdict(message: str) -> Verdict:
    return Verdict("failed", message) if message else PASSED


# --- TensorReduction -------------------------------------------------------------------


def _reduction_sizes(rng: np.random.Generator, batch: int | None = None) -> dict[str, int]:
    in_units = int(rng.integers(3, 7))
    units = int(rng.choice([u for u in range(2, 7) if u != in_units]))
    return {"in_units": in_units, "units": units, "batch": batch or int(rng.integers(2, 6))}


def _reduction_request(
    rng: np.random.Generator,
    *,
    batch: int | None = None,
    set_weight: bool,
    grad: bool,
    sizes: dict[str, int] | None = None,
) -> Request:
    sizes = {**_reduction_sizes(rng, batch), **(sizes or {})}
    n, k = sizes["in_units"], sizes["units"]
    X = rng.standard_normal((sizes["batch"], n)).astype(np.float32)
    W = rng.standard_normal((n, n, k)).astype(np.float32) if set_weight else None
    G = rng.standard_normal((sizes["batch"], k)).astype(np.float32) if grad else None
    return {"sizes": sizes, "X": X, "set_weight": W, "grad_output": G, "want_grad": grad}


def _weight_used(request: Request, response: Response) -> tuple[np.ndarray | None, str]:
    """The weight the output must follow: the one sent, else the one read from the layer."""
    if request.get("set_weight") is not None:
        return request["set_weight"], ""
    weight = response.get("weight")
    sizes = request["sizes"]
    shape = (sizes["in_units"], sizes["in_units"], sizes["units"])
    if weight is None:
        return None, "parâmetro weight não encontrado na camada"
    if weight.shape != shape:
        return None, f"weight: forma esperada {shape}, obtida {tuple(weight.shape)}"
    return weight, ""


def _judge_reduction_shape(request: Request, response: Response, framework: str) -> Verdict:
    sizes = request["sizes"]
    out = response.get("output")
    expected = (sizes["batch"], sizes["units"])
    if out is None:
        return Verdict("failed", "a camada não devolveu saída")
    if out.shape != expected:
        return Verdict("failed", f"forma esperada {expected}, obtida {tuple(out.shape)}")
    if out.dtype.kind != "f":
        return Verdict("failed", f"tipo esperado float32 (ou float64), obtido {out.dtype}")
    if not response.get("output_is_tensor"):
        return Verdict("failed", f"a saída deve ser um {TENSOR_NAMES[framework]}")
    return PASSED


def _judge_reduction_values(request: Request, response: Response, framework: str) -> Verdict:
    weight, problem = _weight_used(request, response)
    if weight is None:
        return Verdict("failed", problem)
    expected = reference.tensor_reduction(weight, request["X"])
    got = response.get("output")
    message = compare(expected, got, "saída")
    return _verdict(_with_hint(message, hints.reduction_values(expected, got) if message else ""))


def _output_shape_problem(request: Request, got: np.ndarray, framework: str) -> str:
    """``forma esperada ..., obtida ...`` (with the hint) when the output's shape is wrong."""
    if request["exercise"] == "FourierHalf":
        return _fourier_shape_problem(request["X"], got, framework)
    expected = reference.tensor_reduction(request["set_weight"], request["X"])
    if got.shape == expected.shape:
        return ""
    return f"forma esperada {tuple(expected.shape)}, obtida {tuple(got.shape)}"


def _output_values_hint(request: Request, got: np.ndarray, framework: str) -> str:
    """The known mistake an output of the right shape shows; ``""`` if right or unknown."""
    X = request["X"]
    if request["exercise"] == "FourierHalf":
        expected = _fourier_expected(X, framework)
        wrong = compare(expected, got, "")
        return hints.fourier_values(X, got, framework == "mxnet") if wrong else ""
    expected = reference.tensor_reduction(request["set_weight"], X)
    return hints.reduction_values(expected, got) if compare(expected, got, "") else ""


def _judge_gradient(
    request: Request, response: Response, framework: str, expected: np.ndarray, key: str
) -> Verdict:
    """A gradient (``key``: ``grad_X`` or ``grad_weight``) against ``expected``.

    The output is looked at first: one of the wrong shape is the whole message (the
    gradient of a wrong output says nothing more), and a known mistake in its values is
    named after the gradient's own message.
    """
    output = response.get("output")
    if output is not None:
        shape = _output_shape_problem(request, output, framework)
        if shape:
            return Verdict(
                "failed", f"gradiente não comparado, porque a saída tem a forma errada: {shape}"
            )
    got = response.get(key)
    if got is None:
        return Verdict("failed", MISSING_GRADIENT[key])
    message = compare(expected, got, f"gradiente de {key.removeprefix('grad_')}")
    hint = _output_values_hint(request, output, framework) if message and output is not None else ""
    return _verdict(f"{message}. A saída já está errada. {hint}" if hint else message)


MISSING_GRADIENT = {
    "grad_weight": (
        "gradiente em relação a weight ausente: o peso precisa participar do grafo de "
        "autograd (sem .data, detach ou cópias em NumPy)"
    ),
    "grad_X": "gradiente em relação à entrada X ausente",
}


def _judge_weight_grad(request: Request, response: Response, framework: str) -> Verdict:
    expected = reference.tensor_reduction_weight_grad(request["X"], request["grad_output"])
    return _judge_gradient(request, response, framework, expected, "grad_weight")


def _judge_input_grad(request: Request, response: Response, framework: str) -> Verdict:
    X = request["X"]
    if request["exercise"] == "TensorReduction":
        expected = reference.tensor_reduction_input_grad(
            request["set_weight"], X, request["grad_output"]
        )
    else:
        expected = reference.fourier_half_input_grad(X)
    return _judge_gradient(request, response, framework, expected, "grad_X")


def _judge_registered(request: Request, response: Response, framework: str) -> Verdict:
    params = response.get("params") or []
    sizes = request["sizes"]
    shape = [sizes["in_units"], sizes["in_units"], sizes["units"]]
    names = [p["name"] for p in params]
    if not response.get("weight_named") or response.get("weight") is None:
        found = ", ".join(names) or "nenhum"
        return Verdict("failed", f"nenhum parâmetro registrado chamado weight ({found})")
    weight = next((p for p in params if p["name"].split(":")[0].endswith("weight")), None)
    if weight is None:  # the child's flag and its (truncated) names disagree
        found = ", ".join(names) or "nenhum"
        return Verdict("failed", f"nenhum parâmetro registrado chamado weight ({found})")
    if weight["shape"] != shape:
        return Verdict("failed", f"weight: forma esperada {tuple(shape)}, obtida {weight['shape']}")
    if not weight["trainable"]:
        return Verdict("failed", "weight está registrado mas não é treinável")
    extra = [name for name in names if name != weight["name"]]
    if extra:
        extra_names = ", ".join(extra)
        return Verdict("failed", f"parâmetros inesperados: {extra_names} (só weight é pedido)")
    weights = response["weight"].astype(np.float64)
    if not np.all(np.isfinite(weights)):
        return Verdict("failed", "weight contém NaN ou infinito: inicialize-o com uma normal")
    spread = float(np.std(weights)) if weights.size else 0.0
    if spread == 0.0 or float(np.max(np.abs(weights - weights.mean()))) < NORMAL_TAIL * spread:
        return Verdict(
            "failed",
            "weight não parece vir de uma distribuição normal (valores constantes ou "
            "uniformes): inicialize-o com uma normal",
        )
    return PASSED


TENSOR_REDUCTION: tuple[Check, ...] = (
    Check(
        "TensorReduction",
        "shape",
        "forma e tipo da saída",
        1.0,
        lambda rng: _reduction_request(rng, set_weight=False, grad=False),
        _judge_reduction_shape,
    ),
    Check(
        "TensorReduction",
        "values",
        "valores com o peso inicial",
        2.0,
        lambda rng: _reduction_request(rng, set_weight=False, grad=False),
        _judge_reduction_values,
    ),
    Check(
        "TensorReduction",
        "new_weight",
        "valores depois de trocar o peso",
        2.0,
        lambda rng: _reduction_request(rng, set_weight=True, grad=False),
        _judge_reduction_values,
    ),
    Check(
        "TensorReduction",
        "weight_grad",
        "gradiente em relação ao peso",
        1.5,
        lambda rng: _reduction_request(rng, set_weight=True, grad=True),
        _judge_weight_grad,
    ),
    Check(
        "TensorReduction",
        "input_grad",
        "gradiente em relação à entrada",
        1.5,
        lambda rng: _reduction_request(rng, set_weight=True, grad=True),
        _judge_input_grad,
    ),
    Check(
        "TensorReduction",
        "batch_one",
        "lote de tamanho 1",
        1.0,
        lambda rng: _reduction_request(rng, batch=1, set_weight=True, grad=False),
        _judge_reduction_values,
    ),
    Check(
        "TensorReduction",
        "parameter",
        "parâmetro weight registrado, treinável e de inicialização normal",
        1.0,
        lambda rng: _reduction_request(rng, set_weight=False, grad=False, sizes=PARAMETER_SIZES),
        _judge_registered,
    ),
)

# --- FourierHalf ------------------------------------------------------------------------


def _fourier_request(
    rng: np.random.Generator, shape: tuple[int, ...], grad: bool = False
) -> Request:
    X = rng.standard_normal(shape).astype(np.float32)
    return {"X": X, "set_weight": None, "grad_output": None, "want_grad": grad}


def _even(rng: np.random.Generator) -> int:
    return 2 * int(rng.integers(3, 9))


def _odd(rng: np.random.Generator) -> int:
    return 2 * int(rng.integers(2, 8)) + 1


def _batch(rng: np.random.Generator) -> int:
    return int(rng.integers(2, 5))


def _fourier_expected(X: np.ndarray, framework: str) -> np.ndarray:
    coefficients = reference.fourier_half(X)
    return reference.as_real_imaginary(coefficients) if framework == "mxnet" else coefficients


def _fourier_shape_problem(X: np.ndarray, got: np.ndarray, framework: str) -> str:
    """``forma esperada ..., obtida ...: <why>`` for coefficients of the wrong shape; or ``""``."""
    expected = _fourier_expected(X, framework)
    if got.shape == expected.shape:
        return ""
    why = hints.fourier_shape(X, got, framework == "mxnet")
    return f"forma esperada {tuple(expected.shape)}, obtida {tuple(got.shape)}: {why}"


def _coefficient_type(X: np.ndarray, out: np.ndarray, framework: str) -> str:
    """The problem with the coefficients' dtype, with the hint on their values; else ``""``."""
    if framework == "mxnet" and out.dtype.kind != "f":
        return f"tipo esperado float32 (real e imaginária), obtido {out.dtype}"
    if framework != "mxnet" and out.dtype.kind != "c":
        problem = f"tipo esperado complexo (complex64), obtido {out.dtype}"
        return _with_hint(problem, hints.fourier_values(X, out, False))
    return ""


def _judge_fourier_shape(request: Request, response: Response, framework: str) -> Verdict:
    out = response.get("output")
    if out is None:
        return Verdict("failed", "a camada não devolveu saída")
    problem = _fourier_shape_problem(request["X"], out, framework) or _coefficient_type(
        request["X"], out, framework
    )
    if problem:
        return Verdict("failed", problem)
    if not response.get("output_is_tensor"):
        return Verdict("failed", f"a saída deve ser um {TENSOR_NAMES[framework]}")
    return PASSED


def _judge_fourier_values(request: Request, response: Response, framework: str) -> Verdict:
    X, got = request["X"], response.get("output")
    shape = _fourier_shape_problem(X, got, framework) if got is not None else ""
    if shape:
        return Verdict("failed", f"coeficientes: {shape}")
    message = compare(_fourier_expected(X, framework), got, "coeficientes")
    hint = hints.fourier_values(X, got, framework == "mxnet") if message else ""
    return _verdict(_with_hint(message, hint))


def _judge_fourier_tiny(request: Request, response: Response, framework: str) -> Verdict:
    """n = 1: the one coefficient equals the input, so ``return X`` must not pass."""
    X, out = request["X"], response.get("output")
    if out is not None and not _fourier_shape_problem(X, out, framework):
        problem = _coefficient_type(X, out, framework)
        if problem:
            return Verdict("failed", problem)
    return _judge_fourier_values(request, response, framework)


FOURIER_HALF: tuple[Check, ...] = (
    Check(
        "FourierHalf",
        "shape",
        "forma e tipo da saída",
        1.5,
        lambda rng: _fourier_request(rng, (_batch(rng), _even(rng))),
        _judge_fourier_shape,
    ),
    Check(
        "FourierHalf",
        "even",
        "valores com n par",
        2.0,
        lambda rng: _fourier_request(rng, (_batch(rng), _even(rng))),
        _judge_fourier_values,
    ),
    Check(
        "FourierHalf",
        "odd",
        "valores com n ímpar",
        2.0,
        lambda rng: _fourier_request(rng, (_batch(rng), _odd(rng))),
        _judge_fourier_values,
    ),
    Check(
        "FourierHalf",
        "leading_axes",
        "eixos à frente (lote, canais, n)",
        1.5,
        lambda rng: _fourier_request(rng, (_batch(rng), int(rng.integers(2, 4)), _odd(rng) + 1)),
        _judge_fourier_values,
    ),
    Check(
        "FourierHalf",
        "input_grad",
        "gradiente em relação à entrada",
        2.0,
        lambda rng: _fourier_request(rng, (_batch(rng), _even(rng) + 1), grad=True),
        _judge_input_grad,
    ),
    Check(
        "FourierHalf",
        "tiny",
        "lote de tamanho 1 e n = 1",
        1.0,
        lambda rng: _fourier_request(rng, (1, 1)),
        _judge_fourier_tiny,
    ),
)

CHECKS: dict[str, tuple[Check, ...]] = {
    "TensorReduction": TENSOR_REDUCTION,
    "FourierHalf": FOURIER_HALF,
}


def checks_for(exercise: str) -> tuple[Check, ...]:
    """The exercise's checks, in report order."""
    if exercise not in CHECKS:
        raise KeyError(f"unknown exercise {exercise!r}; expected one of {EXERCISES}")
    return CHECKS[exercise]
