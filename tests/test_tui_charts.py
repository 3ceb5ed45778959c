"""Pilot tests of the charts' y axes: a single point, or a constant series, must be drawn on an
axis that increases upwards (plotext's own range for a constant ``v``, ``(0.5 v, 1.5 v)``,
is upside down when ``v`` is negative)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from textual.app import App, ComposeResult

from mazedsl_tui.widgets.compare.plot import ComparePlot, legend_entries
from mazedsl_tui.widgets.detail.curves import MetricsPlot, eval_plot, flat_ylim, loss_plot
from tests.tui_helpers import run_async, widget_lines

TICK = re.compile(r"(-?[\d.]+)\s*┤")


def drawn(widget) -> list[str]:
    return widget_lines(widget, border=True)


def left_ticks(widget) -> list[float]:
    """The left y axis' labels, top to bottom."""
    return [float(m.group(1)) for line in drawn(widget) for m in [TICK.search(line)] if m]


class PlotApp(App):
    CSS = "PlotextPlot { border: round white; }"  # the subtitle (the legend) is drawn in the border
    def __init__(self, plot) -> None:
        super().__init__()
        self.plot = plot

    def compose(self) -> ComposeResult:
        yield self.plot


@pytest.mark.parametrize("value", [-1727.8, -0.25, 0.0, 500.0])
def test_flat_ylim_is_a_range_around_the_value(value):
    lo, hi = flat_ylim([value, value])
    assert lo < value < hi
    assert flat_ylim([value, value + 1]) is None and flat_ylim([]) is None


async def _ticks_of(plot, feed) -> list[float]:
    app = PlotApp(plot)
    async with app.run_test(size=(90, 24)) as pilot:
        await pilot.pause()
        feed(plot)
        await pilot.pause()
        return left_ticks(plot)


@pytest.mark.parametrize("records", [
    [{"phase": "eval", "step": 500, "mean_return": -1727.8, "min_return": -1727.8, "max_return": -1727.8}],
    [{"phase": "eval", "step": s, "mean_return": -200.0} for s in (500, 1000, 1500)],  # constant
    [{"phase": "eval", "step": 500, "mean_return": 20.0}],
    [{"phase": "eval", "step": 500, "mean_return": -300.0, "min_return": -400.0, "max_return": -100.0}],
])
@run_async
async def test_evaluation_chart_y_axis_increases_upwards(records):
    ticks = await _ticks_of(eval_plot(), lambda plot: plot.set_records(records))
    assert len(ticks) >= 3
    assert ticks == sorted(ticks, reverse=True) and ticks[0] > ticks[-1], ticks
    means = [r["mean_return"] for r in records]
    assert ticks[-1] <= min(means) and max(means) <= ticks[0]  # the points are inside the axis


@run_async
async def test_losses_chart_single_negative_update_increases_upwards():
    records = [{"phase": "train", "step": 600, "policy_loss": -12.5}]
    ticks = await _ticks_of(loss_plot(), lambda plot: plot.set_records(records))
    assert ticks == sorted(ticks, reverse=True) and ticks[0] > -12.5 > ticks[-1], ticks


@run_async
async def test_compare_chart_single_negative_points_increase_upwards():
    one = SimpleNamespace(x=[500.0], mean=[-1671.0], lo=[-1671.0], hi=[-1671.0], std=[0.0])
    other = SimpleNamespace(x=[500.0], mean=[-1671.0], lo=[-1671.0], hi=[-1671.0], std=[0.0])
    ticks = await _ticks_of(ComparePlot(), lambda plot: plot.set_curves(
        [("name=a", one, 1), ("name=b", other, 1)], "steps", "minmax"))
    assert ticks == sorted(ticks, reverse=True) and ticks[0] > -1671.0 > ticks[-1], ticks


# -- the compare legend: one short entry per group ------------------------------------------------

def test_legend_keeps_short_labels_whole():
    assert legend_entries([("lr=0.001", 2), ("lr=0.01", 1)], 80) == ["A lr=0.001 ×2", "B lr=0.01"]


def test_legend_cuts_long_labels_to_fit_and_names_every_group():
    long = " ".join(f"key{i}=value{i}" for i in range(30))
    entries = legend_entries([(long, 2), ("short=1", 1), (long + "x", 1)], 100)
    assert [e.split()[0] for e in entries] == ["A", "B", "C"]
    assert entries[1] == "B short=1"  # a short label is kept whole
    assert entries[0].endswith("… ×2") and entries[2].endswith("…")
    assert sum(len(e) + 2 for e in entries) + 2 * (len(entries) - 1) <= 100
    # too narrow for any label: the keys (the Runs table names each group)
    assert legend_entries([(long, 2), (long, 1), (long, 1)], 30) == ["A ×2", "B", "C"]


@run_async
async def test_compare_legend_names_every_series_in_a_narrow_plot():
    long = " ".join(f"key{i}=value{i}" for i in range(30))
    curves = [(f"name=exp{i} {long}", SimpleNamespace(x=[1.0, 2.0], mean=[1.0, 2.0], lo=[1.0, 2.0],
                                                       hi=[1.0, 2.0], std=[0.0, 0.0]), 1) for i in range(3)]
    plot = ComparePlot()
    app = PlotApp(plot)
    async with app.run_test(size=(90, 24)) as pilot:
        plot.set_curves(curves, "steps", "minmax")
        await pilot.pause()
        bottom = drawn(plot)[-1]
        for key in "ABC":
            assert f"━ {key} name=exp" in bottom, bottom
