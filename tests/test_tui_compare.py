"""Pilot tests of marking runs, Compare, the sweep view and the config diff, on run directories made
by tiny real trainings (tests/compare_runs.py), and of the Runs-table fixes (End key, widths, 80x24)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.widgets import DataTable

from compare_runs import Workspace, eval_returns, shared_workspace, with_failed_job
from mazedsl_tui.app import MazeApp
from mazedsl_tui.demo import DemoLibrary, build_demo
from mazedsl_tui.screens.compare import CompareScreen
from mazedsl_tui.screens.run_detail import RunDetailScreen
from mazedsl_tui.screens.runs import RunsScreen
from mazedsl_tui.screens.sweep import SweepScreen
from mazedsl_tui.widgets.compare.plot import ComparePlot
from mazedsl_tui.widgets.runs.table import RunsTable
from tests.tui_helpers import run_async, wait_for, widget_text




@pytest.fixture(scope="session")
def ws(tmp_path_factory) -> Workspace:
    return shared_workspace(tmp_path_factory, "tui_compare")




def cell(table: DataTable, row: Any, column: str) -> str:
    value = table.get_cell(row, column)
    return value.plain if isinstance(value, Text) else str(value)


def make_app(ws: Workspace, **kwargs: Any) -> MazeApp:
    return MazeApp(ws.root / "experiments", ws.runs, poll_interval=0.05, **kwargs)


async def runs_ready(pilot, count: int) -> RunsTable:
    table = pilot.app.screen.query_one(RunsTable)
    await wait_for(pilot, lambda: table.row_count == count, what=f"{count} rows")
    return table


@run_async
async def test_a_sweep_is_one_row_that_opens_its_jobs(ws):
    app = make_app(ws)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await runs_ready(pilot, 2)  # the sweep and the A2C run
        key = str(ws.sweep)
        assert cell(table, key, "status") == "⧉ sweep ×4"
        assert cell(table, key, "run") == "sweep_lr"
        table.move_cursor(row=table.get_row_index(key))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SweepScreen) and app.screen.comparison is not None)
        screen = app.screen
        groups = screen.query_one("#sweep-groups", DataTable)
        assert groups.row_count == 2
        finals = {lr: [eval_returns(j)[-1][1] for j in ws.jobs if json.loads((j / "run.json").read_text())
                       ["command"].count(f"algorithm.lr={lr}")] for lr in ("0.001", "0.003")}
        by_final = sorted(finals, key=lambda lr: -sum(finals[lr]) / 2)
        assert [r.key.value for r in groups.ordered_rows] == [f"algorithm.lr={lr}" for lr in by_final]
        mean = sum(finals["0.001"]) / 2
        std = abs(finals["0.001"][0] - finals["0.001"][1]) / 2 ** 0.5  # sample std (n - 1)
        assert cell(groups, "algorithm.lr=0.001", "final") == f"{mean:,.1f} ± {std:,.1f}"
        await pilot.press("s", "s")  # sort: final -> best -> configuration
        assert [r.key.value for r in groups.ordered_rows] == ["algorithm.lr=0.001", "algorithm.lr=0.003"]
        jobs = screen.query_one("#sweep-jobs", DataTable)
        assert jobs.row_count == 4
        jobs.focus()
        jobs.move_cursor(row=0)
        first = jobs.ordered_rows[0].key.value
        await pilot.press("enter")  # each job one key away
        await wait_for(pilot, lambda: isinstance(app.screen, RunDetailScreen))
        assert app.screen.run_dir == Path(first)


@run_async
async def test_sweep_view_shows_failed_jobs_with_their_error(ws, tmp_path):
    runs = tmp_path / "outputs"
    sweep = with_failed_job(ws.sweep, runs / "cartpole_ppo" / "sweep_bad")
    app = MazeApp(tmp_path / "experiments", runs, poll_interval=0.05)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await runs_ready(pilot, 1)
        assert cell(table, str(sweep), "status") == "⧉ sweep ×4 1✘"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SweepScreen) and app.screen.comparison is not None)
        screen = app.screen
        assert "value loss is nan" in screen.job_error("job_001")
        assert screen.job_error("job_004") == "ConfigError: bad value"
        assert screen.job_error("job_000") == ""
        groups = screen.query_one("#sweep-groups", DataTable)
        assert cell(groups, "algorithm.lr=0.001", "failed") == "1"
        assert cell(groups, "algorithm.lr=0.01", "failed") == "1"
        assert "2 failed" in str(screen.query_one("#sweep-summary").render())


@run_async
async def test_mark_runs_and_compare_them(ws):
    app = make_app(ws)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await runs_ready(pilot, 2)
        table.move_cursor(row=table.get_row_index(str(ws.a2c)))
        await pilot.press("c")  # nothing marked, cursor on a plain run: says how
        await pilot.pause(0.1)
        assert not isinstance(app.screen, CompareScreen)
        table.move_cursor(row=0)
        await pilot.press("space", "space")  # both rows: the sweep (4 jobs) and the A2C run
        assert table.marked == {str(ws.sweep), str(ws.a2c)}
        assert cell(table, str(ws.a2c), "mark") == "●"
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison is not None)
        screen = app.screen
        comparison = screen.comparison
        assert len(comparison.runs) == 5 and len(comparison.groups) == 3
        plot = screen.query_one(ComparePlot)
        assert [label for label, _, _ in plot.curves] == [g.label for g in comparison.groups]
        assert plot.x == "steps" and plot.curves[0][1].x[-1] in (2048.0, 1200.0)
        runs = screen.query_one("#compare-runs", DataTable)
        assert runs.row_count == 5
        assert cell(runs, str(ws.jobs[0]), "final") == f"{eval_returns(ws.jobs[0])[-1][1]:,.1f}"
        # x axis: env steps -> wall seconds
        await pilot.press("x")
        assert plot.x == "time" and "wall time" in str(screen.query_one("#compare-summary").render())
        a2c_curve = next(c for label, c, n in plot.curves if "A2C" in label)
        assert a2c_curve.x == sorted(next(r for r in comparison.runs if r.path == ws.a2c).times)
        await pilot.press("b")
        assert plot.band == "std"
        # the config diff: only the keys that differ, one column per run
        await pilot.press("right_square_bracket")
        diff = screen.query_one("#compare-diff", DataTable)
        keys = [r.key.value for r in diff.ordered_rows]
        assert "algorithm.lr" in keys and "seed" in keys and "algorithm._target_" in keys
        assert "total_steps" in keys and "env.name" not in keys and "model.activation" not in keys
        assert len(diff.columns) == 1 + 5
        assert cell(diff, "total_steps", str(ws.a2c)) == "1200"
        assert cell(diff, "algorithm._target_", str(ws.jobs[0])) == "mazedsl.rl.algos.ppo.PPO"
        await pilot.press("escape")
        assert isinstance(app.screen, RunsScreen)


@run_async
async def test_compare_follows_a_live_run(ws, tmp_path):
    import shutil

    runs = tmp_path / "outputs"
    live = runs / "cartpole_ppo" / "20261201-130000_11ve00"
    shutil.copytree(ws.jobs[0], live)
    info = json.loads((live / "run.json").read_text())
    (live / "run.json").write_text(json.dumps({**info, "status": "running"}))
    app = MazeApp(tmp_path / "experiments", runs, poll_interval=0.05)
    async with app.run_test(size=(100, 32)) as pilot:
        await runs_ready(pilot, 1)
        app.open_compare([live])
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison is not None)
        screen = app.screen
        before = screen.comparison.runs[0].returns[:]
        assert "live" in str(screen.query_one("#compare-summary").render())
        with open(live / "metrics.jsonl", "a") as fh:
            fh.write(json.dumps({"phase": "eval", "step": 2560, "time": 5.0, "mean_return": 412.0}) + "\n")
        await wait_for(pilot, lambda: screen.comparison.runs[0].returns == before + [412.0], what="new eval")
        assert screen.query_one(ComparePlot).curves[0][1].x[-1] == 2560.0
        (live / "run.json").write_text(json.dumps({**info, "status": "finished"}))
        await wait_for(pilot, lambda: not screen.comparison.live, what="finished")


@run_async
async def test_compare_of_a_run_with_itself_and_damaged_runs(ws, tmp_path):
    from compare_runs import with_damaged_line, without_evals

    runs = tmp_path / "outputs"
    empty = without_evals(ws.jobs[0], runs / "exp" / "20261201-140000_000000")
    damaged = with_damaged_line(ws.jobs[1], runs / "exp" / "20261201-140100_000001")
    app = MazeApp(tmp_path / "experiments", runs, poll_interval=0.05)
    async with app.run_test(size=(100, 32)) as pilot:
        await runs_ready(pilot, 2)
        app.open_compare([empty, damaged, damaged])
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison is not None)
        screen = app.screen
        summary = str(screen.query_one("#compare-summary").render())
        assert "no evaluation yet" in summary and "damaged" in summary
        runs_table = screen.query_one("#compare-runs", DataTable)
        assert runs_table.row_count == 2
        assert cell(runs_table, str(empty), "final") == "—"
        app.pop_screen()
        app.open_compare([damaged])
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison is not None)
        diff = app.screen.query_one("#compare-diff", DataTable)
        assert cell(diff, diff.ordered_rows[0].key, "key") == "one run: nothing to diff"
        app.pop_screen()
        app.open_compare([tmp_path / "gone"])
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison is not None)
        assert "no run.json" in str(app.screen.query_one("#compare-summary").render())


@run_async
async def test_palette_compares_a_sweep(ws):
    app = make_app(ws)
    async with app.run_test(size=(120, 40)) as pilot:
        await runs_ready(pilot, 2)
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*"compare sweep")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison is not None)
        assert len(app.screen.comparison.runs) == 4


# -- the Runs-table fixes (issue #14) -------------------------------------------------------------

@run_async
async def test_growing_cells_widen_their_column_and_end_goes_to_the_last_row(tmp_path):
    """A running run went from 2,048 to 200,192 steps and showed '200,1'; End scrolled sideways
    and hid every column until a resize."""
    demo = build_demo(tmp_path)
    running = next(p for p in demo.run_dirs if "pendulum" in str(p))
    info = json.loads((running / "run.json").read_text())
    info["steps"] = 2048
    (running / "run.json").write_text(json.dumps(info))
    app = MazeApp(demo.experiments, demo.runs, library=DemoLibrary(), poll_interval=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await runs_ready(pilot, 4)
        for steps in (20480, 200192):
            info["steps"] = steps
            (running / "run.json").write_text(json.dumps(info))
            await wait_for(pilot, lambda: table.cell_text(str(running), "steps") == f"{steps:,}")
        await pilot.pause(0.1)
        column = next(c for c in table.columns.values() if c.key.value == "steps")
        assert column.get_render_width(table) - 2 * table.cell_padding >= len("200,192")
        await pilot.press("end")
        await pilot.pause(0.1)
        assert table.cursor_row == 3 and table.scroll_x == 0
        await pilot.press("home")
        assert table.cursor_row == 0
        assert table.virtual_size.width <= table.size.width  # nothing hidden sideways
        assert "200,192" in app.export_screenshot()


@run_async
async def test_80x24_keeps_a_run_column_that_tells_rows_apart(tmp_path):
    demo = build_demo(tmp_path)
    app = MazeApp(demo.experiments, demo.runs, library=DemoLibrary(), poll_interval=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await runs_ready(pilot, 4)
        await pilot.pause()
        assert "run" in [c.value for c in table.columns]
        ppo = [str(p) for p in demo.run_dirs if p.parent.name == "cartpole_ppo"]
        names = {table.cell_text(k, "run") for k in ppo}
        assert names == {"3fa9c1", "9e1d7b"}
        assert table.virtual_size.width <= table.size.width


@run_async
async def test_brackets_in_names_and_values_are_shown_as_they_are(ws, tmp_path):
    """A DataTable reads a str cell as rich markup: an experiment named ``[red]exp`` or a
    configuration label ``allow_targets=[mypkg]`` (a list of strings, as a BC run's
    ``algorithm.episodes=[cartpole_ppo:latest]``) must keep its brackets."""
    runs = tmp_path / "outputs"
    a, b = (runs / "exp" / f"20261201-15000{i}_00000{i}" for i in range(2))
    shutil.copytree(ws.jobs[0], a)
    shutil.copytree(ws.jobs[0], b)
    info = json.loads((a / "run.json").read_text())
    (a / "run.json").write_text(json.dumps({**info, "experiment": "[red]exp"}))
    config = (b / "config.yaml").read_text()
    assert "\nallow_targets: []\n" in config
    (b / "config.yaml").write_text(config.replace("\nallow_targets: []\n", "\nallow_targets:\n- mypkg\n"))
    app = MazeApp(tmp_path / "experiments", runs, poll_interval=0.05)
    async with app.run_test(size=(120, 32)) as pilot:
        table = await runs_ready(pilot, 2)
        await pilot.pause()
        assert "[red]exp" in drawn(table)
        app.open_compare([a, b])
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison is not None)
        runs_table = app.screen.query_one("#compare-runs", DataTable)
        await wait_for(pilot, lambda: runs_table.row_count == 2, what="the compared runs")
        await pilot.pause()
        assert "allow_targets=[mypkg]" in drawn(runs_table)


def drawn(widget) -> str:
    """What a widget draws, row by row."""
    return widget_text(widget, border=True)


@run_async
async def test_compare_of_different_experiments_shows_the_numbers_and_names_each_group(ws):
    """Runs of two experiments differ in most config keys: the Configuration column (one long
    string) pushed Seed, Final/Best eval, Steps and Status out of sight, and the legend named
    only the first series."""
    app = make_app(ws)
    async with app.run_test(size=(100, 32)) as pilot:
        await runs_ready(pilot, 2)
        app.open_compare([ws.jobs[0], ws.a2c])
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison is not None)
        screen = app.screen
        runs_table = screen.query_one("#compare-runs", DataTable)
        await wait_for(pilot, lambda: runs_table.row_count == 2, what="the compared runs")
        await pilot.pause()
        labels = [g.label for g in screen.comparison.groups]
        assert len(labels) == 2 and max(len(label) for label in labels) > 100  # longer than the screen
        assert runs_table.virtual_size.width <= runs_table.size.width  # nothing hidden sideways
        text = drawn(runs_table)
        for header in ("Seed", "Final eval", "Best eval", "Steps", "Status", "Configuration"):
            assert header in text
        assert f"{eval_returns(ws.a2c)[-1][1]:,.1f}" in text and "1,200" in text
        assert "…" in text  # the long configuration is cut, not the numbers
        assert cell(runs_table, str(ws.jobs[0]), "color").endswith("A")
        assert cell(runs_table, str(ws.a2c), "color").endswith("B")
        # one legend entry per group, keyed as in the table
        plot = screen.query_one(ComparePlot)
        legend = drawn(plot).splitlines()[-1]
        assert "━ A " in legend and "━ B " in legend
        # wider: more of the configuration, the numbers still in sight
        await pilot.resize_terminal(160, 32)
        await pilot.pause(0.2)
        assert runs_table.virtual_size.width <= runs_table.size.width
        assert len(cell(runs_table, str(ws.a2c), "group")) > 60
