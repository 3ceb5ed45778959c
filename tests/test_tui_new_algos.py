"""The TUI on DQN, SAC and BC runs (issue #12 QA: D5, D7, D15): the launch dialog refuses what
training would refuse, the Losses panel shows what the run logs, readable, and nothing runs
past a plot's frame or into its neighbour."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from textual.geometry import Region
from textual.widgets import Static

from mazedsl_tui.app import MazeApp
from mazedsl_tui.demo import DemoLibrary
from mazedsl_tui.library import Library
from mazedsl_tui.screens.launch import LaunchScreen
from mazedsl_tui.screens.run_detail import NO_TRAIN_EPISODES, RunDetailScreen
from mazedsl_tui.screens.runs import RunsScreen
from mazedsl_tui.widgets.detail.curves import READABLE, MetricsPlot, assign_axes, loss_plot, readability
from tests.tui_helpers import run_async, wait_for, widget_lines

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
FINISHED = "20260105-093012_3fa9c1"


def lines(widget) -> list[str]:
    """The text a widget draws, border included, one string a row."""
    return widget_lines(widget, border=True)


async def wait_for_screen(pilot, app: MazeApp, cls: type) -> None:
    await wait_for(pilot, lambda: isinstance(app.screen, cls) and app.screen.is_mounted, what=cls.__name__)


# -- fixture runs: a finished demo run with the metrics a DQN, SAC or BC learner writes -------------

def _train(step: int, **values: float) -> dict[str, Any]:
    return {"phase": "train", "step": step, "time": step / 1000, "steps_per_s": 1000.0 + step % 7, **values}


def _metrics(algorithm: str) -> list[dict[str, Any]]:
    """Records with the keys (and scales) of a real run of ``algorithm`` (see the module doc)."""
    records = []
    for i in range(1, 21):
        step = 256 * i
        if algorithm == "DQN":  # cartpole_dqn: q_loss ~0.06-0.1, epsilon 1 -> 0.04
            rec = _train(step, ep_return_mean=20.0 + i, ep_return_min=8.0, ep_return_max=40.0 + i,
                         epsilon=max(0.04, 1 - 0.1 * i), lr=0.0023, q_loss=0.06 + 0.002 * i, q_mean=4.0 + i)
        elif algorithm == "SAC":  # pendulum_sac: policy ~5-50, Q loss ~0.06-0.9, alpha 0.9 -> 0.1
            rec = _train(step, ep_return_mean=-1300.0 + 10 * i, ep_return_min=-1700.0, ep_return_max=-900.0,
                         q_loss=0.06 + 0.04 * i, policy_loss=5.0 + 2.3 * i, entropy=0.9 - 0.075 * i,
                         ent_coef=0.9 - 0.04 * i, ent_coef_loss=-1.0, q_mean=-5.0 * i)
        else:  # cartpole_bc: no env episodes while it trains
            rec = _train(step, bc_loss=0.52 - 0.01 * i, bc_neglogp=0.52 - 0.01 * i, entropy=0.62 - 0.015 * i,
                         bc_val_loss=0.34 - 0.003 * i, bc_val_accuracy=0.85, lr=0.001)
        records.append(rec)
    records.append({"phase": "eval", "step": 5120, "time": 6.0, "mean_return": 118.4, "std_return": 51.0,
                    "min_return": 63.0, "max_return": 253.0, "mean_length": 118.4, "n_episodes": 20,
                    "best": True})
    return records


def algo_run(demo, algorithm: str) -> Path:
    """A copy of the finished demo run as a run of ``algorithm`` (run.json and metrics.jsonl)."""
    source = next(p for p in demo.run_dirs if p.name == FINISHED)
    path = demo.runs / f"cartpole_{algorithm.lower()}" / FINISHED
    shutil.copytree(source, path)
    info = json.loads((path / "run.json").read_text())
    info.update(experiment=f"cartpole_{algorithm.lower()}", algorithm=algorithm)
    if algorithm == "BC":  # as its learner records it (plays_episodes = False)
        info["train_episodes"] = False
    (path / "run.json").write_text(json.dumps(info))
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in _metrics(algorithm)))
    return path


async def open_curves(pilot, app: MazeApp, path: Path) -> dict[str, MetricsPlot]:
    app.open_run(path)
    await wait_for_screen(pilot, app, RunDetailScreen)
    plots = {p.id: p for p in app.screen.query(MetricsPlot)}
    await wait_for(pilot, lambda: plots["plot-loss"].point_count == 20 and app.screen.info is not None,
                   what="the losses")
    await pilot.pause()
    return plots


# -- D5: the launch dialog runs training's preflight ---------------------------------------------------

@pytest.mark.parametrize("experiment, overrides, expected", [
    ("cartpole_ppo.py", "algorithm=sac", "sac needs a box action space"),
    ("cartpole_bc.py", "algorithm.episodes=[{empty}]", "episodes"),
])
@run_async
async def test_launch_refuses_what_training_would_refuse(tmp_path, experiment, overrides, expected):
    empty = tmp_path / "empty-dir"
    empty.mkdir()
    runs = tmp_path / "outputs"
    app = MazeApp(EXPERIMENTS, runs, library=Library(), poll_interval=0.05, mode="runs")
    async with app.run_test(size=(100, 32)) as pilot:
        app.open_launch(EXPERIMENTS / experiment, overrides.format(empty=empty))
        await wait_for_screen(pilot, app, LaunchScreen)
        launch = app.screen
        error = launch.query_one("#launch-error", Static)
        await wait_for(pilot, lambda: launch.error is not None or "✔ valid" in str(error.render()),
                       timeout=60, what="the check")
        shown = str(error.render())
        assert "✔ valid" not in shown
        assert expected in shown.lower() and shown.startswith("✘ ") and "\n" not in shown.strip()
        assert launch.query_one("#launch-start").disabled
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert app.screen is launch  # refused: still the dialog
        assert not runs.exists() or not any(runs.rglob("*"))  # nothing written
        assert app.trainings.running() == [] and app.trainings.exited() == set()  # no process


@run_async
async def test_launch_says_valid_for_an_experiment_training_takes(tmp_path):
    app = MazeApp(EXPERIMENTS, tmp_path / "outputs", library=Library(), poll_interval=0.05, mode="runs")
    async with app.run_test(size=(100, 32)) as pilot:
        app.open_launch(EXPERIMENTS / "cartpole_dqn.py", "total_steps=1000")
        await wait_for_screen(pilot, app, LaunchScreen)
        error = app.screen.query_one("#launch-error", Static)
        await wait_for(pilot, lambda: "✔ valid" in str(error.render()) or app.screen.error, timeout=60)
        assert app.screen.error is None
        assert not app.screen.query_one("#launch-start").disabled


def test_preflight_refuses_sac_on_cartpole_like_mazedsl_run():
    from mazedsl.config import apply_overrides, load_experiment
    from mazedsl.errors import MazeError

    experiment = apply_overrides(load_experiment(EXPERIMENTS / "cartpole_ppo.py"), ["algorithm=sac"])
    with pytest.raises(MazeError, match="sac needs a Box action space"):
        Library().preflight(experiment)
    Library().preflight(load_experiment(EXPERIMENTS / "cartpole_ppo.py"))  # PPO: taken


# -- D7: the Losses panel ----------------------------------------------------------------------------

def test_loss_series_each_have_their_own_colour():
    plot = loss_plot()
    assert len({s.color for s in plot.series}) == len(plot.series)


@pytest.mark.parametrize("algorithm, legend", [
    ("DQN", ["Q loss", "ε →"]),
    ("SAC", ["policy", "entropy →", "Q loss →", "α →"]),
    ("BC", ["entropy", "BC loss", "BC val loss →"]),
])
@run_async
async def test_loss_legend_lists_only_what_the_run_logs(demo, algorithm, legend):
    app = MazeApp(demo.experiments, demo.runs, library=DemoLibrary(), poll_interval=0.05)
    async with app.run_test(size=(120, 34)) as pilot:
        plots = await open_curves(pilot, app, algo_run(demo, algorithm))
        loss = plots["plot-loss"]
        assert loss.legend() == legend
        subtitle = str(loss.border_subtitle)
        for label in ("policy", "value", "Q loss", "BC loss", "ε", "α", "entropy"):
            assert (f"━ {label}" in subtitle) == any(item.startswith(label) for item in legend), label


@run_async
async def test_sac_q_loss_is_readable_beside_its_policy_loss(demo):
    app = MazeApp(demo.experiments, demo.runs, library=DemoLibrary(), poll_interval=0.05)
    async with app.run_test(size=(120, 34)) as pilot:
        loss = (await open_curves(pilot, app, algo_run(demo, "SAC")))["plot-loss"]
        assert loss.sides["policy_loss"] == "left" and loss.sides["q_loss"] == "right"
        ranges = {k: (min(loss.values(k)), max(loss.values(k))) for k in ("policy_loss", "q_loss", "entropy", "ent_coef")}
        assert readability(ranges, loss.sides) >= READABLE
        # on one axis the Q loss (0.1-0.9) would be a flat line under the policy loss (7-51)
        assert readability(ranges, {k: "left" for k in ranges}) < 0.05
        drawn = "".join(lines(loss))
        assert "├0." in drawn and "51" in drawn  # both scales labelled: right ticks below 1


def test_assign_axes_keeps_the_preferred_sides_while_they_read():
    ranges = {"policy_loss": (-0.012, 0.004), "entropy": (0.6, 0.69), "value_loss": (1.5, 41.5)}
    preferred = {"policy_loss": "left", "entropy": "left", "value_loss": "right"}
    assert assign_axes(ranges, preferred, keep_left="policy_loss") == preferred  # PPO: as before
    ranges = {"q_loss": (0.06, 0.1), "epsilon": (0.04, 1.0)}
    sides = assign_axes(ranges, {"q_loss": "left", "epsilon": "right"})
    assert sides == {"q_loss": "left", "epsilon": "right"}
    assert assign_axes({"a": (1.0, 2.0), "b": (1.5, 3.0)}, {"a": "left", "b": "right"}) == \
        {"a": "left", "b": "right"}  # readable as declared: left alone


@run_async
async def test_bc_return_panel_says_why_it_is_empty(demo):
    app = MazeApp(demo.experiments, demo.runs, library=DemoLibrary(), poll_interval=0.05)
    async with app.run_test(size=(100, 32)) as pilot:
        plots = await open_curves(pilot, app, algo_run(demo, "BC"))
        text = "\n".join(lines(plots["plot-return"]))
        assert NO_TRAIN_EPISODES in text and "no training episodes" not in text
        assert plots["plot-return"].legend() == [] and "min/max" not in str(plots["plot-return"].border_subtitle)
        assert plots["plot-eval"].point_count == 1


@run_async
async def test_runs_preview_says_what_a_sparkline_could_not(demo):
    """The Runs screen's preview draws a sparkline from two values up; a run that plays no
    episodes while training says so, and a single evaluation is its value, not a full bar."""
    bc = algo_run(demo, "BC")
    app = MazeApp(demo.experiments, demo.runs, library=DemoLibrary(), poll_interval=0.05, mode="runs")
    async with app.run_test(size=(170, 40)) as pilot:
        await wait_for_screen(pilot, app, RunsScreen)
        screen = app.screen
        note = lambda name: str(screen.query_one(f"#preview-{name}-note", Static).render())  # noqa: E731
        await wait_for(pilot, lambda: screen.selected_run() is not None, what="the runs")
        for _ in range(len(screen._runs)):
            if screen.selected_run().path == bc:
                break
            await pilot.press("down")
        await wait_for(pilot, lambda: screen.selected_run().path == bc and "one so far" in note("eval"),
                       what="the BC run's preview")
        assert note("return") == "none: it learns from recordings" and note("eval") == "one so far: 118.4"
        assert not screen.query_one("#preview-return").display and not screen.query_one("#preview-eval").display
        await pilot.press("up")  # another run: a finished PPO run with returns and evaluations
        await wait_for(pilot, lambda: screen.selected_run().path != bc
                       and screen.query_one("#preview-return").display, what="a run with returns")
        assert len(screen.query_one("#preview-return").data) >= 2
        assert not screen.query_one("#preview-return-note").display


# -- D15: plots stay inside their frames; the evaluation summary separates its fields ---------------

@pytest.mark.parametrize("algorithm", ["SAC", "BC"])
@run_async
async def test_plot_lines_stop_short_of_the_right_frame(demo, algorithm):
    app = MazeApp(demo.experiments, demo.runs, library=DemoLibrary(), poll_interval=0.05)
    async with app.run_test(size=(120, 34)) as pilot:
        plots = await open_curves(pilot, app, algo_run(demo, algorithm))
        checked = 0
        for plot in plots.values():
            if not plot.point_count or plot.point_count < 2:
                continue
            rows = lines(plot)
            # no braille: many fonts draw it wider than a cell, so long runs overflow the frame
            assert not any(0x2800 < ord(c) <= 0x28FF for row in rows for c in row), plot.id
            top = next(r for r in rows if "┌" in r)
            right = top.index("┐")  # the frame's right edge
            for row in rows:
                if len(row) > right and row[right] in "│├┤┘":
                    inside = ord(row[right - 1])  # braille dots or half blocks: data
                    assert not (0x2800 < inside <= 0x28FF or 0x2580 <= inside <= 0x259F), \
                        f"{plot.id}: a dot against the frame: {row!r}"
                    checked += 1
        assert checked > 10


@run_async
async def test_evaluation_summary_separates_labels_from_values(demo):
    path = next(p for p in demo.run_dirs if p.name == FINISHED)
    app = MazeApp(demo.experiments, demo.runs, library=DemoLibrary(), poll_interval=0.05)
    async with app.run_test(size=(160, 32)) as pilot:
        app.open_run(path, tab="evaluation")
        await wait_for_screen(pilot, app, RunDetailScreen)
        summary = app.screen.query_one("#eval-summary", Static)
        await wait_for(pilot, lambda: "Mean return" in "".join(lines(summary)))
        text = lines(summary)[0]
        assert ("Mean return 484.00 ± 18.61 · min 438.0 · max 494.4 · mean length 483.6 · 10 episodes"
                " · best checkpoint") in text
        # no styled run starts with a space (SVG viewers drop it: "438.0max 494.4mean length")
        width, height = summary.outer_size
        strip = summary.render_lines(Region(0, 0, width, height))[0]
        texts = [seg.text for seg in strip if seg.text.strip()]
        assert all(not t[0].isspace() for t in texts[1:]), texts
        header = lines(app.screen.query_one("#run-summary", Static))[1]
        assert "best eval 494.4 · started 2026-01-05 09:30 · took 0:29" in header
        strip = app.screen.query_one("#run-summary", Static).render_lines(Region(0, 0, 160, 2))[1]
        texts = [seg.text for seg in strip if seg.text.strip()]
        assert all(not t[0].isspace() for t in texts[1:]), texts
