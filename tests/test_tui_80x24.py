"""The TUI at the standard small terminal, 80x24: what a user needs stays on screen (chart
legends name every series; table columns whose values matter are not pushed out of sight)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from textual.widgets import DataTable

from mazedsl_tui.app import MazeApp
from mazedsl_tui.demo import DemoLibrary, build_demo
from tests.test_tui_new_algos import algo_run, open_curves
from tests.tui_helpers import run_async, screen_text, wait_for

SMALL = (80, 24)


@pytest.fixture
def demo(tmp_path):
    return build_demo(tmp_path)


def make_app(demo, **kwargs: Any) -> MazeApp:
    kwargs.setdefault("library", DemoLibrary())
    return MazeApp(demo.experiments, demo.runs, poll_interval=0.05, **kwargs)


def bottom_border(widget) -> str:
    """The last line the widget draws (its border, with the legend)."""
    region = widget.region
    lines = screen_text(widget.app).splitlines()
    return lines[region.y + region.height - 1][region.x:region.x + region.width]


# -- the losses legend names every series -------------------------------------------------------------

@pytest.mark.parametrize("algorithm, names", [
    ("SAC", ["policy", "entropy", "Q loss", "α"]),
    ("BC", ["entropy", "BC loss", "BC val loss"]),
])
@run_async
async def test_loss_legend_names_every_series_at_80x24(demo, algorithm, names):
    app = make_app(demo)
    async with app.run_test(size=SMALL) as pilot:
        loss = (await open_curves(pilot, app, algo_run(demo, algorithm)))["plot-loss"]
        await pilot.pause()
        legend = bottom_border(loss)
        assert "…" not in legend, legend
        for name in names:
            assert name in legend, (name, legend)


# -- Experiments: the provenance table's "Set by" column stays in sight --------------------------------

@run_async
async def test_provenance_set_by_column_fits_at_80x24(demo):
    app = make_app(demo, mode="experiments")
    async with app.run_test(size=SMALL) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: getattr(screen, "experiment", None) is not None
                       and screen.query_one("#exp-provenance").row_count > 0, what="the provenance")
        await pilot.press("right_square_bracket")
        await pilot.pause()
        await pilot.pause()
        text = screen_text(app)
        assert "Set by" in text, text
        assert "cartpole_a2c.py:" in text, text  # the file and line of the values the file sets
        assert "GymEnv.kwargs" in text, text  # and where the defaults come from


# -- Run detail, Evaluation: the best-checkpoint marker stays in sight ----------------------------------

PENDULUM_EVAL = {"phase": "eval", "step": 600, "time": 5.0, "mean_return": -1700.6, "std_return": 110.6,
                 "min_return": -1913.7, "max_return": -1516.4, "mean_length": 200.0, "n_episodes": 5,
                 "best": True}


@run_async
async def test_best_eval_marker_in_sight_at_80x24(demo):
    """Pendulum's wide returns: the ★ of the best evaluation is on screen, and the empty "Last
    evaluation" table (no eval.json yet) leaves its width to them."""
    path = algo_run(demo, "SAC")
    (path / "eval.json").unlink(missing_ok=True)
    records = [json.loads(line) for line in (path / "metrics.jsonl").read_text().splitlines()]
    records = [r for r in records if r.get("phase") != "eval"] + [PENDULUM_EVAL]
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    app = make_app(demo)
    async with app.run_test(size=SMALL) as pilot:
        app.open_run(path, tab="evaluation")
        await wait_for(pilot, lambda: app.screen.query("#eval-history")
                       and app.screen.query_one("#eval-history", DataTable).row_count == 1, what="the history")
        await pilot.pause()
        await pilot.pause()
        text = screen_text(app)
        assert "★ best" in text, text
        assert "-1,700.6" in text and "Length" in text, text
        assert "Last evaluation" not in text, text
        assert "press e to evaluate" in text, text  # what the hidden table would say


# -- Compare, Runs tab: the status and configuration stay in sight -----------------------------------

@run_async
async def test_compare_runs_tab_fits_at_80x24(demo):
    """Timestamped run names (22 columns) pushed the configuration wholly out of sight and cut
    the status: narrow, a run shows by its id and the eval headers are shorter."""
    from mazedsl_tui.screens.compare import CompareScreen

    app = make_app(demo)
    async with app.run_test(size=SMALL) as pilot:
        app.open_compare(list(demo.run_dirs))
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison is not None
                       and app.screen.query_one("#compare-runs", DataTable).row_count == len(demo.run_dirs),
                       what="the comparison")
        await pilot.pause()
        await pilot.pause()
        table = app.screen.query_one("#compare-runs", DataTable)
        assert table.virtual_size.width <= table.size.width  # nothing hidden sideways
        text = screen_text(app)
        assert "Configuration" in text and "■ interrupted" in text, text
        assert "9e1d7b" in text and "20260104-170245_9e1d7b" not in text, text
        assert "Final" in text and "Best" in text, text
        await pilot.press("right_square_bracket")  # the config diff names the runs so too
        await pilot.pause()
        diff = app.screen.query_one("#compare-diff", DataTable)
        assert [c.label.plain for c in diff.columns.values()][1:] == \
            [run.path.name.rsplit("_", 1)[1] for run in app.screen.comparison.runs]
        assert "9e1d7b" in screen_text(app)


# -- Runs with a sweep: the Started column stays whole --------------------------------------------------

@run_async
async def test_runs_with_a_sweep_show_started_whole_at_80x24(demo):
    """A sweep's name cut to 12 columns pushed Started out (``01-08 0``): its id is enough,
    the status cell says it is a sweep."""
    from mazedsl_tui.demo import write_demo_sweep
    from mazedsl_tui.widgets.runs.table import RunsTable

    sweep = write_demo_sweep(demo.runs)
    app = make_app(demo)
    async with app.run_test(size=SMALL) as pilot:
        table = app.screen.query_one(RunsTable)
        await wait_for(pilot, lambda: table.row_count == len(demo.run_dirs) + 1, what="the runs")
        await pilot.pause()
        assert table.cell_text(str(sweep), "run") == sweep.name.rsplit("_", 1)[1]
        text = screen_text(app)
        assert "⧉ sweep ×6" in text, text
        for row in text.splitlines()[2:3 + len(demo.run_dirs)]:
            assert re.search(r"  \d\d-\d\d \d\d:\d\d$", row.rstrip()), row  # MM-DD HH:MM, whole
