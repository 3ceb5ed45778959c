"""Pictures of a comparison: overlaid evaluation curves with seed bands (matplotlib, optional).

``pip install 'mazedsl[plot]'`` brings matplotlib; it is imported only when a picture is made.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from mazedsl.errors import MazeError

if TYPE_CHECKING:  # pragma: no cover
    from mazedsl.compare import Comparison

FORMATS = (".png", ".svg")
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
          "#bcbd22", "#17becf")


class PlotError(MazeError):
    """A picture that cannot be made (no matplotlib, unknown format)."""


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise PlotError("--plot needs matplotlib: install the plot extra: pip install 'mazedsl[plot]'") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def plot_comparison(comparison: "Comparison", path: str | os.PathLike[str], x: str = "steps",
                    band: str = "minmax", title: str | None = None) -> Path:
    """Write the groups' mean evaluation curves with a min–max (or ±std) band to PNG or SVG."""
    from mazedsl.run.files import atomic_write_bytes

    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise PlotError(f"{path}: the picture must end in .png or .svg")
    if path.is_dir():
        raise PlotError(f"{path}: is a directory; give a file name for the picture (e.g. "
                        f"{path / ('curves' + path.suffix.lower())})")
    plt = _pyplot()
    import io

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    try:
        drawn = 0
        for i, group in enumerate(comparison.groups):
            curve = group.curve(x)
            if not curve.x:
                continue
            color = COLORS[i % len(COLORS)]
            label = f"{group.label} (n={group.n})" if group.n > 1 else group.label
            ax.plot(curve.x, curve.mean, color=color, linewidth=1.8, label=label,
                    marker="o" if len(curve.x) == 1 else None)
            if group.n > 1:
                if band == "std":
                    lo = [m - s for m, s in zip(curve.mean, curve.std)]
                    hi = [m + s for m, s in zip(curve.mean, curve.std)]
                else:
                    lo, hi = curve.lo, curve.hi
                ax.fill_between(curve.x, lo, hi, color=color, alpha=0.2, linewidth=0)
            drawn += 1
        ax.set_xlabel("env steps" if x == "steps" else "wall time (s)")
        ax.set_ylabel("evaluation return")
        band_text = "±std" if band == "std" else "min–max"
        ax.set_title(title or f"evaluation return: mean over seeds, {band_text} band")
        ax.grid(True, alpha=0.3)
        if drawn:
            ax.legend(loc="best", fontsize=8, frameon=False)
        else:
            ax.text(0.5, 0.5, "no evaluation yet", ha="center", va="center", transform=ax.transAxes)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format=path.suffix.lower()[1:])
    finally:
        plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())
    return path
