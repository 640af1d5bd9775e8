"""Worked examples for the statements, computed (never typed in) from the NumPy reference.

Exercise 1 gets a hand-sized reduction, term by term; exercise 2 gets the coefficients of an
odd and an even signal, the MXNet layout of the first one and a figure of both.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from solutions import reference

# Exercise 1: in_units = 2, units = 2, a batch of one example.
REDUCTION_X = np.array([[1, 2]])
REDUCTION_WEIGHT = np.stack([[[1, 0], [2, -1]], [[0, 1], [1, 3]]], axis=-1)

# Exercise 2: one odd and one even signal.
FOURIER_SIGNALS = (np.array([1, 2, 0, -1, 3]), np.array([1, 2, 0, 3]))

FIGURE_ALT = "Módulo dos coeficientes de Fourier dos dois sinais de exemplo"


def format_number(value: float) -> str:
    """A real number with at most three decimals and no trailing zeros (``-0`` is ``0``)."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_complex(value: complex) -> str:
    """``a + bi`` with :func:`format_number` parts; a real value is written alone."""
    real, imag = format_number(value.real), format_number(value.imag)
    if imag == "0":
        return real
    sign = "-" if imag.startswith("-") else "+"
    return f"{real} {sign} {imag.lstrip('-')}i"


def _array_literal(array: np.ndarray) -> str:
    """``[[1, 0], [2, -1]]``: the nested-list literal, on one line."""
    return str(np.asarray(array).tolist())


def tensor_reduction_example() -> str:
    """Markdown: the reduction of :data:`REDUCTION_X` worked out term by term."""
    X, weight = REDUCTION_X, REDUCTION_WEIGHT
    in_units, units = weight.shape[0], weight.shape[2]
    Y = reference.tensor_reduction(weight, X).round().astype(int)
    header = ["`i`", "`j`", "`X[0, i] · X[0, j]`"]
    for k in range(units):
        header += [f"`weight[i, j, {k}]`", f"termo de `Y[0, {k}]`"]
    rows = []
    for i in range(in_units):
        for j in range(in_units):
            product = X[0, i] * X[0, j]
            row = [str(i), str(j), str(product)]
            for k in range(units):
                row += [str(weight[i, j, k]), str(weight[i, j, k] * product)]
            rows.append(row)
    total = ["**soma**", "", ""]
    for k in range(units):
        total += ["", f"**{Y[0, k]}**"]
    table = [header, ["---"] * len(header), *rows, total]
    weights = ", ".join(
        f"`weight[:, :, {k}] = {_array_literal(weight[:, :, k])}`" for k in range(units)
    )
    lines = [
        "### Exemplo resolvido à mão",
        "",
        f"Com `in_units = {in_units}`, `units = {units}`, um lote de um só exemplo",
        f"`X = {_array_literal(X)}` e {weights}, os termos da soma são:",
        "",
        *("| " + " | ".join(row) + " |" for row in table),
        "",
        f"A saída é `Y = {_array_literal(Y)}`, de forma `{Y.shape}`, ou seja, `(batch, units)`.",
    ]
    return "\n".join(lines)


def _coefficient_table(X: np.ndarray) -> list[str]:
    n = X.shape[-1]
    m = reference.leading_half_size(n)
    C = np.fft.fft(X)
    rows = ["| `k` | $C_k$ | na saída? |", "|---|---|---|"]
    for k, value in enumerate(C):
        if k < m:
            note = "sim"
        elif 2 * k == n:
            note = "não: termo de Nyquist"
        else:
            note = f"não: conjugado de $C_{{{n - k}}}$"
        rows.append(f"| {k} | {format_complex(value)} | {note} |")
    return rows


def fourier_half_example(figure_path: str) -> str:
    """Markdown: both example signals' coefficients, the MXNet layout and the figure."""
    odd, even = FOURIER_SIGNALS
    odd_m, even_m = (reference.leading_half_size(X.shape[-1]) for X in FOURIER_SIGNALS)
    layout = reference.as_real_imaginary(reference.fourier_half(odd))
    layout_rows = [
        f"| {k} | {format_number(layout[k, 0])} | {format_number(layout[k, 1])} |"
        for k in range(odd_m)
    ]
    lines = [
        "### Exemplo pequeno",
        "",
        f"Para o sinal `X = {_array_literal(odd)}`, com $n = {odd.size}$ (ímpar), a camada",
        f"devolve os $m = {odd_m}$ primeiros coeficientes (valores arredondados a três casas):",
        "",
        *_coefficient_table(odd),
        "",
        f"No MXNet, a saída para esse `X` é um array real de forma `({odd_m}, 2)`:",
        "",
        "| `k` | `[k, 0]`: parte real | `[k, 1]`: parte imaginária |",
        "|---|---|---|",
        *layout_rows,
        "",
        f"Para `X = {_array_literal(even)}`, com $n = {even.size}$ (par), $m = {even_m}$:",
        "",
        *_coefficient_table(even),
        "",
        f"![{FIGURE_ALT}]({figure_path})",
        "",
        "Em azul, os coeficientes que a camada devolve; em cinza, os que são conjugados de",
        "coeficientes já devolvidos; em laranja, o termo de Nyquist de $n$ par.",
    ]
    return "\n".join(lines)


def render_fourier_figure() -> bytes:
    """PNG bytes of the example signals' |C_k|, coloured by kept / mirrored / Nyquist.

    Rendered with Agg, default style and no metadata, so the bytes depend only on the
    pinned matplotlib and the data.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    colours = {"kept": "tab:blue", "mirror": "tab:gray", "nyquist": "tab:orange"}
    labels = {"kept": "devolvidos", "mirror": "conjugados", "nyquist": "Nyquist"}
    with matplotlib.rc_context(matplotlib.rcParamsDefault):
        figure = Figure(figsize=(8, 2.8), dpi=100, layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.subplots(1, len(FOURIER_SIGNALS), sharey=True)
        for ax, X in zip(axes, FOURIER_SIGNALS, strict=True):
            n = X.size
            m = reference.leading_half_size(n)
            magnitude = np.abs(np.fft.fft(X))
            for k in range(n):
                kind = "kept" if k < m else "nyquist" if 2 * k == n else "mirror"
                ax.bar(k, magnitude[k], color=colours[kind], width=0.6)
            ax.set_xticks(range(n))
            ax.set_xlabel("$k$")
            ax.set_title(rf"$n = {n}$: $m = \lceil n/2 \rceil = {m}$")
        axes[0].set_ylabel("$|C_k|$")
        handles = [Patch(color=colours[kind], label=labels[kind]) for kind in colours]
        axes[-1].legend(handles=handles, loc="upper right")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def write_fourier_figure(path: Path) -> None:
    """Write :func:`render_fourier_figure` to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render_fourier_figure())
