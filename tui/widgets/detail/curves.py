"""Live training curves: one plotext plot per quantity, fed with metrics records."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from typing import Any, Iterable

from textual_plotext import PlotextPlot


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    color: tuple[int, int, int]
    yside: str = "left"  # with ``auto_axes``: the side preferred while the scales allow it
    marker: str = "hd"  # half blocks: braille is drawn wider than its cell by many fonts (past the frame)
    main: bool = False  # the series counted by ``point_count``
    optional: bool = False  # counted by ``point_count`` while the main series has no data

BLUE, ORANGE, GREEN, RED, GREY, PURPLE = ((97, 175, 239), (229, 192, 123), (152, 195, 121),
                                          (224, 108, 117), (110, 118, 129), (198, 120, 221))
CYAN, PINK = (86, 182, 194), (255, 121, 198)

# a series whose drawn height is below this share of its axis reads as a flat line
READABLE = 0.2


def _span(lo: float, hi: float) -> float:
    """The height a series of values in [lo, hi] needs (a constant one: a sliver of its size)."""
    return max(hi - lo, 0.05 * max(abs(lo), abs(hi)), 1e-12)


def readability(ranges: dict[str, tuple[float, float]], sides: dict[str, str]) -> float:
    """The smallest share of its axis's height that any series spans (1: every one fills its axis)."""
    worst = 1.0
    for side in ("left", "right"):
        keys = [k for k in ranges if sides[k] == side]
        if not keys:
            continue
        lo, hi = min(ranges[k][0] for k in keys), max(ranges[k][1] for k in keys)
        axis = _span(lo, hi)
        worst = min(worst, *(min(1.0, _span(*ranges[k]) / axis) for k in keys))
    return worst


def assign_axes(ranges: dict[str, tuple[float, float]], preferred: dict[str, str],
                keep_left: str | None = None) -> dict[str, str]:
    """A y axis for each series (by its value range): the ``preferred`` sides while every
    series then spans at least :data:`READABLE` of its axis, else the split into left and
    right axes that makes the flattest series tallest (ties: more preferred sides kept).
    ``keep_left`` (when present) stays on the left axis."""
    keys = list(ranges)
    sides = {k: preferred.get(k, "left") for k in keys}
    if not keys or readability(ranges, sides) >= READABLE:
        return sides
    best, best_score = sides, (readability(ranges, sides), len(keys))
    for combo in itertools.product(("left", "right"), repeat=len(keys)):
        candidate = dict(zip(keys, combo))
        if "left" not in combo or (keep_left in candidate and candidate[keep_left] != "left"):
            continue
        score = (readability(ranges, candidate),
                 sum(1 for k in keys if candidate[k] == preferred.get(k, "left")))
        if score > best_score:
            best, best_score = candidate, score
    return best


def nice_ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """At most ``count`` round tick positions (1, 2, 2.5, 5 x 10^k apart) within [lo, hi]."""
    span = hi - lo
    if span <= 0 or not math.isfinite(span):
        return [lo]
    magnitude = 10 ** math.floor(math.log10(span / max(count, 1)))
    ticks: list[float] = [lo]
    for mult in (1, 2, 2.5, 5, 10, 20):
        step = mult * magnitude
        first = math.ceil(lo / step - 1e-9) * step
        ticks = [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]
        if len(ticks) <= count:
            break
    return ticks


def fmt_steps(value: float) -> str:
    """Axis label for a step count: 500, 25k, 1.5M."""
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= div:
            return f"{value / div:g}{suffix}"
    return f"{value:g}"


def thin(xs: list[float], ys: list[float], limit: int) -> tuple[list[float], list[float]]:
    """At most ``limit`` evenly strided points, always keeping the latest one."""
    if len(xs) <= limit:
        return xs, ys
    stride = -(-len(xs) // limit)
    return xs[::-stride][::-1], ys[::-stride][::-1]


def pad_xlim(plt: Any, lo: float, hi: float, width: int) -> None:
    """Leave about a column free inside the frame on either side of the data (a braille dot in
    the frame's own column draws over, or past, the frame in many terminals and SVG viewers)."""
    span = hi - lo
    if span <= 0 or not math.isfinite(span):
        return  # one x value: plotext centres it
    pad = 1.5 * span / max(width - 16, 8)  # the data area is the width less the axes' labels
    plt.xlim(lo - pad, hi + pad)


def flat_ylim(values: Iterable[float]) -> tuple[float, float] | None:
    """The y range to give an axis whose values are all one value ``v`` (a single point, or a
    constant series): ``v`` ± 10% of ``|v|`` (± 1 at zero), lower end first. ``None`` when
    the values differ (plotext's own range is right) or there are none.

    plotext's own range for a constant ``v`` is ``(0.5 v, 1.5 v)``: upside down when ``v`` is
    negative (the larger value at the bottom)."""
    vals = [v for v in values if math.isfinite(v)]
    if not vals or min(vals) != max(vals):
        return None
    v = vals[0]
    pad = 0.1 * abs(v) or 1.0
    return v - pad, v + pad


def pad_flat_ylim(plt: Any, values: Iterable[float], yside: str = "left") -> None:
    """Set the ``yside`` axis' range around its values when they are all one value (see
    :func:`flat_ylim`); else leave plotext's range."""
    lim = flat_ylim(values)
    if lim is not None:
        plt.ylim(*lim, yside=yside)


def fit_legend(labels: list[str], room: int) -> list[str]:
    """The separator, then the legend's items (``━ label``), in the first form whose line fits
    ``room`` cells (0: no limit): as they are; one space apart, ``→`` against its label; no space
    after ``━``; then the longest labels cut with ``…``, so that every series keeps a name (a
    legend the border cuts loses the last ones whole: SAC's at 80 columns)."""
    def width(sep: str, items: list[str]) -> int:
        return len(sep.join(items))

    sep, items = "  ", [f"━ {label}" for label in labels]
    if not room or width(sep, items) <= room:
        return [sep, *items]
    sep, items = " ", [f"━ {label.replace(' →', '→')}" for label in labels]
    if width(sep, items) <= room:
        return [sep, *items]
    names = [label.replace(" →", "") for label in labels]
    arrows = ["→" if label.endswith(" →") else "" for label in labels]
    cut = list(names)
    while width(sep, [f"━{n}{a}" for n, a in zip(cut, arrows)]) > room:
        longest = max(range(len(cut)), key=lambda i: len(cut[i]))
        if len(cut[longest]) <= 2:
            break
        name = cut[longest].rstrip("…")
        cut[longest] = name[:-1].rstrip() + "…"
    return [sep, *(f"━{n}{a}" for n, a in zip(cut, arrows))]


class MetricsPlot(PlotextPlot):
    """A plot of some keys of the records of one phase (``train`` or ``eval``) against ``step``."""

    def __init__(self, title: str, phase: str, series: Iterable[Series], *, empty: str,
                 id: str | None = None, auto_axes: bool = False) -> None:
        super().__init__(id=id)
        self.plot_title = title
        self.phase = phase
        self.series = tuple(series)
        self.empty = empty
        self.auto_axes = auto_axes  # pick each series' y axis from the value ranges
        self.x_label = "step"  # what ``step`` counts: BC's runs count training samples
        self._data: dict[str, tuple[list[float], list[float]]] = {}
        self.sides: dict[str, str] = {s.key: s.yside for s in self.series}
        self.border_title = title
        self._set_legend()

    def set_empty(self, text: str) -> None:
        """What the plot says while it has no data."""
        if text != self.empty:
            self.empty = text
            self.replot()

    def set_x_label(self, label: str) -> None:
        if label != self.x_label:
            self.x_label = label
            self.replot()

    def relabel(self, title: str, labels: dict[str, str]) -> None:
        """Rename the plot and some series (``key -> label``)."""
        self.plot_title = self.border_title = title
        self.series = tuple(replace(s, label=labels.get(s.key, s.label)) for s in self.series)
        self._set_legend()

    def legend(self) -> list[str]:
        """The legend's labels, in order: the series with data (a right-axis one marked ``→``)."""
        labels: list[str] = []
        for s in self.series:
            label = s.label + (" →" if self.sides.get(s.key) == "right" else "")
            if self._data.get(s.key, ([], []))[0] and label not in labels:
                labels.append(label)
        return labels

    def _set_legend(self) -> None:
        colors = {s.label + (" →" if self.sides.get(s.key) == "right" else ""): s.color
                  for s in reversed(self.series)}  # a shared label: its first series' colour
        labels = self.legend()
        # the border's width less its corners, a line and a space either side
        items = fit_legend(labels, self.size.width - 6 if self.size.width else 0)
        self.border_subtitle = items[0].join(f"[rgb({r},{g},{b})]{item}[/]" for label, item in zip(labels, items[1:])
                                             for r, g, b in [colors[label]])

    @property
    def point_count(self) -> int:
        """Points of the main series drawn so far (or, while it has none, of the fullest
        optional series: the metrics of another algorithm)."""
        count = 0
        for s in self.series:
            if s.main:
                count = len(self._data.get(s.key, ([], []))[0])
        if count:
            return count
        return max((len(self._data.get(s.key, ([], []))[0]) for s in self.series if s.optional),
                   default=0)

    def values(self, key: str) -> list[float]:
        return list(self._data.get(key, ([], []))[1])

    def set_records(self, records: Iterable[dict[str, Any]]) -> None:
        data: dict[str, tuple[list[float], list[float]]] = {s.key: ([], []) for s in self.series}
        for rec in records:
            if rec.get("phase") != self.phase or "step" not in rec:
                continue
            for s in self.series:
                value = rec.get(s.key)
                if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                    data[s.key][0].append(float(rec["step"]))
                    data[s.key][1].append(float(value))
        if data != self._data:
            self._data = data
            if self.auto_axes:
                self._assign_axes()
            self._set_legend()
            self.replot()

    def _assign_axes(self) -> None:
        ranges = {s.key: (min(ys), max(ys)) for s in self.series
                  for ys in [self._data.get(s.key, ([], []))[1]] if ys}
        main = next((s.key for s in self.series if s.main), None)
        self.sides = {s.key: s.yside for s in self.series}
        self.sides.update(assign_axes(ranges, {s.key: s.yside for s in self.series}, keep_left=main))

    def on_resize(self) -> None:
        self._set_legend()  # the legend's form follows the width
        self.replot()

    def replot(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.xlabel(self.x_label)
        if not any(xs for xs, _ in self._data.values()):
            plt.title(self.empty)
            self.refresh()
            return
        all_x = [x for xs, _ in self._data.values() for x in xs]
        ticks = nice_ticks(min(all_x), max(all_x), max(2, self.size.width // 14 or 4))
        plt.xticks(ticks, [fmt_steps(t) for t in ticks])
        pad_xlim(plt, min(all_x), max(all_x), self.size.width)
        limit = max(200, 4 * self.size.width)  # 2 dots a cell; more points only cost time
        by_side: dict[str, list[float]] = {}
        for s in self.series:
            xs, ys = self._data.get(s.key, ([], []))
            if not xs:
                continue
            xs, ys = thin(xs, ys, limit)
            side = self.sides.get(s.key, s.yside)
            if len(xs) == 1:
                plt.scatter(xs, ys, color=s.color, yside=side, marker="dot")
            else:
                plt.plot(xs, ys, color=s.color, yside=side, marker=s.marker)
            by_side.setdefault(side, []).extend(ys)
        for side, ys in by_side.items():
            pad_flat_ylim(plt, ys, side)
        self.refresh()


NO_TRAIN_LINE = "no training line yet (one every log_every_steps)"
"""What an empty train-phase chart says: a line comes at each log_every_steps."""


def return_plot() -> MetricsPlot:
    return MetricsPlot("Episode return", "train", [
        Series("ep_return_max", "min/max", GREY),
        Series("ep_return_min", "min/max", GREY),
        Series("ep_return_mean", "mean", BLUE, main=True),
    ], empty=NO_TRAIN_LINE, id="plot-return")


def eval_plot() -> MetricsPlot:
    return MetricsPlot("Evaluation return", "eval", [
        Series("max_return", "min/max", GREY),
        Series("min_return", "min/max", GREY),
        Series("mean_return", "mean", GREEN, main=True),
    ], empty="no evaluation yet", id="plot-eval")


def loss_plot() -> MetricsPlot:
    """Every learner's losses; the legend lists those the run logs, each in its own colour, and
    the y axes are picked from the values (SAC's small Q loss off its large policy loss)."""
    return MetricsPlot("Losses", "train", [
        Series("policy_loss", "policy", ORANGE, main=True, optional=True),
        Series("entropy", "entropy", PURPLE, optional=True),
        Series("value_loss", "value", RED, yside="right", optional=True),
        # off-policy and imitation learners (DQN, SAC, BC)
        Series("q_loss", "Q loss", BLUE, optional=True),
        Series("bc_loss", "BC loss", CYAN, optional=True),
        Series("bc_val_loss", "BC val loss", PINK, optional=True),
        Series("epsilon", "ε", GREY, yside="right", optional=True),
        Series("ent_coef", "α", GREEN, yside="right", optional=True),
    ], empty=NO_TRAIN_LINE, id="plot-loss", auto_axes=True)


def count_samples(plots: Iterable[MetricsPlot], samples: bool) -> None:
    """Label a run's plots by what its steps count: env steps, or (``samples``: BC, which
    learns from recordings) training samples, on the x axes and the speed plot."""
    for plot in plots:
        plot.set_x_label("training samples" if samples else "step")
        if plot.id == "plot-speed":
            plot.relabel("Samples/s" if samples else "Steps/s",
                         {"steps_per_s": "samples/s" if samples else "steps/s"})


def speed_plot() -> MetricsPlot:
    return MetricsPlot("Steps/s", "train", [
        Series("steps_per_s", "steps/s", BLUE, main=True),
    ], empty=NO_TRAIN_LINE, id="plot-speed")
