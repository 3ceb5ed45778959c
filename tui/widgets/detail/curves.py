"""Live training curves: one plotext plot per quantity, fed with metrics records."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable

from textual_plotext import PlotextPlot


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    color: tuple[int, int, int]
    yside: str = "left"
    marker: str = "braille"
    main: bool = False  # the series counted by ``point_count``
    optional: bool = False  # in the legend (and counted) only once it has data: other algorithms'


BLUE, ORANGE, GREEN, RED, GREY, PURPLE = ((97, 175, 239), (229, 192, 123), (152, 195, 121),
                                          (224, 108, 117), (110, 118, 129), (198, 120, 221))


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


class MetricsPlot(PlotextPlot):
    """A plot of some keys of the records of one phase (``train`` or ``eval``) against ``step``."""

    def __init__(self, title: str, phase: str, series: Iterable[Series], *, empty: str,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.plot_title = title
        self.phase = phase
        self.series = tuple(series)
        self.empty = empty
        self._data: dict[str, tuple[list[float], list[float]]] = {}
        self.border_title = title
        self._set_legend()

    def _set_legend(self) -> None:
        legend: dict[str, tuple[int, int, int]] = {}
        for s in self.series:
            if not s.optional or self._data.get(s.key, ([], []))[0]:
                legend.setdefault(s.label, s.color)
        self.border_subtitle = "  ".join(f"[rgb({r},{g},{b})]━ {label}[/]"
                                         for label, (r, g, b) in legend.items())

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
            if any(s.optional for s in self.series):
                self._set_legend()
            self.replot()

    def on_resize(self) -> None:
        self.replot()

    def replot(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.xlabel("step")
        if not any(xs for xs, _ in self._data.values()):
            plt.title(self.empty)
            self.refresh()
            return
        all_x = [x for xs, _ in self._data.values() for x in xs]
        ticks = nice_ticks(min(all_x), max(all_x), max(2, self.size.width // 14 or 4))
        plt.xticks(ticks, [fmt_steps(t) for t in ticks])
        limit = max(200, 4 * self.size.width)  # braille: 2 dots a cell; more points only cost time
        for s in self.series:
            xs, ys = self._data.get(s.key, ([], []))
            if not xs:
                continue
            xs, ys = thin(xs, ys, limit)
            if len(xs) == 1:
                plt.scatter(xs, ys, color=s.color, yside=s.yside, marker="dot")
            else:
                plt.plot(xs, ys, color=s.color, yside=s.yside, marker=s.marker)
        self.refresh()


def return_plot() -> MetricsPlot:
    return MetricsPlot("Episode return", "train", [
        Series("ep_return_max", "min/max", GREY),
        Series("ep_return_min", "min/max", GREY),
        Series("ep_return_mean", "mean", BLUE, main=True),
    ], empty="no training episodes yet", id="plot-return")


def eval_plot() -> MetricsPlot:
    return MetricsPlot("Evaluation return", "eval", [
        Series("max_return", "min/max", GREY),
        Series("min_return", "min/max", GREY),
        Series("mean_return", "mean", GREEN, main=True),
    ], empty="no evaluation yet", id="plot-eval")


def loss_plot() -> MetricsPlot:
    return MetricsPlot("Losses", "train", [
        Series("policy_loss", "policy", ORANGE, main=True),
        Series("entropy", "entropy", PURPLE),
        Series("value_loss", "value →", RED, yside="right"),
        # off-policy and imitation learners (DQN, SAC, BC)
        Series("q_loss", "Q loss", RED, optional=True),
        Series("bc_loss", "BC loss", ORANGE, optional=True),
        Series("bc_val_loss", "BC val loss", RED, optional=True),
        Series("epsilon", "ε →", GREY, yside="right", optional=True),
        Series("ent_coef", "α →", GREEN, yside="right", optional=True),
    ], empty="no updates yet", id="plot-loss")


def speed_plot() -> MetricsPlot:
    return MetricsPlot("Steps/s", "train", [
        Series("steps_per_s", "steps/s", BLUE, main=True),
    ], empty="no training lines yet", id="plot-speed")
