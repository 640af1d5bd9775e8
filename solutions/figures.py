"""The solutions page's figures, generated from the NumPy reference and the benchmark's data.

``python -m solutions.figures`` rewrites both images in ``chapters/images/``:
``fourier-half.png`` (a signal and its leading Fourier coefficients, from
``solutions.reference``) and ``solutions-speed.png`` (the solution layers' speed, drawn from
``benchmarks/solutions-speed.json``, which ``benchmarks/bench_solutions.py`` writes: timings
are not reproducible, the drawing of given timings is). ``--check`` only says whether the
committed images are current. The book is built with execution off, so the images are
committed; a test regenerates them.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from pathlib import Path

import numpy as np

from solutions import reference, speed

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "chapters" / "images"
FOURIER_HALF_PNG = IMAGES / "fourier-half.png"
SPEED_PNG = IMAGES / "solutions-speed.png"
FOURIER_HALF_SIZE = (8, 3)  # inches, at 100 dpi
SPEED_SIZE = (9, 4.5)

SIZE_LABELS = {"small": "pequeno", "medium": "médio", "large": "grande"}
FRAMEWORK_LABELS = {"mxnet": "MXNet", "pytorch": "PyTorch", "tensorflow": "TensorFlow"}
FRAMEWORK_COLOURS = {"mxnet": "tab:blue", "pytorch": "tab:orange", "tensorflow": "tab:green"}
EXERCISE_STYLES = {
    "TensorReduction": {"linestyle": "-", "marker": "o"},
    "FourierHalf": {"linestyle": "--", "marker": "s"},
}


def example_signal(n: int = 32) -> np.ndarray:
    """Two sinusoids, 3 and 7 cycles over the window, plus a constant."""
    t = np.arange(n)
    return 0.5 + np.sin(2 * np.pi * 3 * t / n) + 0.5 * np.cos(2 * np.pi * 7 * t / n)


@contextlib.contextmanager
def new_figure(figsize: tuple[float, float]):
    """A figure on the Agg canvas under matplotlib's defaults, the same on every machine."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # Library defaults, not the user's matplotlibrc: the same bytes on every machine.
    with matplotlib.rc_context(matplotlib.rcParamsDefault):
        figure = Figure(figsize=figsize, dpi=100, layout="constrained")
        FigureCanvasAgg(figure)
        yield figure


def _png(draw, figsize: tuple[float, float]) -> bytes:
    """PNG bytes of the figure that ``draw(figure)`` fills."""
    with new_figure(figsize) as figure:
        draw(figure)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def draw_fourier_half(figure, n: int = 32) -> None:
    """The signal, and the magnitudes of its first ceil(n/2) Fourier coefficients."""
    from matplotlib.ticker import MaxNLocator

    x = example_signal(n)
    magnitudes = np.abs(reference.fourier_half(x))
    m = reference.leading_half_size(n)
    signal_axes, spectrum_axes = figure.subplots(1, 2)
    signal_axes.plot(np.arange(n), x, marker="o", markersize=3)
    signal_axes.set(title=f"Sinal $x$ ($n = {n}$)", xlabel="$t$", ylabel="$x[t]$")
    spectrum_axes.stem(np.arange(m), magnitudes)
    spectrum_axes.set(
        title=rf"$|C_k|$ para $k < \lceil n/2 \rceil = {m}$",
        xlabel="$k$",
        ylabel="$|C_k|$",
        xlim=(-0.5, m - 0.5),
    )
    for axes in (signal_axes, spectrum_axes):
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # t and k are integers
        axes.grid(alpha=0.3)


def fourier_half_png(n: int = 32) -> bytes:
    """The Fourier figure as PNG bytes."""
    return _png(lambda figure: draw_fourier_half(figure, n), FOURIER_HALF_SIZE)


def _times(value: float, _position=None) -> str:
    """A ratio as the page writes it: ``1,3×``, ``2×``."""
    text = f"{value:.2g}".replace(".", ",")
    return f"{text}×"


def speed_png(rows: list[speed.Row]) -> bytes:
    """Each layer's time over the built-in layer's and over the bare op's, against size."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    positions = {size: index for index, size in enumerate(speed.SIZES)}
    panels = (
        ("builtin_ratio", "Camada ÷ camada nativa equivalente", speed.BUILTIN_TARGET, None),
        ("bare_ratio", "Camada ÷ operação pura", speed.BARE_TARGET, speed.BARE_TARGET_SIZE),
    )
    tick_sets = ((0.8, 0.9, 1, 1.1, 1.3, 1.5, 2, 3, 5), (0.8, 1, 1.3, 2, 3, 5, 10, 20, 50))

    def draw(figure):
        legend = {}
        for axes, (ratio, title, target, target_size), ticks in zip(
            figure.subplots(1, 2), panels, tick_sets, strict=True
        ):
            for framework in speed.FRAMEWORKS:
                for exercise in speed.EXERCISES:
                    line = sorted(
                        (positions[row.size], getattr(row, ratio))
                        for row in rows
                        if (row.framework, row.exercise) == (framework, exercise)
                    )
                    if not line:
                        continue
                    axes.plot(
                        *zip(*line, strict=True),
                        color=FRAMEWORK_COLOURS[framework],
                        label=f"{FRAMEWORK_LABELS[framework]}, {exercise}",
                        **EXERCISE_STYLES[exercise],
                    )
            axes.axhline(1, color="black", linewidth=0.8)
            if target_size is None:
                axes.axhline(
                    target, color="tab:red", linestyle=":", label=f"meta: {_times(target)}"
                )
            else:
                axes.plot(
                    [positions[target_size]],
                    [target],
                    color="tab:red",
                    marker="_",
                    markersize=30,
                    markeredgewidth=2,
                    linestyle="none",
                    label=f"meta: {_times(target)} no tamanho grande",
                )
            axes.set_yscale("log")
            axes.yaxis.set_major_locator(FixedLocator(ticks))
            axes.yaxis.set_minor_locator(NullLocator())
            axes.yaxis.set_major_formatter(FuncFormatter(_times))
            axes.set(
                title=title,
                xlabel="tamanho da entrada",
                xticks=range(len(speed.SIZES)),
                xticklabels=[SIZE_LABELS[size] for size in speed.SIZES],
                xlim=(-0.2, len(speed.SIZES) - 0.8),
            )
            axes.grid(alpha=0.3)
            for handle, label in zip(*axes.get_legend_handles_labels(), strict=True):
                legend.setdefault(label, handle)
        figure.legend(
            legend.values(), legend.keys(), loc="outside lower center", ncols=4, fontsize="small"
        )

    return _png(draw, SPEED_SIZE)


def generated(data: Path = speed.DATA) -> dict[str, bytes]:
    """Each figure's file name under ``chapters/images/`` and its bytes, regenerated now."""
    return {
        FOURIER_HALF_PNG.name: fourier_half_png(),
        SPEED_PNG.name: speed_png(speed.load(data)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with the files")
    parser.add_argument("--output-dir", type=Path, default=IMAGES)
    parser.add_argument("--data", type=Path, default=speed.DATA, help="the benchmark's data")
    arguments = parser.parse_args(argv)
    status = 0
    for name, png in generated(arguments.data).items():
        path = arguments.output_dir / name
        if arguments.check:
            current = path.exists() and path.read_bytes() == png
            status |= not current
            print(f"{path}: {'current' if current else 'stale: run python -m solutions.figures'}")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(png)
            print(f"wrote {path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
