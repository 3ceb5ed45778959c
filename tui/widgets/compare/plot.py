"""Overlaid evaluation curves: one colour per configuration, its mean over seeds as a line and
its min–max (or ±std) band as two thin lines of the same colour."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual_plotext import PlotextPlot

from mazedsl_tui.widgets.detail.curves import (fmt_steps, nice_ticks, pad_flat_ylim, pad_xlim,
                                               thin)

PALETTE = ((97, 175, 239), (229, 192, 123), (152, 195, 121), (224, 108, 117), (198, 120, 221),
           (86, 182, 194), (209, 154, 102), (171, 178, 191))


def group_color(index: int) -> tuple[int, int, int]:
    return PALETTE[index % len(PALETTE)]


def group_key(index: int) -> str:
    """The short name of a group in the legend and the Runs table: A, B, … Z, then 27, 28, …"""
    return chr(ord("A") + index) if index < 26 else str(index + 1)


def _clip(label: str, width: int) -> str:
    return label if len(label) <= width else label[:max(width - 1, 0)] + "…"


def legend_entries(curves: list[tuple[str, int]], width: int) -> list[str]:
    """One legend entry per group, ``A label ×n``, fitting in ``width`` cells with two spaces
    between entries (``━ `` before each): the labels cut evenly (a short one kept whole, its
    room going to the others), or left out (``A ×n``) when too little room is left for them."""
    keys = [f"{group_key(i)}" for i in range(len(curves))]
    counts = [f" ×{n}" if n > 1 else "" for _, n in curves]
    full = [f"{k} {label}{c}" for k, (label, _), c in zip(keys, curves, counts)]
    fixed = sum(2 + len(k) + 1 + len(c) for k, c in zip(keys, counts)) + 2 * (len(curves) - 1)
    if width <= 0 or fixed + sum(len(label) for label, _ in curves) <= width:
        return full
    room = width - fixed
    # water-filling: the labels shorter than an even share keep their length
    lengths = sorted(len(label) for label, _ in curves)
    share, left, rest = 0, room, len(lengths)
    for length in lengths:
        share = left // rest
        if length > share:
            break
        left -= length
        rest -= 1
    else:
        share = room
    if share < 8:  # a label cut this short says nothing: the Runs table has them
        return [f"{k}{c}" for k, c in zip(keys, counts)]
    return [f"{k} {_clip(label, share)}{c}" for k, (label, _), c in zip(keys, curves, counts)]


def dim(color: tuple[int, int, int], amount: float = 0.55) -> tuple[int, int, int]:
    """The colour mixed towards a dark background (for the band lines)."""
    return tuple(int(c * (1 - amount) + 30 * amount) for c in color)  # type: ignore[return-value]


class ComparePlot(PlotextPlot):
    """Groups' curves of a comparison against env steps (BC: training samples) or wall seconds."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.x = "steps"
        self.band = "minmax"
        self.steps_label = "env steps"  # what the runs' steps count (formatting.steps_axis)
        self.curves: list[tuple[str, Any, int]] = []  # (label, Curve, n runs)
        self.border_title = "Evaluation return"

    def set_curves(self, curves: list[tuple[str, Any, int]], x: str, band: str,
                   steps_label: str = "env steps") -> None:
        self.curves, self.x, self.band, self.steps_label = curves, x, band, steps_label
        band_text = "±std" if band == "std" else "min–max"
        self.border_title = f"Evaluation return · mean over seeds, {band_text} band"
        self._set_legend()
        self.replot()

    def legend(self) -> list[str]:
        """The legend's entries (without their ``━``), cut to the plot's width."""
        return legend_entries([(label, n) for label, _, n in self.curves], self.size.width - 4)

    def _set_legend(self) -> None:
        text = Text()
        for i, entry in enumerate(self.legend()):
            r, g, b = group_color(i)
            text.append("  " if i else "")
            text.append(f"━ {entry}", style=f"rgb({r},{g},{b})")
        self.border_subtitle = text

    @property
    def point_count(self) -> int:
        return sum(len(curve.x) for _, curve, _ in self.curves)

    def on_resize(self) -> None:
        self._set_legend()
        self.replot()

    def replot(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.xlabel(self.steps_label if self.x == "steps" else "wall seconds")
        all_x = [x for _, curve, _ in self.curves for x in curve.x]
        if not all_x:
            plt.title("no evaluation yet")
            self.refresh()
            return
        ticks = nice_ticks(min(all_x), max(all_x), max(2, self.size.width // 14 or 4))
        plt.xticks(ticks, [fmt_steps(t) if self.x == "steps" else f"{t:g}s" for t in ticks])
        pad_xlim(plt, min(all_x), max(all_x), self.size.width)
        limit = max(200, 4 * self.size.width)
        all_y: list[float] = []
        for i, (_, curve, n) in enumerate(self.curves):
            if not curve.x:
                continue
            color = group_color(i)
            if n > 1:
                if self.band == "std":
                    lo = [m - s for m, s in zip(curve.mean, curve.std)]
                    hi = [m + s for m, s in zip(curve.mean, curve.std)]
                else:
                    lo, hi = curve.lo, curve.hi
                for edge in (lo, hi):
                    xs, ys = thin(list(curve.x), list(edge), limit)
                    if len(xs) > 1:
                        plt.plot(xs, ys, color=dim(color), marker="hd")
                        all_y.extend(ys)
            xs, ys = thin(list(curve.x), list(curve.mean), limit)
            if len(xs) == 1:
                plt.scatter(xs, ys, color=color, marker="dot")
            else:
                plt.plot(xs, ys, color=color, marker="hd")
            all_y.extend(ys)
        pad_flat_ylim(plt, all_y)
        self.refresh()
