"""The solutions page's figure, generated from the NumPy reference.

``python -m solutions.figures`` rewrites ``chapters/images/fourier-half.png``;
``python -m solutions.figures --check`` only says whether the committed image is current.
The book is built with execution off, so the image is committed; a test regenerates it.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np

from solutions import reference

ROOT = Path(__file__).resolve().parents[1]
FOURIER_HALF_PNG = ROOT / "chapters" / "images" / "fourier-half.png"


def example_signal(n: int = 32) -> np.ndarray:
    """Two sinusoids, 3 and 7 cycles over the window, plus a constant."""
    t = np.arange(n)
    return 0.5 + np.sin(2 * np.pi * 3 * t / n) + 0.5 * np.cos(2 * np.pi * 7 * t / n)


def fourier_half_png(n: int = 32) -> bytes:
    """The figure as PNG bytes: the signal, and the magnitudes of its first ceil(n/2) terms."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    x = example_signal(n)
    magnitudes = np.abs(reference.fourier_half(x))
    m = reference.leading_half_size(n)

    import matplotlib

    # Library defaults, not the user's matplotlibrc: the same bytes on every machine.
    with matplotlib.rc_context(matplotlib.rcParamsDefault):
        figure = Figure(figsize=(8, 3), dpi=100, layout="constrained")
        FigureCanvasAgg(figure)
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
            axes.grid(alpha=0.3)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with the file")
    parser.add_argument("--output", type=Path, default=FOURIER_HALF_PNG)
    arguments = parser.parse_args(argv)
    png = fourier_half_png()
    if arguments.check:
        current = arguments.output.exists() and arguments.output.read_bytes() == png
        verdict = "current" if current else "stale: run python -m solutions.figures"
        print(f"{arguments.output}: {verdict}")
        return 0 if current else 1
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_bytes(png)
    print(f"wrote {arguments.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
