"""Small TUI defects: n in Runs opens the highlighted run's experiment; the Config tab marks
the parts an algorithm ignores (a critic, for one without); the rollout viewer says why there
are no frames (pygame missing) instead of drawing something else silently."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from mazedsl_tui.library import run_experiment_ref
from mazedsl_tui.screens.experiments import ExperimentsScreen
from mazedsl_tui.screens.runs import RunsScreen
from mazedsl_tui.widgets.runs.table import RunsTable
from tests.tui_helpers import make_app, run_async, wait_for, widget_text as shown


def highlight(table: RunsTable, run_dir: Path) -> None:
    """Move the Runs table's cursor to ``run_dir``'s row."""
    table.move_cursor(row=table.get_row_index(str(run_dir)))


# == 1. n in Runs: the highlighted run's experiment ===================================================

def test_a_runs_experiment_is_found_from_its_command_else_its_name(tmp_path):
    files = [tmp_path / "exp" / f"{stem}.py" for stem in ("a", "b", "sizes")]
    command = {"cwd": str(tmp_path), "command": ["mazedsl", "train", "--quiet", "exp/b.py", "x.lr=1"]}
    assert run_experiment_ref(command, "whatever", files) == files[1]
    moved = {"cwd": "/elsewhere", "command": ["python", "-m", "mazedsl", "train", "exp/sizes.py:small"]}
    assert run_experiment_ref(moved, "cartpole_small", files) == files[2].with_name("sizes.py:small")
    assert run_experiment_ref({"command": ["mazedsl-run", "algorithm.lr=1"]}, "a", files) == files[0]
    assert run_experiment_ref({}, "unlisted", files) is None


@run_async
async def test_n_in_runs_opens_the_highlighted_runs_experiment(demo):
    app = make_app(demo)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        table = screen.query_one(RunsTable)
        await wait_for(pilot, lambda: table.row_count == 4, what="the runs")
        highlight(table, demo.runs / "cartpole_ppo" / "20260105-093012_3fa9c1")
        await pilot.pause()
        assert screen.selected_run().experiment == "cartpole_ppo"
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen)
                       and app.screen.current is not None, what="the experiments")
        # not the first file (cartpole_a2c.py): the run's
        assert app.screen.current == demo.experiments / "cartpole_ppo.py"
        await pilot.pause(0.2)
        assert app.screen.current == demo.experiments / "cartpole_ppo.py"

        await pilot.press("1")  # back, another run: the screen, already built, follows
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))
        highlight(table, demo.runs / "pendulum_ppo" / "20260107-080000_5d0c2a")
        await pilot.pause()
        assert screen.selected_run().experiment == "pendulum_ppo"
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen)
                       and app.screen.current == demo.experiments / "pendulum_ppo.py",
                       what="pendulum_ppo.py selected")


@run_async
async def test_n_on_a_run_of_an_unlisted_experiment_opens_on_the_first_file(demo):
    run_dir = demo.run_dirs[0]
    info = json.loads((run_dir / "run.json").read_text())
    info.update(experiment="gone", command=["mazedsl", "train", "elsewhere/gone.py"])
    (run_dir / "run.json").write_text(json.dumps(info))
    for other in demo.run_dirs[1:]:
        shutil.rmtree(other)
    app = make_app(demo)
    async with app.run_test(size=(120, 36)) as pilot:
        table = app.screen.query_one(RunsTable)
        await wait_for(pilot, lambda: table.row_count == 1, what="the run")
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen)
                       and app.screen.current is not None, what="the experiments")
        assert app.screen.current == demo.experiments / "cartpole_a2c.py"


# == 2. Config tab: the parts the algorithm ignores ===================================================

ROOT = Path(__file__).resolve().parents[1]


def test_show_marks_an_ignored_critic_and_still_round_trips(tmp_path):
    import attrs

    from mazedsl.config import load_experiment, shown_yaml, to_yaml
    from mazedsl.spec import StateCritic

    dqn = load_experiment(ROOT / "experiments" / "cartpole_dqn.py")
    text = shown_yaml(dqn)
    assert "\ncritic:  # unused by DQN\n  _target_: mazedsl.spec.StateCritic\n" in text
    ppo = load_experiment(ROOT / "experiments" / "cartpole_ppo.py")
    assert shown_yaml(ppo) == to_yaml(ppo) and "unused" not in shown_yaml(ppo)
    custom = attrs.evolve(dqn, critic=StateCritic(hidden_units=[8]))  # set, though ignored
    (tmp_path / "shown.yaml").write_text(shown_yaml(custom))
    assert load_experiment(tmp_path / "shown.yaml") == custom


@run_async
async def test_config_tab_marks_the_critic_a_dqn_experiment_does_not_use(demo):
    dqn = demo.experiments / "cartpole_dqn.py"
    shutil.copy(ROOT / "experiments" / "cartpole_dqn.py", dqn)
    app = make_app(demo, mode="experiments")
    async with app.run_test(size=(120, 60)) as pilot:
        screen = app.screen
        yaml_view = screen.query_one("#exp-yaml")
        screen.show_experiment(dqn)
        await wait_for(pilot, lambda: screen.current == dqn and "name: cartpole_dqn" in shown(yaml_view),
                       what="the DQN experiment's YAML")
        assert "critic:  # unused by DQN" in shown(yaml_view)
        screen.show_experiment(demo.experiments / "cartpole_ppo.py")  # PPO's critic: as it was
        await wait_for(pilot, lambda: "name: cartpole_ppo" in shown(yaml_view), what="PPO's YAML")
        assert "critic:" in shown(yaml_view) and "unused" not in shown(yaml_view)


# == 3. Rollout frames without pygame ==================================================================

@run_async
async def test_rollout_frame_view_says_frames_need_pygame(demo, monkeypatch):
    import sys

    from mazedsl_tui.rollout import RolloutSource
    from mazedsl_tui.widgets.rollout.view import EnvView

    monkeypatch.setitem(sys.modules, "pygame", None)  # `import pygame` fails: as when not installed
    app = make_app(demo)
    async with app.run_test(size=(100, 32)) as pilot:
        # an env drawn from frames alone (no shapes): gymnasium's render needs pygame
        app.push_rollout(RolloutSource.random_policy("FrozenLake-v1", render_mode="rgb_array"),
                         paused=True)
        viewer = app.screen
        await wait_for(pilot, lambda: viewer.step is not None, what="the first step")
        await pilot.pause()
        view = viewer.query_one(EnvView)
        assert view.step.frame is None and view.drawn_as() == "observation"
        text = shown(view)  # (inside the view's border)
        assert "Frames need pygame, which is not installed: pip install pygame" in text.splitlines()[1]
        assert "obs[0]" in text.splitlines()[2]  # what can be drawn still is, under it

        await pilot.press("v", "v")  # auto -> shapes -> frame: the frame view says it too
        assert view.mode == "frame" and "Frames need pygame" in shown(view)
        await pilot.press("v")  # the observation view: no frame asked for, no note
        assert view.mode == "observation" and "pygame" not in shown(view)
