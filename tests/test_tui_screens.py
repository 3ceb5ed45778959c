"""Pilot tests of every TUI screen on fixture run directories (mazedsl_tui.demo)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Static

from mazedsl.run import iter_metrics
from mazedsl_tui.app import MazeApp, main
from mazedsl_tui.demo import DEMO_RUNS, DemoLibrary
from mazedsl_tui.messages import MetricsUpdated, RunsUpdated, TrainingExited, TrainingStarted
from mazedsl_tui.widgets.detail.log import RunLog
from mazedsl_tui.rollout import RolloutSource, Step
from mazedsl_tui.screens.experiments import ExperimentsScreen
from mazedsl_tui.screens.launch import LaunchScreen
from mazedsl_tui.screens.rollout import RolloutScreen
from mazedsl_tui.screens.run_detail import RunDetailScreen
from mazedsl_tui.screens.runs import RunsScreen
from mazedsl_tui.widgets.detail.curves import MetricsPlot
from mazedsl_tui.widgets.experiments.tree import ExperimentTree
from mazedsl_tui.widgets.rollout.view import EnvView
from mazedsl_tui.widgets.runs.table import RunsTable
from tests.tui_helpers import make_app, run_async, type_in_one_burst, wait_for, widget_text as shown

FAKE_TRAIN = Path(__file__).parent / "fixtures" / "tui" / "fake_train.py"


async def wait_for_screen(pilot, app: MazeApp, cls: type) -> None:
    await wait_for(pilot, lambda: isinstance(app.screen, cls) and app.screen.is_mounted, what=cls.__name__)


def run_dir(demo, name: str) -> Path:
    return next(p for p in demo.run_dirs if p.name == name)


FINISHED = "20260105-093012_3fa9c1"
RUNNING = "20260107-080000_5d0c2a"
FAILED = "20260106-141500_b27e04"


# -- Runs ------------------------------------------------------------------------------------

@run_async
async def test_runs_table_lists_every_run_newest_first(demo):
    app = make_app(demo)
    async with app.run_test(size=(100, 32)) as pilot:
        table = app.screen.query_one(RunsTable)
        await wait_for(pilot, lambda: table.row_count == 4, what="4 rows")
        keys = [row.key.value for row in table.ordered_rows]
        assert [Path(k).name for k in keys] == [RUNNING, FAILED, FINISHED, "20260104-170245_9e1d7b"]
        key = str(run_dir(demo, FINISHED))
        assert table.cell_text(key, "experiment") == "cartpole_ppo"
        assert table.cell_text(key, "algorithm") == "PPO"
        assert table.cell_text(key, "env") == "CartPole-v1"
        assert table.cell_text(key, "status") == "✔ finished"
        assert table.cell_text(key, "steps") == "50,000"
        assert table.cell_text(key, "best_eval") == "494.4"
        assert table.cell_text(key, "started") == "01-05 09:30"
        assert table.cell_text(str(run_dir(demo, FAILED)), "status") == "✘ failed"
        assert table.cell_text(str(run_dir(demo, RUNNING)), "status") == "▶ running"


@run_async
async def test_runs_table_updates_cells_live_and_adds_new_runs(demo):
    seen: list[RunsUpdated] = []
    app = make_app(demo)

    def hook(message):
        if isinstance(message, RunsUpdated):
            seen.append(message)

    async with app.run_test(size=(100, 32), message_hook=hook) as pilot:
        table = app.screen.query_one(RunsTable)
        await wait_for(pilot, lambda: table.row_count == 4)
        table.move_cursor(row=2)
        selected = table.selected_key()
        running = run_dir(demo, RUNNING)
        info = json.loads((running / "run.json").read_text())
        info.update(status="finished", steps=40960, best_eval=-201.5)
        (running / "run.json").write_text(json.dumps(info))
        key = str(running)
        await wait_for(pilot, lambda: table.cell_text(key, "status") == "✔ finished", what="status")
        assert table.cell_text(key, "steps") == "40,960"
        assert table.cell_text(key, "best_eval") == "-201.5"
        assert table.selected_key() == selected  # updated in place: the cursor stays
        newer = running.parent / "20260108-120000_abcdef"
        newer.mkdir()
        (newer / "run.json").write_text(json.dumps({**info, "status": "running", "steps": 0,
                                                    "started": "2026-01-08T12:00:00"}))
        await wait_for(pilot, lambda: table.row_count == 5, what="new row")
        assert table.ordered_rows[0].key.value == str(newer)
        assert table.selected_key() == selected
    assert len(seen) >= 3 and len(seen[-1].runs) == 5


@run_async
async def test_runs_screen_uses_wide_terminals(demo):
    app = make_app(demo)
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.screen.query_one(RunsTable)
        await wait_for(pilot, lambda: table.row_count == 4)
        assert "run" in [c.value for c in table.columns]
        assert table.cell_text(str(run_dir(demo, FINISHED)), "started") == "2026-01-05 09:30"
        preview = app.screen.query_one("#run-preview")
        assert preview.display and preview.size.width > 0
        await wait_for(pilot, lambda: "pendulum_ppo" in str(
            app.screen.query_one("#preview-summary", Static).render()), what="preview")


@run_async
async def test_runs_at_120_columns_show_run_names_without_scrolling(demo):
    app = make_app(demo)
    async with app.run_test(size=(120, 34)) as pilot:
        table = app.screen.query_one(RunsTable)
        await wait_for(pilot, lambda: table.row_count == 4)
        await pilot.pause()
        assert "run" in [c.value for c in table.columns]
        assert not app.screen.query_one("#run-preview").display
        assert table.virtual_size.width <= table.size.width


@run_async
async def test_runs_layout_fits_80x24(demo):
    app = make_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one(RunsTable)
        await wait_for(pilot, lambda: table.row_count == 4)
        await pilot.pause()
        assert table.virtual_size.width <= table.size.width  # no sideways scrolling


@run_async
async def test_empty_runs_root_says_what_to_do(tmp_path):
    app = MazeApp(tmp_path / "experiments", tmp_path / "outputs", library=DemoLibrary(), poll_interval=0.05,
                  mode="runs")
    async with app.run_test(size=(100, 32)) as pilot:
        empty = app.screen.query_one("#runs-empty", Static)
        await wait_for(pilot, lambda: empty.display)
        assert "No runs under" in str(empty.render())


# -- Run detail ----------------------------------------------------------------------------------

@run_async
async def test_run_detail_shows_curves_eval_config_and_log(demo):
    path = run_dir(demo, FINISHED)
    train = list(iter_metrics(path / "metrics.jsonl", "train"))
    evals = list(iter_metrics(path / "metrics.jsonl", "eval"))
    summary = json.loads((path / "eval.json").read_text())
    app = make_app(demo)
    async with app.run_test(size=(100, 32)) as pilot:
        table = app.screen.query_one(RunsTable)
        await wait_for(pilot, lambda: table.row_count == 4)
        table.move_cursor(row=table.get_row_index(str(path)))
        await pilot.press("enter")
        await wait_for_screen(pilot, app, RunDetailScreen)
        screen = app.screen
        plots = {p.id: p for p in screen.query(MetricsPlot)}
        await wait_for(pilot, lambda: plots["plot-return"].point_count == len(train), what="curve")
        assert plots["plot-eval"].point_count == len(evals) == 4
        assert plots["plot-loss"].point_count == len(train)
        assert plots["plot-speed"].values("steps_per_s") == [r["steps_per_s"] for r in train]
        assert "✔ finished" in shown(screen.query_one("#run-summary", Static))

        await pilot.press("right_square_bracket")
        episodes = screen.query_one("#eval-episodes", DataTable)
        await wait_for(pilot, lambda: episodes.row_count == 10)
        assert [str(episodes.get_row_at(i)[1]) for i in range(10)] == \
            [f"{r:,.1f}" for r in summary["returns"]]
        history = screen.query_one("#eval-history", DataTable)
        assert history.row_count == len(evals)
        assert str(history.get_row_at(0)[1]) == f"{evals[0]['mean_return']:,.1f}"
        assert "Mean return 484.00" in shown(screen.query_one("#eval-summary", Static))

        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: "total_steps: 50000" in shown(screen.query_one("#config-yaml", Static)))
        assert "name: cartpole_ppo" in shown(screen.query_one("#config-yaml", Static))
        await pilot.press("right_square_bracket")
        log = screen.query_one("#run-log", RunLog)
        await wait_for(pilot, lambda: log.line_count > 10)
        assert "INFO training finished at step 50000 (best eval 494.39)" in "\n".join(log.text_lines)
        await pilot.press("escape")
        assert isinstance(app.screen, RunsScreen)


@run_async
async def test_run_detail_tails_metrics_of_a_running_run(demo):
    path = run_dir(demo, RUNNING)
    updates: list[MetricsUpdated] = []
    app = make_app(demo)

    def hook(message):
        if isinstance(message, MetricsUpdated):
            updates.append(message)

    async with app.run_test(size=(100, 32), message_hook=hook) as pilot:
        app.open_run(path)
        await wait_for_screen(pilot, app, RunDetailScreen)
        plot = app.screen.query_one("#plot-return", MetricsPlot)
        before = len(list(iter_metrics(path / "metrics.jsonl", "train")))
        await wait_for(pilot, lambda: plot.point_count == before)
        mark = len(updates)  # (a loaded machine may deliver the first load's message late)
        with open(path / "metrics.jsonl", "a") as fh:
            for step in (40960, 45056):
                fh.write(json.dumps({"phase": "train", "step": step, "time": 1.0, "steps_per_s": 1300.0,
                                     "ep_return_mean": -300.0}) + "\n")
            fh.write('{"phase": "train", "step": 49152, "ep_ret')  # a line being written
        await wait_for(pilot, lambda: plot.point_count == before + 2, what="two new points")
        assert plot.values("ep_return_mean")[-1] == -300.0
        await wait_for(pilot, lambda: any(u.new == 2 for u in updates[mark:]), what="the update")
        assert all(u.run_dir == path for u in updates)


@run_async
async def test_run_detail_of_a_failed_run_shows_its_error(demo):
    app = make_app(demo)
    async with app.run_test(size=(100, 32)) as pilot:
        app.open_run(run_dir(demo, FAILED))
        await wait_for_screen(pilot, app, RunDetailScreen)
        summary = app.screen.query_one("#run-summary", Static)
        await wait_for(pilot, lambda: "non-finite loss at step 12288" in str(summary.render()))
        assert "✘ failed" in str(summary.render())
        # the nan loss is skipped, not plotted
        loss = app.screen.query_one("#plot-loss", MetricsPlot)
        await wait_for(pilot, lambda: loss.point_count > 0)
        assert len(loss.values("value_loss")) == loss.point_count - 1


@run_async
async def test_evaluate_key_runs_an_evaluation_and_fills_the_table(demo, monkeypatch):
    library = DemoLibrary()
    monkeypatch.setattr(library, "engine_problem", lambda: None)
    path = run_dir(demo, RUNNING)

    def evaluate(run, episodes=10):
        result = {"mean_return": -150.0, "std_return": 10.0, "min_return": -170.0, "max_return": -140.0,
                  "mean_length": 200.0, "returns": [-140.0, -150.0, -160.0, -170.0, -130.0][:episodes],
                  "lengths": [200] * 5, "checkpoint": "best"}
        (Path(run) / "eval.json").write_text(json.dumps(result))
        return result

    monkeypatch.setattr(library, "evaluate", evaluate)
    app = MazeApp(demo.experiments, demo.runs, library=library, poll_interval=0.05)
    async with app.run_test(size=(100, 32)) as pilot:
        app.open_run(path)
        await wait_for_screen(pilot, app, RunDetailScreen)
        await pilot.press("e")
        episodes = app.screen.query_one("#eval-episodes", DataTable)
        await wait_for(pilot, lambda: episodes.row_count == 5 and not app.screen.evaluating)
        assert str(episodes.get_row_at(3)[1]) == "-170.0"
        assert "Mean return -150.00" in shown(app.screen.query_one("#eval-summary", Static))


# -- Experiments -------------------------------------------------------------------------------------

@run_async
async def test_experiments_tree_yaml_provenance_and_diff(demo):
    library = DemoLibrary()
    app = make_app(demo, library=library, mode="experiments")
    async with app.run_test(size=(100, 32)) as pilot:
        screen = app.screen
        assert isinstance(screen, ExperimentsScreen)
        tree = screen.query_one(ExperimentTree)
        assert [e.label for e in tree.experiment_entries()] == [
            "cartpole_a2c.py", "cartpole_ppo.py", "pendulum_ppo.py"]
        await wait_for(pilot, lambda: screen.experiment is not None, what="first experiment")
        assert screen.current.name == "cartpole_a2c.py"
        await wait_for(pilot, lambda: "name: cartpole_a2c" in shown(screen.query_one("#exp-yaml", Static)))
        provenance = screen.query_one("#exp-provenance", DataTable)
        assert provenance.get_cell("algorithm.ent_coef", "source").plain == "cartpole_a2c.py:9"
        assert str(provenance.get_cell("algorithm.ent_coef", "value")) == "0.01"
        assert provenance.get_cell("runner.n_envs", "source").plain == "cartpole_a2c.py:10"
        assert provenance.get_cell("runner.vectorization", "source").plain == "Runner.vectorization default"

        await pilot.press("down")  # cartpole_ppo
        await wait_for(pilot, lambda: screen.current.name == "cartpole_ppo.py" and screen.experiment)
        await pilot.press("d")
        screen.query_one("#diff-other").value = str(demo.experiments / "pendulum_ppo.py")
        diff = screen.query_one("#diff-table", DataTable)
        expected = library.diff(library.load_experiment(demo.experiments / "cartpole_ppo.py"),
                                library.load_experiment(demo.experiments / "pendulum_ppo.py"))
        await wait_for(pilot, lambda: diff.row_count == len(expected) > 0, what="diff rows")
        assert diff.get_row("env.name")[1:] == ["CartPole-v1", "Pendulum-v1"] or \
            [c.plain for c in diff.get_row("env.name")[1:]] == ["CartPole-v1", "Pendulum-v1"]
        assert f"{len(expected)} differences" in shown(screen.query_one("#diff-status", Static))
        assert len(expected) == 19


@run_async
async def test_experiments_tree_shows_config_modules(demo):
    app = make_app(demo, mode="experiments")
    async with app.run_test(size=(100, 32)) as pilot:
        screen = app.screen
        tree = screen.query_one(ExperimentTree)
        conf = tree.root.children[1]
        await wait_for(pilot, lambda: conf.children and str(conf.children[0].label) == "env/")
        algorithm = next(n for n in conf.children if str(n.label) == "algorithm/")
        ppo = next(n for n in algorithm.children if str(n.label) == "ppo")
        conf.expand()
        algorithm.expand()
        await pilot.pause()
        tree.move_cursor(ppo)
        await wait_for(pilot, lambda: screen.current_module is not None)
        await wait_for(pilot, lambda: "n_epochs: 10" in shown(screen.query_one("#exp-yaml", Static)))
        assert "algorithm=ppo" in shown(screen.query_one("#exp-title", Static))


@run_async
async def test_experiments_screen_with_the_real_config_api(demo):
    app = MazeApp(demo.experiments, demo.runs, poll_interval=0.05, mode="experiments")
    async with app.run_test(size=(100, 32)) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.experiment is not None, timeout=30)
        await wait_for(pilot, lambda: "CartPole-v1" in shown(screen.query_one("#exp-yaml", Static)))
        provenance = screen.query_one("#exp-provenance", DataTable)
        assert provenance.row_count > 10
        assert provenance.get_cell("algorithm.ent_coef", "source").plain.endswith("cartpole_a2c.py:9")


# -- Launch ------------------------------------------------------------------------------------------

@run_async
async def test_launch_validates_overrides_as_you_type(demo):
    app = make_app(demo, mode="experiments")
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(pilot, lambda: app.screen.experiment is not None)
        await pilot.press("t")
        await wait_for_screen(pilot, app, LaunchScreen)
        launch = app.screen
        error = launch.query_one("#launch-error", Static)
        start = launch.query_one("#launch-start")
        await wait_for(pilot, lambda: "valid" in str(error.render()))
        launch.query_one("#launch-overrides").value = "algorithm.lr=-"
        await pilot.press("1")  # typing: checked on every key
        await wait_for(pilot, lambda: "must be > 0" in str(error.render()), what="inline error")
        assert "algorithm.lr" in str(error.render())
        assert start.disabled
        assert launch.query_one("#launch-overrides").has_class("-invalid-field")
        await pilot.press("backspace", "backspace", *"0.001")
        await wait_for(pilot, lambda: "✔ valid" in str(error.render()), what="valid again")
        assert not start.disabled
        launch.query_one("#launch-budget").value = "0"
        await wait_for(pilot, lambda: "budget" in str(error.render()))
        assert launch.query_one("#launch-budget").has_class("-invalid-field")
        launch.query_one("#launch-budget").value = "2,000"
        launch.query_one("#launch-seed").value = "7"
        await wait_for(pilot, lambda: "✔ valid" in str(error.render()))
        assert launch.overrides == ["algorithm.lr=0.001", "seed=7", "total_steps=2000"]
        await pilot.press("escape")
        assert isinstance(app.screen, ExperimentsScreen)


@run_async
async def test_launch_shows_the_config_api_error_inline(demo):
    app = MazeApp(demo.experiments, demo.runs, poll_interval=0.05)
    async with app.run_test(size=(100, 32)) as pilot:
        app.open_launch(demo.experiments / "cartpole_ppo.py", "algorithm.lrr=1")
        await wait_for_screen(pilot, app, LaunchScreen)
        error = app.screen.query_one("#launch-error", Static)
        await wait_for(pilot, lambda: "algorithm.lrr" in str(error.render()), timeout=30)
        assert app.screen.query_one("#launch-start").disabled


class FakeTrainLibrary(DemoLibrary):
    """Trains with tests/fixtures/tui/fake_train.py instead of the real CLI."""

    def apply_overrides(self, experiment, overrides):
        return super().apply_overrides(experiment, [o for o in overrides if not o.startswith("fake_")])

    def train_command(self, experiment_file, overrides, run_dir):
        return [sys.executable, str(FAKE_TRAIN), str(experiment_file), *overrides, "--run-dir", str(run_dir),
                "--quiet"]


@run_async
async def test_launch_starts_a_training_process_and_follows_it(demo):
    app = make_app(demo, library=FakeTrainLibrary(), mode="experiments")
    lifecycle: list[Any] = []

    def hook(message):
        if isinstance(message, (TrainingStarted, TrainingExited)):
            lifecycle.append(message)

    async with app.run_test(size=(100, 32), message_hook=hook) as pilot:
        await wait_for(pilot, lambda: app.screen.experiment is not None)
        app.open_launch(demo.experiments / "cartpole_ppo.py", "fake_delay=0.01")
        await wait_for_screen(pilot, app, LaunchScreen)
        app.screen.query_one("#launch-budget").value = "4096"
        await wait_for(pilot, lambda: app.screen.overrides[-1:] == ["total_steps=4096"]
                       and not app.screen.validating)
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, app, RunDetailScreen)
        detail = app.screen
        assert detail.run_dir.parent == (demo.runs / "cartpole_ppo").resolve()
        assert len(detail.run_dir.name) == len("20260105-093012_3fa9c1")
        plot = detail.query_one("#plot-return", MetricsPlot)
        await wait_for(pilot, lambda: plot.point_count == 16, what="all 16 training points")
        await wait_for(pilot, lambda: app.trainings.get(detail.run_dir).returncode == 0)
        await wait_for(pilot, lambda: "✔ finished" in str(detail.query_one("#run-summary", Static).render()))
        await pilot.press("1")
        table = app.screen.query_one(RunsTable)
        key = str(detail.run_dir)
        await wait_for(pilot, lambda: key in [r.key.value for r in table.ordered_rows], what="new row")
        await wait_for(pilot, lambda: table.cell_text(key, "status") == "✔ finished")
        assert table.cell_text(key, "steps") == "4,096"
    started, exited = lifecycle
    assert isinstance(started, TrainingStarted) and started.run_dir == detail.run_dir
    assert isinstance(exited, TrainingExited) and exited.returncode == 0


@run_async
async def test_keys_typed_in_one_burst_land_in_their_fields(demo):
    app = make_app(demo, mode="experiments")
    async with app.run_test(size=(100, 32)) as pilot:
        app.open_launch(demo.experiments / "cartpole_ppo.py")
        await wait_for_screen(pilot, app, LaunchScreen)
        launch = app.screen
        type_in_one_burst(app, *"runner.n_envs=2", "tab", "7", "tab", *"5000", "shift+tab", "shift+tab", "end", "x")
        await wait_for(pilot, lambda: app.focused is launch.query_one("#launch-overrides")
                       and launch.query_one("#launch-overrides").value.endswith("x"), what="all keys")
        assert [launch.query_one(f"#launch-{f}").value for f in ("seed", "budget")] == ["7", "5000"]
        assert launch.query_one("#launch-overrides").value == "runner.n_envs=2x"


@run_async
async def test_editing_keys_typed_in_one_burst_act_in_order(demo):
    app = make_app(demo, mode="experiments")
    async with app.run_test(size=(100, 32)) as pilot:
        app.open_launch(demo.experiments / "cartpole_ppo.py", "runner.n_envs=4")
        await wait_for_screen(pilot, app, LaunchScreen)
        overrides = app.screen.query_one("#launch-overrides")
        type_in_one_burst(app, "ctrl+u", *"seed=12", "backspace", "3", "left", "left", "home", "delete", "S")
        await wait_for(pilot, lambda: overrides.value.startswith("S"), what="all keys")
        assert overrides.value == "Seed=13"  # not "Seed=123" (backspace after "3") or worse


class SlowCheckLibrary(FakeTrainLibrary):
    """Checks a form in 0.3 s, so a key typed after a change arrives while it is checked."""

    def preflight(self, experiment):
        import time

        time.sleep(0.3)
        return super().preflight(experiment)


async def checked_launch(pilot, app: MazeApp, demo) -> LaunchScreen:
    """The Train dialog of cartpole_ppo.py (trained by the fake trainer), its first check done."""
    app.open_launch(demo.experiments / "cartpole_ppo.py", "fake_delay=0.01")
    await wait_for_screen(pilot, app, LaunchScreen)
    launch = app.screen
    await wait_for(pilot, lambda: not launch.validating, what="first check")
    return launch


@run_async
async def test_enter_while_the_form_is_checked_starts_once_it_is_valid(demo):
    app = make_app(demo, library=SlowCheckLibrary(), mode="experiments")
    async with app.run_test(size=(100, 32)) as pilot:
        launch = await checked_launch(pilot, app, demo)
        launch.query_one("#launch-budget").focus()
        type_in_one_burst(app, *"512", "enter")
        await wait_for(pilot, lambda: launch.validating, what="the new form being checked")
        await wait_for_screen(pilot, app, RunDetailScreen)
        detail = app.screen
        await wait_for(pilot, lambda: app.trainings.get(detail.run_dir).returncode == 0)
        assert "total_steps=512" in app.trainings.get(detail.run_dir).command


@run_async
async def test_ctrl_s_typed_in_one_burst_starts_with_the_keys_before_it(demo):
    app = make_app(demo, library=SlowCheckLibrary(), mode="experiments")
    async with app.run_test(size=(100, 32)) as pilot:
        launch = await checked_launch(pilot, app, demo)
        launch.query_one("#launch-seed").focus()
        type_in_one_burst(app, "4", "tab", *"256", "ctrl+s")
        await wait_for_screen(pilot, app, RunDetailScreen)
        command = app.trainings.get(app.screen.run_dir).command
        assert "seed=4" in command and "total_steps=256" in command


@run_async
async def test_enter_while_checking_does_not_start_a_form_that_changed_or_is_wrong(demo):
    app = make_app(demo, library=SlowCheckLibrary(), mode="experiments")
    async with app.run_test(size=(100, 32)) as pilot:
        launch = await checked_launch(pilot, app, demo)
        overrides = launch.query_one("#launch-overrides")
        overrides.value = ""
        type_in_one_burst(app, *"algorithm.lr=-1", "enter")
        error = launch.query_one("#launch-error", Static)
        await wait_for(pilot, lambda: "must be > 0" in str(error.render()), what="inline error")
        await pilot.pause(0.2)
        assert app.screen is launch and not app.trainings.running() and not app.trainings.exited()
        type_in_one_burst(app, "backspace", "backspace", "1", "enter")
        await wait_for(pilot, lambda: launch.validating, what="lr=1 being checked")
        await pilot.press(*"e-3")  # still editing: the start waits for another Enter
        await wait_for(pilot, lambda: launch.overrides[-1:] == ["algorithm.lr=1e-3"] and not launch.validating)
        await pilot.pause(0.2)
        assert app.screen is launch and not app.trainings.running() and not app.trainings.exited()


@run_async
async def test_stop_key_interrupts_training_cleanly(demo):
    app = make_app(demo, library=FakeTrainLibrary())
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        run = app.start_training(demo.experiments / "cartpole_ppo.py",
                                 ["total_steps=1000000", "fake_delay=0.05"], "cartpole_ppo")
        app.open_run(run)
        await wait_for_screen(pilot, app, RunDetailScreen)
        plot = app.screen.query_one("#plot-return", MetricsPlot)
        await wait_for(pilot, lambda: plot.point_count >= 2, what="training under way")
        await pilot.press("s")
        training = app.trainings.get(run)
        await wait_for(pilot, lambda: training.returncode is not None, what="process exit")
        assert training.returncode == 130
        assert json.loads((run / "run.json").read_text())["status"] == "interrupted"
        await wait_for(pilot, lambda: "interrupted" in shown(app.screen.query_one("#run-summary")))
        await wait_for(pilot, lambda: any("interrupted" in n.title for n in app._notifications))


@run_async
async def test_a_crashing_training_does_not_take_the_ui_down(demo):
    app = make_app(demo, library=FakeTrainLibrary())
    async with app.run_test(size=(100, 32)) as pilot:
        run = app.start_training(demo.experiments / "cartpole_ppo.py", ["total_steps=512", "fake_crash=1"],
                                 "cartpole_ppo")
        table = app.screen.query_one(RunsTable)
        await wait_for(pilot, lambda: app.trainings.get(run).returncode == 3, what="crash")
        await wait_for(pilot, lambda: str(run) in [r.key.value for r in table.ordered_rows])
        await wait_for(pilot, lambda: table.cell_text(str(run), "status") == "✘ crashed")
        assert json.loads((run / "run.json").read_text())["status"] == "running"
        app.open_run(run)
        await wait_for_screen(pilot, app, RunDetailScreen)
        log = app.screen.query_one("#run-log", RunLog)
        await wait_for(pilot, lambda: "fake trainer starting" in "\n".join(log.text_lines), what="console log")


@run_async
async def test_resume_budget_typed_in_one_burst_with_ctrl_s(demo):
    from mazedsl_tui.screens.resume import ResumeScreen

    app = make_app(demo)
    resumed: list[Any] = []
    app.resume_training = lambda run_dir, overrides=None: resumed.append(overrides)
    async with app.run_test(size=(100, 32)) as pilot:
        app.open_resume(demo.runs / "cartpole_ppo" / FINISHED)  # offers 100000, twice its budget
        await wait_for_screen(pilot, app, ResumeScreen)
        type_in_one_burst(app, "ctrl+u", *"60000", "ctrl+s")
        await wait_for(pilot, lambda: resumed, what="the dialog's answer")
    assert resumed == [["total_steps=60000"]]


# -- Rollout viewer -------------------------------------------------------------------------------------

def cartpole_source() -> RolloutSource:
    return RolloutSource.random_policy("CartPole-v1")


def counting_source(length: int = 1000, frames: bool = False) -> RolloutSource:
    """Deterministic synthetic steps: a swinging pole, or a moving gradient frame."""
    import numpy as np

    def episode(seed, render_mode):
        total = 0.0
        for t in range(length):
            total += 1.0
            frame = None
            if frames:
                frame = np.zeros((40, 60, 3), dtype=np.uint8)
                frame[:, :, 0] = (np.arange(60) * 4 + t) % 256
                frame[:, :, 2] = 200
            yield Step(t=t, observation=np.array([t / 100, 0.0, 0.1, 0.0]), action=t % 2, reward=1.0,
                       terminated=t == length - 1, truncated=False, episode_return=total, frame=frame,
                       state=None if frames else np.array([0.0, 0.0, 0.2 * np.sin(t / 5), 0.0]),
                       env_id="Synthetic-v0" if frames else "CartPole-v1")

    return RolloutSource(episode, env_id="Synthetic-v0" if frames else "CartPole-v1", title="synthetic")


@run_async
async def test_rollout_viewer_plays_pauses_steps_and_restarts(demo):
    app = make_app(demo)
    async with app.run_test(size=(100, 32)) as pilot:
        app.push_rollout(cartpole_source(), seed=0, speed=60)
        await wait_for_screen(pilot, app, RolloutScreen)
        viewer = app.screen
        await wait_for(pilot, lambda: viewer.steps_taken >= 5, what="playing", timeout=15)
        view = viewer.query_one(EnvView)
        assert view.drawn_as() == "shapes"
        assert any("⠀" <= ch <= "⣿" for line in view.render().renderables for ch in line.plain)
        assert re.search(rf"Step +{viewer.step.t}\b", shown(viewer.query_one("#rollout-info", Static)))

        await pilot.press("space")
        assert viewer.paused
        paused_at = viewer.steps_taken
        await pilot.pause(0.3)
        assert viewer.steps_taken == paused_at  # pause stops it
        if not viewer.done:
            await pilot.press("n")
            assert viewer.steps_taken == paused_at + 1  # one step
        await pilot.press("minus")
        assert viewer.speed == 30
        await pilot.press("r")
        await wait_for(pilot, lambda: not viewer.opening and viewer.steps_taken == 1, what="restart")
        assert viewer.paused


@run_async
async def test_rollout_viewer_runs_episodes_to_the_end(demo):
    app = make_app(demo)
    async with app.run_test(size=(100, 32)) as pilot:
        app.push_rollout(counting_source(length=12), speed=60)
        viewer = app.screen
        await wait_for(pilot, lambda: viewer.done, what="episode end")
        assert viewer.steps_taken == 12 and viewer.episode_returns == [12.0]
        assert "terminated" in shown(viewer.query_one("#rollout-info", Static))
        await pilot.press("n")  # next episode
        await wait_for(pilot, lambda: viewer.episode_index == 1 and viewer.steps_taken > 0)


@run_async
async def test_rollout_viewer_draws_frames_as_half_blocks(demo):
    app = make_app(demo)
    async with app.run_test(size=(100, 32)) as pilot:
        app.push_rollout(counting_source(frames=True), speed=10, paused=True)
        viewer = app.screen
        await wait_for(pilot, lambda: viewer.step is not None)
        view = viewer.query_one(EnvView)
        assert view.drawn_as() == "frame"
        lines = view.render().renderables
        assert lines and set(lines[0].plain.strip()) == {"▀"}
        await pilot.press("v", "v", "v")  # auto -> shapes -> frame -> observation
        assert view.mode == "observation" and view.drawn_as() == "observation"
        assert "obs[0]" in view.render().renderables[0].plain


@run_async
async def test_rollout_errors_are_shown_not_raised(demo):
    def broken(seed, render_mode):
        raise RuntimeError("checkpoint missing")
        yield  # pragma: no cover

    app = make_app(demo)
    async with app.run_test(size=(100, 32)) as pilot:
        app.push_rollout(RolloutSource(broken, env_id="CartPole-v1", render_mode=None))
        viewer = app.screen
        await wait_for(pilot, lambda: viewer.error is not None)
        assert "checkpoint missing" in shown(viewer.query_one(EnvView))
        await pilot.pause()
        from textual.widgets import Sparkline

        assert not viewer.query_one("#rollout-returns", Sparkline).visible  # no full bar of nothing


# -- Help, palette, entry point ---------------------------------------------------------------------------

@run_async
async def test_help_screen(demo):
    app = make_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        from mazedsl_tui.screens.help import HelpScreen

        assert isinstance(app.screen, HelpScreen)
        text = " ".join(shown(s) for s in app.screen.query(".help-section"))
        assert "Rollout viewer" in text and "pause / play" in text
        await pilot.press("escape")
        assert isinstance(app.screen, RunsScreen)


async def open_palette_and_type(pilot, app: MazeApp, query: str) -> None:
    from textual.command import CommandInput, CommandList, CommandPalette

    await pilot.press("ctrl+p")
    await wait_for_screen(pilot, app, CommandPalette)
    app.screen.query_one(CommandInput).value = query[:-1]
    await pilot.press(query[-1])  # the last key typed for real
    commands = app.screen.query_one(CommandList)
    await wait_for(pilot, lambda: commands.option_count > 0 and query.split()[0] in
                   str(commands.get_option_at_index(0).prompt).lower(), what="palette hits")


@run_async
async def test_command_palette_opens_a_run(demo):
    app = make_app(demo)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(pilot, lambda: app.screen.query_one(RunsTable).row_count == 4)
        await open_palette_and_type(pilot, app, f"open run cartpole_ppo/{FINISHED}")
        await pilot.press("enter")
        await wait_for_screen(pilot, app, RunDetailScreen)
        assert app.screen.run_dir == run_dir(demo, FINISHED)


@run_async
async def test_command_palette_diff(demo):
    app = make_app(demo)
    async with app.run_test(size=(100, 32)) as pilot:
        await open_palette_and_type(pilot, app, "diff cartpole_ppo against pendulum_ppo")
        await pilot.press("enter")
        await wait_for_screen(pilot, app, ExperimentsScreen)
        screen = app.screen
        await wait_for(pilot, lambda: screen.query_one("#diff-table", DataTable).row_count == 19,
                       what="diff")
        assert screen.current.name == "cartpole_ppo.py"


def test_main_parses_its_arguments(monkeypatch, tmp_path):
    started: list[MazeApp] = []
    monkeypatch.setattr(MazeApp, "run", lambda self: started.append(self))
    assert main(["--experiments", str(tmp_path / "e"), "--runs", str(tmp_path / "r")]) == 0
    assert started[0].experiments_dir == tmp_path / "e" and started[0].runs_root == tmp_path / "r"
    main([])
    assert started[1].experiments_dir == Path("experiments") and started[1].runs_root == Path("outputs")


def test_demo_runs_match_the_run_directory_contract(demo):
    from mazedsl.run import list_runs

    runs = {r.path.name: r for r in list_runs(demo.runs)}
    assert set(runs) == {r.name for r in DEMO_RUNS}
    for path in demo.run_dirs:
        for name in ("run.json", "config.yaml", "overrides.yaml", "metrics.jsonl", "train.log"):
            assert (path / name).is_file()
        phases = {r["phase"] for r in iter_metrics(path / "metrics.jsonl")}
        assert phases == {"train", "eval"}
    assert (run_dir(demo, FINISHED) / "eval.json").is_file()
