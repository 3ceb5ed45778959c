"""Leftover TUI defects: a resumed run's "took" counts its training sessions, not the gap
between them; a BC run's budget and steps count training samples, not env steps."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from textual.widgets import Label, Static

from mazedsl_tui.app import MazeApp
from mazedsl_tui.demo import DemoLibrary
from mazedsl_tui.formatting import budget_unit, step_noun, steps_axis
from mazedsl_tui.library import Library
from mazedsl_tui.screens.compare import CompareScreen
from mazedsl_tui.screens.launch import LaunchScreen
from mazedsl_tui.screens.resume import ResumeScreen, resume_plan
from mazedsl_tui.screens.run_detail import RunDetailScreen
from mazedsl_tui.screens.runs import RunsScreen
from mazedsl_tui.widgets.compare.plot import ComparePlot
from mazedsl_tui.widgets.detail.curves import MetricsPlot
from tests.tui_helpers import run_async, wait_for, widget_text

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
FINISHED = "20260105-093012_3fa9c1"


def text_of(widget) -> str:
    return str(widget.render())


def rendered(plot) -> str:
    """What a plot draws (its axis labels included)."""
    return widget_text(plot, border=True)


async def wait_for_screen(pilot, app: MazeApp, cls: type) -> None:
    await wait_for(pilot, lambda: isinstance(app.screen, cls) and app.screen.is_mounted, what=cls.__name__)


# == 1. "took" after a resume =========================================================================

def write_resumed_run(run_dir: Path) -> None:
    """run.json of a run trained 10 s, left alone for an hour, then resumed for 5 s (as
    mazedsl.run.status.TrainingStatus writes it)."""
    info = json.loads((run_dir / "run.json").read_text())
    info.update(started="2026-01-05T09:30:12", ended="2026-01-05T10:30:22", status="finished",
                steps=2048, train_seconds=15.0, sessions=2)
    (run_dir / "run.json").write_text(json.dumps(info))


def training_time(raw: dict) -> tuple[float, int] | None:
    """What the run header shows as "took": RunInfo.trained of a run.json like ``raw``."""
    import tempfile

    from mazedsl.run.listing import read_run_info

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "run.json").write_text(json.dumps(raw))
        return read_run_info(tmp).trained


def test_training_time_is_run_jsons_training_clock():
    raw = {"started": "2026-01-05T09:30:12", "ended": "2026-01-05T10:30:22",
           "train_seconds": 15.0, "sessions": 2}
    assert training_time(raw) == (15.0, 2)  # 10 s + 5 s, not the hour between them
    old = {"started": "2026-01-05T09:30:12", "ended": "2026-01-05T09:30:22"}
    assert training_time(old) == (10.0, 1)  # a run from before train_seconds: its times
    assert training_time({**raw, "ended": None}) is None  # still training
    assert training_time({**old, "train_seconds": "x"}) == (10.0, 1)  # unreadable: its times


def test_a_resumed_run_records_its_training_sessions(tmp_path):
    """The library side: two trainings of one run, with a pause between them, record two
    sessions and a train_seconds below the time from start to end."""
    import time

    from mazedsl import RunContext

    tiny = {"total_steps": 256, "eval_every_steps": 0, "log_every_steps": 128,
            "checkpoint_every_steps": 1000, "runner.n_envs": 2, "algorithm.n_steps": 64,
            "algorithm.batch_size": 64, "algorithm.n_epochs": 1}
    ctx = RunContext(str(EXPERIMENTS / "cartpole_ppo.py"), overrides=tiny, run_dir=tmp_path / "r",
                     silent=True)
    ctx.train()
    first = json.loads((tmp_path / "r" / "run.json").read_text())
    assert first["sessions"] == 1 and 0 < first["train_seconds"]
    time.sleep(2.0)
    again = RunContext.load(tmp_path / "r", silent=True)
    again.train(total_steps=512)
    info = json.loads((tmp_path / "r" / "run.json").read_text())
    assert info["sessions"] == 2 and info["steps"] == 512
    span = (datetime.fromisoformat(info["ended"]) - datetime.fromisoformat(info["started"]))
    # started and ended are whole seconds, so the span read from them may be up to a second
    # short of the true one, which is the trainings' time and the 2 s pause at least
    assert first["train_seconds"] < info["train_seconds"] < span.total_seconds() - 0.5
    times = [json.loads(line)["time"] for line in (tmp_path / "r" / "metrics.jsonl").open()]
    assert times == sorted(times)  # the metrics' clock goes on from the first training's
    assert times[-1] <= info["train_seconds"] + 0.01


@run_async
async def test_run_header_took_counts_training_sessions_only(demo):
    path = next(p for p in demo.run_dirs if p.name == FINISHED)
    write_resumed_run(path)
    app = MazeApp(demo.experiments, demo.runs, library=DemoLibrary(), poll_interval=0.05)
    async with app.run_test(size=(160, 32)) as pilot:
        app.open_run(path)
        await wait_for_screen(pilot, app, RunDetailScreen)
        summary = app.screen.query_one("#run-summary", Static)
        await wait_for(pilot, lambda: "took" in text_of(summary), what="the run's header")
        header = text_of(summary)
        assert "took 0:15 in 2 sessions" in header, header
        assert "1:00:" not in header  # the hour it sat finished before the resume


@run_async
async def test_run_header_took_of_a_run_trained_once_is_unchanged(demo):
    path = next(p for p in demo.run_dirs if p.name == FINISHED)
    app = MazeApp(demo.experiments, demo.runs, library=DemoLibrary(), poll_interval=0.05)
    async with app.run_test(size=(160, 32)) as pilot:
        app.open_run(path)
        await wait_for_screen(pilot, app, RunDetailScreen)
        summary = app.screen.query_one("#run-summary", Static)
        await wait_for(pilot, lambda: "took" in text_of(summary), what="the run's header")
        assert "took 0:29" in text_of(summary) and "sessions" not in text_of(summary)


# == 2. what BC's budget counts ======================================================================

def test_units():
    assert budget_unit(True) == "env steps" and budget_unit(False) == "training samples"
    assert step_noun(True) == "steps" and step_noun(False) == "samples"
    assert steps_axis([True, True]) == "env steps" and steps_axis([]) == "env steps"
    assert steps_axis([False]) == "training samples"
    assert steps_axis([True, False]) == "env steps / training samples"


def test_resume_plan_says_samples_for_bc():
    _, error = resume_plan("finished", 2048, 2048, "many", plays_episodes=False)
    assert "whole number of training samples" in error and "env steps" not in error
    _, error = resume_plan("finished", 2048, 2048, "1000", plays_episodes=False)
    assert "already has 2,048 samples" in error
    _, error = resume_plan("finished", 2048, 2048, "", plays_episodes=False)
    assert "budget of 2,048 samples" in error
    _, error = resume_plan("finished", 2048, 2048, "many")  # the others: env steps, as before
    assert "whole number of env steps" in error


def bc_run(demo) -> Path:
    """A copy of the finished demo run as a BC run (run.json's train_episodes false, as its
    learner records it)."""
    source = next(p for p in demo.run_dirs if p.name == FINISHED)
    path = demo.runs / "cartpole_bc" / FINISHED
    shutil.copytree(source, path)
    info = json.loads((path / "run.json").read_text())
    info.update(experiment="cartpole_bc", algorithm="BC", train_episodes=False)
    (path / "run.json").write_text(json.dumps(info))
    return path


def budget_label(screen) -> str:
    """The text of a dialog's budget label."""
    return next(text_of(label) for label in screen.query(Label) if text_of(label).startswith("Budget"))


async def wait_for_label(pilot, launch: LaunchScreen, expected: str) -> str:
    error = launch.query_one("#launch-error", Static)
    await wait_for(pilot, lambda: budget_label(launch) == expected
                   and (launch.error is not None or "✔ valid" in text_of(error)),
                   timeout=90, what=f"the label {expected!r}")
    return budget_label(launch)


@pytest.mark.parametrize("experiment, overrides, expected", [
    ("cartpole_bc.py", "", "Budget (training samples)"),
    # the label follows the algorithm the overrides choose (refused here: no episodes given)
    ("cartpole_ppo.py", "algorithm=bc", "Budget (training samples)"),
])
@run_async
async def test_train_dialog_labels_bc_budget_as_training_samples(tmp_path, experiment, overrides, expected):
    app = MazeApp(EXPERIMENTS, tmp_path / "outputs", library=Library(), poll_interval=0.05, mode="runs")
    async with app.run_test(size=(100, 32)) as pilot:
        app.open_launch(EXPERIMENTS / experiment, overrides)
        await wait_for_screen(pilot, app, LaunchScreen)
        launch = app.screen
        await wait_for_label(pilot, launch, expected)
        assert not launch.plays_episodes
        # back to the experiment's own algorithm (PPO): env steps again
        if overrides:
            launch.query_one("#launch-overrides").value = ""
            await wait_for_label(pilot, launch, "Budget (env steps)")
            assert launch.plays_episodes


@run_async
async def test_train_dialog_labels_ppo_budget_as_env_steps(tmp_path):
    app = MazeApp(EXPERIMENTS, tmp_path / "outputs", library=Library(), poll_interval=0.05, mode="runs")
    async with app.run_test(size=(100, 32)) as pilot:
        app.open_launch(EXPERIMENTS / "cartpole_ppo.py")
        await wait_for_screen(pilot, app, LaunchScreen)
        launch = app.screen
        await wait_for(pilot, lambda: "✔ valid" in text_of(launch.query_one("#launch-error")), timeout=60)
        await pilot.pause(0.3)
        assert budget_label(launch) == "Budget (env steps)"


@run_async
async def test_resume_dialog_of_a_bc_run_counts_samples(demo):
    path = bc_run(demo)
    app = MazeApp(demo.experiments, demo.runs, library=DemoLibrary(), poll_interval=0.05)
    async with app.run_test(size=(120, 34)) as pilot:
        app.open_resume(path)
        await wait_for_screen(pilot, app, ResumeScreen)
        screen = app.screen
        assert budget_label(screen) == "Budget (total training samples)"
        assert "50,000 of 50,000 samples done" in text_of(screen.query_one("#resume-title"))
        screen.query_one("#resume-budget").value = "10"
        await pilot.pause()
        assert "already has 50,000 samples" in text_of(screen.query_one("#resume-error"))


@run_async
async def test_resume_dialog_of_a_ppo_run_counts_env_steps(demo):
    path = next(p for p in demo.run_dirs if p.name == FINISHED)
    app = MazeApp(demo.experiments, demo.runs, library=DemoLibrary(), poll_interval=0.05)
    async with app.run_test(size=(120, 34)) as pilot:
        app.open_resume(path)
        await wait_for_screen(pilot, app, ResumeScreen)
        assert budget_label(app.screen) == "Budget (total env steps)"
        assert "50,000 of 50,000 steps done" in text_of(app.screen.query_one("#resume-title"))


@pytest.mark.parametrize("algorithm", ["BC", "PPO"])
@run_async
async def test_run_screen_says_what_the_steps_count(demo, algorithm):
    path = bc_run(demo) if algorithm == "BC" else next(p for p in demo.run_dirs if p.name == FINISHED)
    app = MazeApp(demo.experiments, demo.runs, library=DemoLibrary(), poll_interval=0.05)
    async with app.run_test(size=(160, 40)) as pilot:
        app.open_run(path)
        await wait_for_screen(pilot, app, RunDetailScreen)
        screen = app.screen
        plots = {p.id: p for p in screen.query(MetricsPlot)}
        await wait_for(pilot, lambda: screen.info is not None and plots["plot-speed"].point_count > 1,
                       what="the run")
        await pilot.pause()
        header = text_of(screen.query_one("#run-summary"))
        speed = rendered(plots["plot-speed"])
        if algorithm == "BC":
            assert "50,000 samples" in header and "50,000 steps" not in header
            assert all(p.x_label == "training samples" for p in plots.values())
            assert "training samples" in speed and "Samples/s" in speed and "samples/s" in speed
            assert "Steps/s" not in speed and "steps/s" not in speed
        else:  # unchanged
            assert "50,000 steps" in header
            assert all(p.x_label == "step" for p in plots.values())
            assert "Steps/s" in speed and "steps/s" in speed and "samples" not in speed


@run_async
async def test_runs_preview_counts_samples_for_bc(demo):
    path = bc_run(demo)
    app = MazeApp(demo.experiments, demo.runs, library=DemoLibrary(), poll_interval=0.05, mode="runs")
    async with app.run_test(size=(170, 40)) as pilot:
        await wait_for_screen(pilot, app, RunsScreen)
        screen = app.screen
        await wait_for(pilot, lambda: screen.selected_run() is not None, what="the runs")
        for _ in range(len(screen._runs)):
            if screen.selected_run().path == path:
                break
            await pilot.press("down")
        summary = screen.query_one("#preview-summary", Static)
        await wait_for(pilot, lambda: screen.selected_run().path == path and "BC" in text_of(summary))
        assert "50,000 samples" in text_of(summary)
        await pilot.press("up")
        await wait_for(pilot, lambda: screen.selected_run().path != path and "BC" not in text_of(summary))
        assert " steps · best" in text_of(summary)


@pytest.mark.parametrize("which, expected", [
    ("bc", "training samples"), ("ppo", "env steps"), ("both", "env steps / training samples")])
@run_async
async def test_compare_x_axis_says_what_the_steps_count(demo, which, expected):
    bc = bc_run(demo)
    ppo = next(p for p in demo.run_dirs if p.name == FINISHED)
    runs = {"bc": [bc], "ppo": [ppo], "both": [ppo, bc]}[which]
    app = MazeApp(demo.experiments, demo.runs, library=DemoLibrary(), poll_interval=0.05)
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_compare(runs)
        await wait_for_screen(pilot, app, CompareScreen)
        screen = app.screen
        plot = screen.query_one(ComparePlot)
        await wait_for(pilot, lambda: plot.point_count > 0, what="the curves")
        await pilot.pause()
        assert f"x: {expected}" in text_of(screen.query_one("#compare-summary"))
        assert plot.steps_label == expected and expected in rendered(plot)


@run_async
async def test_experiment_files_copied_in_later_show_up_when_the_screen_is_shown_again(tmp_path):
    from mazedsl_tui.widgets.experiments.tree import ExperimentTree

    experiments = tmp_path / "experiments"
    experiments.mkdir()
    app = MazeApp(experiments, tmp_path / "outputs", library=DemoLibrary(), poll_interval=0.05,
                  mode="experiments")
    async with app.run_test(size=(100, 32)) as pilot:
        tree = app.screen.query_one(ExperimentTree)
        await wait_for(pilot, lambda: "(no experiment files)" in
                       [str(n.label) for n in tree.root.children[0].children], what="the empty tree")
        shutil.copy(Path(__file__).resolve().parents[1] / "experiments" / "cartpole_ppo.py", experiments)
        await pilot.press("1")  # the runs screen, then back
        await pilot.press("2")
        tree = app.screen.query_one(ExperimentTree)
        await wait_for(pilot, lambda: [e.label for e in tree.experiment_entries()] == ["cartpole_ppo.py"],
                       what="the copied file in the tree")


async def _run_header_showing(pilot, app, path, note: str) -> Static:
    """Open the run at ``path`` and wait until its header shows ``note``; the header widget."""
    app.open_run(path)
    await wait_for_screen(pilot, app, RunDetailScreen)
    summary = app.screen.query_one("#run-summary", Static)
    await wait_for(pilot, lambda: note in text_of(summary), what="the note in the run's header")
    return summary


@run_async
async def test_a_run_whose_metrics_file_was_emptied_says_so_in_its_header(demo):
    path = next(p for p in demo.run_dirs if p.name == FINISHED)
    (path / "metrics.jsonl").write_text("")
    app = MazeApp(demo.experiments, demo.runs, library=DemoLibrary(), poll_interval=0.05)
    async with app.run_test(size=(160, 32)) as pilot:
        summary = await _run_header_showing(pilot, app, path, "metrics.jsonl is missing or empty")
        (path / "metrics.jsonl").unlink()
        app.screen._render_summary()
        assert "metrics.jsonl is missing or empty" in text_of(summary)


def test_box_actions_show_two_decimals_in_the_rollout_panel():
    import numpy as np

    from mazedsl_tui.screens.rollout import fmt_action

    assert fmt_action(np.array([-0.001], np.float32)) == "[-0.00]"  # not "[-0.]"
    assert fmt_action(np.array([1.5, -2.0])) == "[ 1.50, -2.00]"
    assert fmt_action(np.array([1, 0])) == "[1, 0]" and fmt_action(3) == "3"


# == The resume dialog checks for a checkpoint to resume from =======================================

@run_async
async def test_resume_dialog_refuses_a_run_with_no_last_checkpoint(demo):
    """The real library looks for checkpoints/last.pt (an RLlib run: checkpoints/last/); the demo
    runs have none, so their dialog says so and its Resume button is off."""
    run = demo.runs / "cartpole_ppo" / FINISHED
    app = MazeApp(demo.experiments, demo.runs, library=Library(), poll_interval=0.05)
    async with app.run_test(size=(110, 32)) as pilot:
        async def dialog_error() -> str | None:
            app.open_resume(run)
            await wait_for_screen(pilot, app, ResumeScreen)
            dialog = app.screen
            error, disabled = dialog.error, dialog.query_one("#resume-start").disabled
            shown = text_of(dialog.query_one("#resume-error"))
            await pilot.press("escape")
            await pilot.pause()
            assert disabled == (error is not None)
            if error:
                assert error in shown
            return error

        error = await dialog_error()
        assert error == ("no checkpoint in this run, though it finished 50,000 steps: its checkpoints/ "
                         "folder was emptied or removed; nothing to load or resume from")
        (run / "checkpoints").mkdir()
        (run / "checkpoints" / "best.pt").write_bytes(b"")
        assert "holds only the best one" in await dialog_error()
        (run / "checkpoints" / "last").mkdir()  # an RLlib run's checkpoint is a folder
        assert await dialog_error() is None
        shutil.rmtree(run / "checkpoints" / "last")
        (run / "checkpoints" / "last.pt").write_bytes(b"")
        assert await dialog_error() is None
        assert not app.trainings.running()


def test_resume_plan_puts_a_missing_checkpoint_before_the_budget():
    assert resume_plan("interrupted", 10, 100, "500", problem="no checkpoint") == ([], "no checkpoint")
    assert resume_plan("running", 10, 100, "", problem="no checkpoint")[1].startswith("the run is still")
    # trained by a process this window did not start (an earlier `mazedsl tui`, a shell): `s`
    # cannot stop it, so the dialog says where it is and how to stop it instead
    elsewhere = resume_plan("running", 10, 100, "", elsewhere="pid 4242 on host h since 03:00")[1]
    assert elsewhere == ("the run is still training in another process (pid 4242 on host h since 03:00): "
                         "stop it there (Ctrl-C, or kill -INT its pid), then resume it")
    assert resume_plan("running", 10, 100, "")[1] == "the run is still training; stop it first (s)"
    assert resume_plan("interrupted", 10, 100, "500") == (["total_steps=500"], None)


@run_async
async def test_a_run_whose_metrics_file_was_cut_mid_line_says_so_in_its_header(demo):
    path = next(p for p in demo.run_dirs if p.name == FINISHED)
    whole = (path / "metrics.jsonl").read_bytes()
    (path / "metrics.jsonl").write_bytes(whole[:-20])  # the last line cut short
    app = MazeApp(demo.experiments, demo.runs, library=DemoLibrary(), poll_interval=0.05)
    async with app.run_test(size=(160, 32)) as pilot:
        summary = await _run_header_showing(pilot, app, path, "metrics.jsonl ends mid-line")
        (path / "metrics.jsonl").write_bytes(whole)
        app.screen._render_summary()
        assert "ends mid-line" not in text_of(summary)
