"""Snapshot tests of the main TUI screens (pytest-textual-snapshot), on the demo run directories.

Update after an intended visual change with ``pytest tests/test_tui_snapshots.py --snapshot-update``
and look at the SVGs under tests/__snapshots__/test_tui_snapshots/.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np
import pytest

from mazedsl_tui.app import MazeApp
from mazedsl_tui.demo import DemoLibrary, build_demo
from mazedsl_tui.rollout import RolloutSource, Step

FINISHED = "cartpole_ppo/20260105-093012_3fa9c1"
RUNNING = "pendulum_ppo/20260107-080000_5d0c2a"


@pytest.fixture
def demo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # paths shown relative to the working directory stay the same
    return build_demo(tmp_path)


def make_app(demo, mode: str = "runs") -> MazeApp:
    return MazeApp(demo.experiments, demo.runs, library=DemoLibrary(), poll_interval=0.05, mode=mode)


async def settle(pilot, predicate: Callable[[], Any], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the screen did not settle"
        await pilot.pause(0.02)
    await pilot.pause()


def runs_loaded(pilot) -> Callable[[], bool]:
    return lambda: pilot.app.screen.query_one("#runs-table").row_count == 4


def open_run(demo, rel: str, tab: str = "curves"):
    async def run_before(pilot) -> None:
        from mazedsl_tui.widgets.detail.curves import MetricsPlot

        app = pilot.app
        await settle(pilot, runs_loaded(pilot))
        app.open_run(demo.runs / rel, tab=tab)
        await settle(pilot, lambda: app.screen.is_mounted and getattr(app.screen, "records", None))
        await settle(pilot, lambda: all(p.point_count for p in app.screen.query(MetricsPlot)
                                        if p.id != "plot-eval") and app.screen.query_one("#run-log").text_lines)
    return run_before


def test_runs(snap_compare, demo):
    app = make_app(demo)
    assert snap_compare(app, terminal_size=(100, 32), run_before=lambda p: settle(p, runs_loaded(p)))


def test_runs_80x24(snap_compare, demo):
    app = make_app(demo)
    assert snap_compare(app, terminal_size=(80, 24), run_before=lambda p: settle(p, runs_loaded(p)))


def test_runs_wide_with_preview(snap_compare, demo):
    app = make_app(demo)

    async def run_before(pilot) -> None:
        await settle(pilot, runs_loaded(pilot))
        await pilot.press("down", "down")
        await settle(pilot, lambda: "cartpole_ppo" in str(pilot.app.screen.query_one("#preview-summary").render())
                     and len(pilot.app.screen.query_one("#preview-eval").data) == 4)

    assert snap_compare(app, terminal_size=(160, 40), run_before=run_before)


def test_run_detail_curves(snap_compare, demo):
    assert snap_compare(make_app(demo), terminal_size=(100, 32), run_before=open_run(demo, FINISHED))


def test_run_detail_80x24_running(snap_compare, demo):
    assert snap_compare(make_app(demo), terminal_size=(80, 24), run_before=open_run(demo, RUNNING))


def test_run_detail_evaluation(snap_compare, demo):
    assert snap_compare(make_app(demo), terminal_size=(100, 32),
                        run_before=open_run(demo, FINISHED, tab="evaluation"))


def experiments_ready(pilot, name: str = "cartpole_a2c.py") -> Callable[[], bool]:
    def ready() -> bool:
        screen = pilot.app.screen
        return (getattr(screen, "experiment", None) is not None and screen.current.name == name
                and screen.query_one("#exp-provenance").row_count > 0)
    return ready


def test_experiments_provenance(snap_compare, demo):
    async def run_before(pilot) -> None:
        await settle(pilot, experiments_ready(pilot))
        await pilot.press("right_square_bracket")
        await settle(pilot, lambda: pilot.app.screen.query_one("#exp-explain").render())

    assert snap_compare(make_app(demo, "experiments"), terminal_size=(100, 32), run_before=run_before)


def test_experiments_diff(snap_compare, demo):
    async def run_before(pilot) -> None:
        app = pilot.app
        app.open_diff(demo.experiments / "cartpole_ppo.py", demo.experiments / "pendulum_ppo.py")
        await settle(pilot, lambda: app.screen.query("#diff-table")
                     and app.screen.query_one("#diff-table").row_count == 19)

    assert snap_compare(make_app(demo), terminal_size=(100, 32), run_before=run_before)


def test_experiments_diff_80x24(snap_compare, demo):
    async def run_before(pilot) -> None:
        app = pilot.app
        app.open_diff(demo.experiments / "cartpole_ppo.py", demo.experiments / "pendulum_ppo.py")
        await settle(pilot, lambda: app.screen.query("#diff-table")
                     and app.screen.query_one("#diff-table").row_count == 19
                     and "linear" in str(app.screen.query_one("#diff-detail").render()))

    assert snap_compare(make_app(demo), terminal_size=(80, 24), run_before=run_before)


def test_experiments_of_a_file_of_several(snap_compare, demo):
    from mazedsl_tui.demo import write_several

    several = write_several(demo.experiments)
    small = several.with_name(f"{several.name}:small")

    async def run_before(pilot) -> None:
        screen = pilot.app.screen
        await settle(pilot, lambda: several in getattr(screen, "choices", {}))
        screen.show_experiment(small)
        await settle(pilot, lambda: screen.current == small and screen.experiment is not None
                     and screen.query_one("#exp-provenance").row_count > 0)

    assert snap_compare(make_app(demo, "experiments"), terminal_size=(100, 32), run_before=run_before)


def test_experiments_sweep_config(snap_compare, demo, monkeypatch):
    from pathlib import Path

    from mazedsl_tui import sweeps

    monkeypatch.setattr(sweeps.SweepConfig, "problem", lambda self: None)  # the same with or without Optuna
    sweep = demo.experiments / "optuna_cartpole.yaml"
    sweep.write_text((Path(__file__).resolve().parents[1] / "experiments" / "optuna_cartpole.yaml").read_text())

    async def run_before(pilot) -> None:
        screen = pilot.app.screen
        await settle(pilot, lambda: getattr(screen, "_ready", False))
        screen.show_experiment(sweep, tab="provenance")
        await settle(pilot, lambda: screen.sweep is not None)

    assert snap_compare(make_app(demo, "experiments"), terminal_size=(100, 32), run_before=run_before)


def test_launch_with_an_inline_error(snap_compare, demo):
    async def run_before(pilot) -> None:
        from textual.widgets import Input

        from mazedsl_tui.screens.launch import LaunchScreen

        app = pilot.app
        await settle(pilot, experiments_ready(pilot))
        app.open_launch(demo.experiments / "cartpole_a2c.py", "algorithm.lr=-1 runner.n_envs=4")
        await settle(pilot, lambda: isinstance(app.screen, LaunchScreen) and app.screen.is_mounted)
        for field in app.screen.query(Input):
            field.cursor_blink = False
        app.screen.query_one("#launch-budget").value = "20000"
        await settle(pilot, lambda: app.screen.error and "algorithm.lr" in app.screen.error
                     and app.screen.overrides[-1] == "total_steps=20000")

    assert snap_compare(make_app(demo, "experiments"), terminal_size=(100, 32), run_before=run_before)


def swinging_cartpole(seed, render_mode):
    total = 0.0
    for t in range(200):
        total += 1.0
        yield Step(t=t, observation=np.zeros(4), action=t % 2, reward=1.0, terminated=False, truncated=False,
                   episode_return=total, state=np.array([0.8, 0.0, 0.25, 0.0]), env_id="CartPole-v1")


def test_rollout_viewer(snap_compare, demo):
    async def run_before(pilot) -> None:
        app = pilot.app
        app.push_rollout(RolloutSource(swinging_cartpole, env_id="CartPole-v1", title="demo policy",
                                       render_mode=None), paused=True)
        await settle(pilot, lambda: getattr(app.screen, "step", None) is not None)
        await pilot.press("n", "n", "n")

    assert snap_compare(make_app(demo), terminal_size=(100, 32), run_before=run_before)


def test_help(snap_compare, demo):
    assert snap_compare(make_app(demo), terminal_size=(100, 32), press=["question_mark"])


def open_compare(demo):
    async def run_before(pilot) -> None:
        from mazedsl_tui.demo import write_demo_sweep
        from mazedsl_tui.screens.compare import CompareScreen

        app = pilot.app
        await settle(pilot, runs_loaded(pilot))
        sweep = write_demo_sweep(demo.runs)
        jobs = sorted(p.parent for p in sweep.glob("*/run.json"))
        app.open_compare([*jobs, demo.runs / FINISHED], title="Compare the lr sweep and a single run")
        await settle(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison is not None
                     and app.screen.query_one("#compare-runs").row_count == 7)
    return run_before


def test_compare_120x40(snap_compare, demo):
    assert snap_compare(make_app(demo), terminal_size=(120, 40), run_before=open_compare(demo))


def test_compare_80x24(snap_compare, demo):
    assert snap_compare(make_app(demo), terminal_size=(80, 24), run_before=open_compare(demo))
