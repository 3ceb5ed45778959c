"""End to end: launch a tiny training from the UI (real CLI, real engine), watch it, roll it out."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.tui_helpers import wait_for

EXPERIMENT = '''"""A tiny CartPole PPO run for the TUI end-to-end test."""

from mazedsl.spec import Experiment, GymEnv, Runner
from mazedsl import PPO

experiment = Experiment(
    name="tiny_cartpole",
    env=GymEnv(name="CartPole-v1"),
    algorithm=PPO(n_steps=64, batch_size=128, n_epochs=2),
    runner=Runner(n_envs=4),
    total_steps=20_000,
    eval_every_steps=1024,
    eval_episodes=2,
    checkpoint_every_steps=1024,
)
'''




def test_train_watch_and_roll_out_from_the_ui(tmp_path):
    from mazedsl_tui.app import MazeApp
    from mazedsl_tui.screens.launch import LaunchScreen
    from mazedsl_tui.screens.rollout import RolloutScreen
    from mazedsl_tui.screens.run_detail import RunDetailScreen
    from mazedsl_tui.widgets.detail.curves import MetricsPlot
    from mazedsl_tui.widgets.runs.table import RunsTable

    experiments = tmp_path / "experiments"
    experiments.mkdir()
    (experiments / "tiny_cartpole.py").write_text(EXPERIMENT)
    app = MazeApp(experiments, tmp_path / "outputs", poll_interval=0.05, mode="experiments")
    budget, log_every = 30720, 512  # a second or two of training: long enough to watch it grow

    async def scenario() -> None:
        async with app.run_test(size=(100, 32)) as pilot:
            await wait_for(pilot, lambda: app.screen.experiment is not None, 60, "the experiment")
            await pilot.press("t")
            await wait_for(pilot, lambda: isinstance(app.screen, LaunchScreen) and app.screen.is_mounted,
                           10, "the launch screen")
            launch = app.screen
            launch.query_one("#launch-overrides").value = f"log_every_steps={log_every} eval_every_steps=5120"
            launch.query_one("#launch-budget").value = str(budget)
            await wait_for(pilot, lambda: launch.overrides[-1:] == [f"total_steps={budget}"]
                           and not launch.validating, 30, "validation")
            assert launch.error is None
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, RunDetailScreen) and app.screen.is_mounted,
                           10, "the run screen")
            detail = app.screen
            run_dir = detail.run_dir
            assert run_dir.parent == (tmp_path / "outputs" / "tiny_cartpole").resolve()
            plot = detail.query_one("#plot-return", MetricsPlot)
            counts: list[int] = []

            def finished() -> bool:
                counts.append(plot.point_count)
                training = app.trainings.get(run_dir)
                return training is not None and training.returncode is not None

            await wait_for(pilot, finished, 180, "training to finish")
            assert app.trainings.get(run_dir).returncode == 0, (
                run_dir.parent / f".{run_dir.name}.console.log").read_text()
            await wait_for(pilot, lambda: plot.point_count == budget // log_every, 10, "every training line")
            assert len(set(counts)) > 2  # the curve grew while training ran, not only at the end
            await wait_for(pilot, lambda: "finished" in str(detail.query_one("#run-summary").render()),
                           10, "finished in the summary")

            await pilot.press("1")
            table = app.screen.query_one(RunsTable)
            key = str(run_dir)
            await wait_for(pilot, lambda: key in [r.key.value for r in table.ordered_rows], 10, "the row")
            await wait_for(pilot, lambda: table.cell_text(key, "status") == "✔ finished", 10, "finished")
            assert table.cell_text(key, "steps") == f"{budget:,}"
            assert table.cell_text(key, "experiment") == "tiny_cartpole"

            table.move_cursor(row=table.get_row_index(key))
            await pilot.press("o")
            await wait_for(pilot, lambda: isinstance(app.screen, RolloutScreen) and app.screen.is_mounted,
                           10, "the rollout viewer")
            viewer = app.screen
            await wait_for(pilot, lambda: viewer.steps_taken > 3, 60, "the policy playing")
            assert viewer.error is None
            assert viewer.query_one("#env-view").drawn_as() == "shapes"
            await pilot.press("space")
            paused_at = viewer.steps_taken
            await pilot.pause(0.3)
            assert viewer.steps_taken == paused_at

    asyncio.run(scenario())
    assert (Path(app.runs_root) / "tiny_cartpole").is_dir()
