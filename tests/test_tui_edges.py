"""Pilot tests of the TUI items of issue #14 ("no surprises for a new user")."""

from __future__ import annotations

import json
import importlib.util
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

from mazedsl_tui.app import MazeApp
from mazedsl_tui.demo import DemoLibrary
from mazedsl_tui.screens.experiments import ExperimentsScreen
from mazedsl_tui.screens.launch import LaunchScreen
from mazedsl_tui.screens.runs import RunsScreen
from tests.tui_helpers import make_app, run_async, wait_for, widget_text as shown






# -- first screen ------------------------------------------------------------------------------

@run_async
async def test_with_no_runs_the_app_opens_on_the_experiments(demo, tmp_path):
    app = MazeApp(demo.experiments, tmp_path / "no-runs-yet", library=DemoLibrary(), poll_interval=0.05)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen), what="experiments screen")
        assert app.current_mode == "experiments"


@run_async
async def test_with_runs_the_app_opens_on_the_runs(demo):
    app = make_app(demo)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen) and app.current_mode == "runs"


# -- the Train dialog's command -----------------------------------------------------------------

async def _launch_command(app: MazeApp, pilot, experiment: Path) -> str:
    app.open_launch(experiment)
    await wait_for(pilot, lambda: isinstance(app.screen, LaunchScreen) and app.screen.is_mounted
                   and not app.screen.validating and app.screen.error is None, what="a valid form")
    preview = str(app.screen.query_one("#launch-preview").render())
    return preview.split("command  ", 1)[1].strip()


@run_async
async def test_train_dialog_shows_a_command_that_works_from_the_working_directory(demo, monkeypatch):
    monkeypatch.chdir(demo.root)
    app = MazeApp(Path("experiments"), Path("outputs"), library=DemoLibrary(), poll_interval=0.05,
                  mode="experiments")
    async with app.run_test(size=(100, 32)) as pilot:
        command = await _launch_command(app, pilot, Path("experiments") / "cartpole_ppo.py")
    assert command == "mazedsl train experiments/cartpole_ppo.py"
    assert (demo.root / shlex.split(command)[2]).is_file()


@run_async
async def test_train_dialog_command_from_elsewhere_names_the_file_and_runs_root(demo, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    app = make_app(demo, mode="experiments")
    async with app.run_test(size=(100, 32)) as pilot:
        command = await _launch_command(app, pilot, demo.experiments / "cartpole_ppo.py")
    assert shlex.split(command) == ["mazedsl", "--runs-root", str(demo.runs), "train",
                                    str(demo.experiments / "cartpole_ppo.py")]


# -- the demo data are real ---------------------------------------------------------------------

def test_demo_data_has_the_shapes_the_engine_writes(demo, tmp_path):
    """Each demo file has the keys a real (tiny) training writes; configs load with the real API."""
    from mazedsl.config import load_experiment, to_yaml
    from mazedsl.context import RunContext
    from mazedsl.run import iter_metrics

    rc = RunContext(str(demo.experiments / "cartpole_ppo.py"), run_dir=tmp_path / "real", silent=True,
                    overrides=["total_steps=512", "eval_every_steps=256", "log_every_steps=256",
                               "eval_episodes=1"])
    rc.train()
    rc.evaluate(n_episodes=1)
    real = tmp_path / "real"

    def keys(path: Path) -> set[str]:
        return set(json.loads(path.read_text()))

    def metric_keys(path: Path, phase: str) -> set[str]:
        return set().union(*(set(r) for r in iter_metrics(path / "metrics.jsonl", phase)))

    finished = next(p for p in demo.run_dirs if p.name == "20260105-093012_3fa9c1")
    assert keys(finished / "run.json") == keys(real / "run.json")
    assert keys(finished / "eval.json") == keys(real / "eval.json")
    assert metric_keys(finished, "train") == metric_keys(real, "train")
    assert metric_keys(finished, "eval") == metric_keys(real, "eval")
    for path in demo.run_dirs:
        experiment = load_experiment(path / "config.yaml")  # the real loader accepts it
        assert to_yaml(experiment) == (path / "config.yaml").read_text()
        assert experiment.name == json.loads((path / "run.json").read_text())["experiment"]
        text = (path / "config.yaml").read_text() + (path / "metrics.jsonl").read_text()
        for made_up in ("_type_", "hidden_sizes", "state_critic"):
            assert made_up not in text
    failed = json.loads((next(p for p in demo.run_dirs if p.name == "20260106-141500_b27e04")
                         / "run.json").read_text())
    assert failed["status"] == "failed" and failed["error"].startswith("TrainingError: non-finite loss")
    assert "algorithm.lr=0.5" in failed["command"]
    assert "lr: 0.5" in (demo.runs / "cartpole_a2c" / "20260106-141500_b27e04" / "config.yaml").read_text()


@run_async
async def test_experiments_tree_lists_the_real_config_modules(demo):
    app = make_app(demo, mode="experiments")
    async with app.run_test(size=(100, 32)) as pilot:
        from mazedsl.config import GROUPS, list_modules
        from mazedsl_tui.widgets.experiments.tree import ExperimentTree, ModuleEntry

        tree = app.screen.query_one(ExperimentTree)
        conf = tree.root.children[1]
        await wait_for(pilot, lambda: conf.children and str(conf.children[0].label) == "env/")
        listed = {(n.data.group, n.data.name) for g in conf.children for n in g.children
                  if isinstance(n.data, ModuleEntry)}
        assert listed == {(g, m) for g in GROUPS for m in list_modules(g)}
        assert ("critic", "template_state") in listed and ("critic", "state_critic") not in listed


# -- the Diff tab at 80x24 ------------------------------------------------------------------------

@pytest.mark.parametrize("size", [(80, 24), (100, 32)])
@run_async
async def test_diff_tab_keeps_both_columns_in_view(demo, size):
    from textual.widgets import DataTable

    app = make_app(demo, mode="experiments")
    async with app.run_test(size=size) as pilot:
        app.open_diff(demo.experiments / "cartpole_ppo.py", demo.experiments / "pendulum_ppo.py")
        table = app.screen.query_one("#diff-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 19, what="diff rows")
        await wait_for(pilot, lambda: "19 differences" in str(app.screen.query_one("#diff-status").render()))
        await pilot.pause()
        assert table.virtual_size.width <= table.size.width  # no sideways scrolling
        header = shown(table).splitlines()[0]
        assert "cartpole_ppo" in header and "pendulum_ppo" in header
        # the highlighted row is shown in full under the table (moved again if the diff is redrawn)
        def highlighted() -> bool:
            if "NormalizeObservation" in shown(app.screen.query_one("#diff-detail")):
                return True
            table.move_cursor(row=table.get_row_index("wrappers[0]._target_"))
            return False

        await wait_for(pilot, highlighted, what="the highlighted row in full")
        widths = {key.value: column.get_render_width(table) for key, column in table.columns.items()}
        assert sum(widths.values()) <= table.size.width and min(widths.values()) >= 12 + 2
        detail = shown(app.screen.query_one("#diff-detail"))
        assert "mazedsl.spec.NormalizeObservation" in detail and "wrappers[0]._target_" in detail


# -- Resume -----------------------------------------------------------------------------------------

FAKE_TRAIN = Path(__file__).parent / "fixtures" / "tui" / "fake_train.py"
INTERRUPTED = "20260104-170245_9e1d7b"
FINISHED = "20260105-093012_3fa9c1"


class FakeResumeLibrary(DemoLibrary):
    """Resumes with tests/fixtures/tui/fake_train.py; records the real command it stands in for."""

    def __init__(self) -> None:
        self.real: list[list[str]] = []

    def resume_command(self, run_dir, overrides=()):
        self.real.append(super().resume_command(run_dir, overrides))
        return [sys.executable, str(FAKE_TRAIN), *overrides, "fake_delay=0.01", "--run-dir", str(run_dir)]


def test_resume_command_is_the_cli_resume():
    assert DemoLibrary().resume_command(Path("/r/run"), ["total_steps=9"]) == [
        sys.executable, "-m", "mazedsl", "train", "--resume", "/r/run", "total_steps=9", "--quiet"]


@run_async
async def test_resume_from_the_run_detail_restarts_an_interrupted_run(demo, monkeypatch):
    from mazedsl_tui.messages import TrainingExited, TrainingStarted
    from mazedsl_tui.screens.resume import ResumeScreen
    from mazedsl_tui.screens.run_detail import RunDetailScreen
    from mazedsl_tui.widgets.detail.curves import MetricsPlot

    monkeypatch.chdir(demo.root)
    path = (demo.runs / "cartpole_ppo" / INTERRUPTED).resolve()
    library = FakeResumeLibrary()
    seen: list[Any] = []
    app = make_app(demo, library=library)

    def hook(message):
        if isinstance(message, (TrainingStarted, TrainingExited)):
            seen.append(message)

    async with app.run_test(size=(100, 32), message_hook=hook) as pilot:
        app.open_run(path)
        await wait_for(pilot, lambda: isinstance(app.screen, RunDetailScreen) and app.screen.info is not None)
        detail = app.screen
        assert "interrupted" in shown(detail.query_one("#run-summary"))
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ResumeScreen) and app.screen.is_mounted)
        dialog = app.screen
        assert dialog.error is None and dialog.overrides == []
        assert str(dialog.query_one("#resume-preview").render()) == \
            f"command  mazedsl train --resume outputs/cartpole_ppo/{INTERRUPTED}"
        assert "20,480 of 50,000 steps" in shown(dialog.query_one("#resume-title"))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is detail, what="back on the run")
        await wait_for(pilot, lambda: app.trainings.get(path) is not None
                       and app.trainings.get(path).returncode == 0, what="the resumed training to end")
        await wait_for(pilot, lambda: "✔ finished" in shown(detail.query_one("#run-summary")))
        plot = detail.query_one("#plot-return", MetricsPlot)
        await wait_for(pilot, lambda: plot.values("ep_return_mean")[-1] == 204.8, what="new points")
    assert library.real == [[sys.executable, "-m", "mazedsl", "train", "--resume", str(path), "--quiet"]]
    assert [type(m).__name__ for m in seen] == ["TrainingStarted", "TrainingExited"]
    assert seen[0].run_dir == path and seen[1].returncode == 0


@run_async
async def test_resume_dialog_asks_a_finished_run_for_a_larger_budget(demo):
    from textual.widgets import Input

    from mazedsl_tui.screens.resume import ResumeScreen

    app = make_app(demo)
    async with app.run_test(size=(100, 32)) as pilot:
        app.open_resume(demo.runs / "cartpole_ppo" / FINISHED)
        await wait_for(pilot, lambda: isinstance(app.screen, ResumeScreen) and app.screen.is_mounted)
        dialog = app.screen
        budget = dialog.query_one("#resume-budget", Input)
        assert budget.value == "100000" and dialog.overrides == ["total_steps=100000"]
        budget.value = ""
        await pilot.pause()
        assert "used its budget of 50,000 steps" in dialog.error
        assert dialog.query_one("#resume-start").disabled
        budget.value = "40,000"
        await pilot.pause()
        assert "already has 50,000 steps" in dialog.error
        budget.value = "75_000"
        await pilot.pause()
        assert dialog.error is None and dialog.overrides == ["total_steps=75000"]
        await pilot.press("escape")
        assert not isinstance(app.screen, ResumeScreen) and not app.trainings.running()


@run_async
async def test_resume_is_refused_while_the_run_trains(demo):
    from mazedsl_tui.screens.resume import ResumeScreen

    app = make_app(demo)
    async with app.run_test(size=(100, 32)) as pilot:
        app.open_resume(demo.runs / "pendulum_ppo" / "20260107-080000_5d0c2a")
        await wait_for(pilot, lambda: isinstance(app.screen, ResumeScreen) and app.screen.is_mounted)
        assert "still training" in app.screen.error
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ResumeScreen) and not app.trainings.running()


@run_async
async def test_command_palette_resumes_a_run(demo):
    from textual.command import CommandPalette

    from mazedsl_tui.screens.resume import ResumeScreen

    app = make_app(demo)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*f"resume run cartpole_ppo/{INTERRUPTED}")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ResumeScreen) and app.screen.is_mounted)
        assert app.screen.run_dir.name == INTERRUPTED


# -- files of several experiments -----------------------------------------------------------------

@run_async
async def test_a_file_of_several_experiments_lists_each_to_show_diff_and_train(demo, monkeypatch):
    from textual.widgets import Select

    from mazedsl_tui.demo import write_several
    from mazedsl_tui.widgets.experiments.tree import ExperimentTree

    monkeypatch.chdir(demo.root)
    several = write_several(demo.experiments)
    small, large = (several.with_name(f"cartpole_sizes.py:{n}") for n in ("small", "large"))
    app = make_app(demo, mode="experiments")
    async with app.run_test(size=(100, 32)) as pilot:
        screen = app.screen
        tree = screen.query_one(ExperimentTree)
        await wait_for(pilot, lambda: screen.choices.get(several) == ["small", "large"], what="the scan")
        node = tree.find(several)
        assert [str(c.label) for c in node.children] == [":small", ":large"] and node.is_expanded
        assert [e.label for e in tree.experiment_entries()] == [
            "cartpole_a2c.py", "cartpole_ppo.py", "cartpole_sizes.py", "cartpole_sizes.py:small",
            "cartpole_sizes.py:large", "pendulum_ppo.py"]

        tree.select_path(several)  # the file itself: says what to do, not "pick one with file.py:<name>"
        await wait_for(pilot, lambda: "Pick one below" in str(screen.query_one("#exp-title").render()))
        assert "defines 2 experiments: small, large" in str(screen.query_one("#exp-title").render())
        await pilot.press("t")
        assert not isinstance(app.screen, LaunchScreen)

        await pilot.press("down")  # :small
        await wait_for(pilot, lambda: screen.current == small and screen.experiment is not None)
        await wait_for(pilot, lambda: "name: cartpole_small" in shown(screen.query_one("#exp-yaml")),
                       what="the experiment's YAML, laid out")
        provenance = screen.query_one("#exp-provenance")
        assert provenance.get_cell("model.hidden_units", "source").plain == "cartpole_sizes.py:8"

        await pilot.press("d")
        options = [value for _, value in screen.query_one("#diff-other", Select)._options]
        assert str(small) in options and str(large) in options and str(several) not in options
        screen.query_one("#diff-other", Select).value = str(large)
        diff = screen.query_one("#diff-table")
        await wait_for(pilot, lambda: diff.row_count == 3, what="diff rows")
        assert [k.value for k in diff.rows] == ["algorithm.lr", "model.hidden_units", "name"]
        assert "between cartpole_sizes:small and cartpole_sizes:large" in str(
            screen.query_one("#diff-status").render())

        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, LaunchScreen) and app.screen.is_mounted
                       and not app.screen.validating and app.screen.error is None, what="launch")
        assert app.screen.experiment_name == "cartpole_small"
        assert str(app.screen.query_one("#launch-preview").render()).endswith(
            "command  mazedsl train experiments/cartpole_sizes.py:small")
        started: list[Any] = []
        monkeypatch.setattr(app, "start_training", lambda *a: started.append(a) or None)
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert started == [(small, [], "cartpole_small")]


@run_async
async def test_command_palette_trains_and_diffs_each_experiment_of_a_file(demo):
    from textual.command import CommandPalette

    from mazedsl_tui.demo import write_several

    several = write_several(demo.experiments)
    app = make_app(demo)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"diff cartpole_sizes:small against cartpole_sizes:large")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen))
        screen = app.screen
        await wait_for(pilot, lambda: screen.current == several.with_name("cartpole_sizes.py:small")
                       and "differences" in str(screen.query_one("#diff-status").render()), what="the diff")
        assert "3 differences between cartpole_sizes:small and cartpole_sizes:large" in str(
            screen.query_one("#diff-status").render())
        assert screen.query_one("#diff-table").row_count == 3


# -- a sweep config (experiments/optuna_cartpole.yaml) ---------------------------------------------

SHIPPED_SWEEP = Path(__file__).resolve().parents[1] / "experiments" / "optuna_cartpole.yaml"
HAS_OPTUNA = importlib.util.find_spec("hydra_plugins.hydra_optuna_sweeper") is not None


def test_sweep_config_is_read_as_what_it_is(tmp_path):
    from mazedsl_tui.sweeps import read_sweep_config

    config = read_sweep_config(SHIPPED_SWEEP)
    assert config.name == "optuna_cartpole" and config.sweeper == "optuna" and config.bases == ["conf_train"]
    assert config.params == {"algorithm.lr": "interval(1e-4, 3e-3)", "algorithm.n_epochs": "choice(5, 10, 20)",
                             "algorithm.clip_range": "choice(0.1, 0.2, 0.3)"}
    assert config.settings["n_trials"] == 12 and config.settings["direction"] == "maximize"
    assert config.fixed["total_steps"] == 30000 and config.fixed["algorithm.gamma"] == 0.98
    assert config.summary() == "Optuna sweeper · 12 trials · maximize"
    (tmp_path / "plain.yaml").write_text("name: x\ntotal_steps: 10\n")
    assert read_sweep_config(tmp_path / "plain.yaml") is None  # a compiled experiment, not a sweep


@run_async
async def test_sweep_config_is_shown_and_launched_as_a_sweep(demo, monkeypatch):
    from textual.widgets import DataTable

    from mazedsl_tui.messages import TrainingStarted
    from mazedsl_tui import sweeps

    monkeypatch.chdir(demo.root)
    monkeypatch.setattr(sweeps.SweepConfig, "problem", lambda self: None)  # with the plugin
    sweep_file = demo.experiments / "optuna_cartpole.yaml"
    sweep_file.write_text(SHIPPED_SWEEP.read_text())
    started: list[TrainingStarted] = []
    library = DemoLibrary()
    commands: list[list[str]] = []

    def sweep_command(config, overrides, sweep_dir):
        commands.append(DemoLibrary.sweep_command(library, config, overrides, sweep_dir))
        return [sys.executable, "-c", "pass"]

    library.sweep_command = sweep_command  # type: ignore[method-assign]
    app = make_app(demo, library=library, mode="experiments")

    def hook(message):
        if isinstance(message, TrainingStarted):
            started.append(message)

    async with app.run_test(size=(100, 32), message_hook=hook) as pilot:
        screen = app.screen
        screen.show_experiment(sweep_file)
        await wait_for(pilot, lambda: screen.sweep is not None, what="the sweep config")
        title = str(screen.query_one("#exp-title").render())
        assert "sweep config for mazedsl-run -m · Optuna sweeper · 12 trials · maximize" in title
        # the YAML panel is laid out to its new height on the next refresh
        await wait_for(pilot, lambda: "n_trials: 12" in shown(screen.query_one("#exp-yaml")),
                       what="the sweep YAML")
        table = screen.query_one("#exp-provenance", DataTable)
        assert table.get_cell("param:algorithm.lr", "value") == "interval(1e-4, 3e-3)"
        assert str(table.get_cell("fixed:total_steps", "value")) == "30000"
        options = [value for _, value in screen.query_one("#diff-other")._options]
        assert str(sweep_file) not in options  # not offered for diffing

        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, LaunchScreen) and app.screen.is_mounted)
        launch = app.screen
        launch.query_one("#launch-overrides").value = "hydra.sweeper.n_trials=4"
        launch.query_one("#launch-budget").value = "20000"
        await wait_for(pilot, lambda: launch.overrides == ["hydra.sweeper.n_trials=4", "total_steps=20000"]
                       and not launch.validating and launch.error is None, what="a valid form")
        assert str(launch.query_one("#launch-preview").render()).endswith(
            "command  mazedsl-run --config-dir experiments -cn optuna_cartpole -m hydra.sweeper.n_trials=4 "
            "total_steps=20000")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen), what="the runs")
    sweep_dir = started[0].run_dir
    assert sweep_dir.parent == (demo.runs / "optuna_cartpole").resolve() and sweep_dir.name.startswith("sweep_")
    assert commands == [[sys.executable, "-m", "mazedsl.cli.hydra_app", "--config-dir",
                         str(demo.experiments.resolve()), "-cn", "optuna_cartpole", "-m",
                         "hydra.sweeper.n_trials=4", "total_steps=20000", f"hydra.sweep.dir={sweep_dir}"]]


@run_async
async def test_sweep_without_its_sweeper_plugin_says_how_to_install_it(demo, monkeypatch):
    from mazedsl_tui import sweeps

    monkeypatch.setattr(sweeps, "SWEEPER_PLUGINS", {"optuna": ("no_such_plugin_module", "pip install X")})
    (demo.experiments / "optuna_cartpole.yaml").write_text(SHIPPED_SWEEP.read_text())
    app = make_app(demo, mode="experiments")
    async with app.run_test(size=(100, 32)) as pilot:
        app.open_launch(demo.experiments / "optuna_cartpole.yaml")
        await wait_for(pilot, lambda: isinstance(app.screen, LaunchScreen) and app.screen.error is not None)
        assert app.screen.error == "the optuna sweeper is not installed: pip install X"
        assert app.screen.query_one("#launch-start").disabled


@run_async
async def test_a_sweep_that_fails_to_start_is_reported_with_its_error_line(demo, monkeypatch):
    """A sweep process that refuses (exit 2, one `error:` line): the notice says what was wrong,
    not only an exit code."""
    from mazedsl_tui.sweeps import read_sweep_config

    monkeypatch.chdir(demo.root)
    (demo.experiments / "optuna_cartpole.yaml").write_text(SHIPPED_SWEEP.read_text())
    library = DemoLibrary()
    library.sweep_command = lambda config, overrides, sweep_dir: [  # type: ignore[method-assign]
        sys.executable, "-c", "import sys; print('error: total_step: unknown key'); sys.exit(2)"]
    app = make_app(demo, library=library)
    notes: list[tuple[str, str]] = []
    async with app.run_test(size=(100, 32)) as pilot:
        app.notify = lambda message, title="", **_: notes.append((title, str(message)))  # type: ignore[method-assign]
        app.start_sweep(read_sweep_config(demo.experiments / "optuna_cartpole.yaml"), [])
        await wait_for(pilot, lambda: any(title == "Sweep failed" for title, _ in notes), what="the notice")
    failed = next(message for title, message in notes if title == "Sweep failed")
    assert failed.endswith(": total_step: unknown key")


@pytest.mark.skipif(not HAS_OPTUNA, reason="needs the optional Optuna sweeper: pip install -e '.[tune]'")
@run_async
async def test_the_sweep_dialog_refuses_what_mazedsl_run_would_refuse(demo, monkeypatch):
    """A typo'd override in the sweep dialog: the line mazedsl-run would print, inline, and no
    start (the dialog said "valid" and the sweep then failed); a good form is valid again."""
    monkeypatch.chdir(demo.root)
    (demo.experiments / "optuna_cartpole.yaml").write_text(SHIPPED_SWEEP.read_text())
    app = make_app(demo, mode="experiments")
    async with app.run_test(size=(100, 32)) as pilot:
        app.open_launch(demo.experiments / "optuna_cartpole.yaml")
        await wait_for(pilot, lambda: isinstance(app.screen, LaunchScreen) and app.screen.is_mounted)
        launch = app.screen
        launch.query_one("#launch-overrides").value = "hydra.sweeper.n_trials=2 total_step=3000"
        await wait_for(pilot, lambda: not launch.validating and launch.error is not None, what="the refusal")
        assert launch.error.startswith("total_step: unknown key; did you mean 'total_steps'?")
        assert launch.query_one("#launch-start").disabled
        launch.query_one("#launch-overrides").value = "hydra.sweeper.n_trials=2 total_steps=3000"
        await wait_for(pilot, lambda: not launch.validating and launch.error is None
                       and launch.overrides[-1] == "total_steps=3000", what="a valid form")
        assert not launch.query_one("#launch-start").disabled


@pytest.mark.skipif(not HAS_OPTUNA, reason="needs the optional Optuna sweeper: pip install -e '.[tune]'")
def test_the_sweep_command_shown_runs_from_the_project(demo, monkeypatch):
    """The command the dialog shows, run in a shell-like subprocess from the project root."""
    import subprocess

    from mazedsl_tui.sweeps import read_sweep_config

    monkeypatch.chdir(demo.root)
    (demo.experiments / "optuna_cartpole.yaml").write_text(SHIPPED_SWEEP.read_text())
    config = read_sweep_config(Path("experiments/optuna_cartpole.yaml"))
    shown_command = config.command(["hydra.sweeper.n_trials=1", "total_steps=512", "eval_every_steps=256",
                                    "eval_episodes=1"], Path("outputs"))
    assert shown_command[:6] == ["mazedsl-run", "--config-dir", "experiments", "-cn", "optuna_cartpole", "-m"]
    exe = str(Path(sys.executable).parent / "mazedsl-run")
    done = subprocess.run([exe, *shown_command[1:]], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    sweep_json = list((demo.runs / "optuna_cartpole").glob("sweep_*/sweep.json"))
    assert len(sweep_json) == 1
    jobs = [p for p in sweep_json[0].parent.iterdir() if (p / "run.json").is_file()]
    assert len(jobs) == 1 and json.loads((jobs[0] / "run.json").read_text())["status"] == "finished"


def test_the_sweep_process_the_app_starts_runs_its_jobs(demo, monkeypatch):
    """The process the app itself starts (``python -m mazedsl.cli.hydra_app``, not the command
    it shows): the defect was a module that did nothing when run so, and exited 0 ("Sweep
    finished" with no job). A typo in its overrides exits 2 with one line, nothing written."""
    import subprocess

    from mazedsl_tui.sweeps import read_sweep_config, sweep_process_command

    monkeypatch.chdir(demo.root)
    (demo.experiments / "optuna_cartpole.yaml").write_text(SHIPPED_SWEEP.read_text())
    config = read_sweep_config(Path("experiments/optuna_cartpole.yaml"))
    tiny = ["hydra.sweeper.n_trials=1", "total_steps=512", "eval_every_steps=256", "eval_episodes=1"]
    sweep_dir = (demo.runs / "optuna_cartpole" / "sweep_by_the_app").resolve()
    done = subprocess.run(sweep_process_command(config, tiny, sweep_dir), capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads((sweep_dir / "job_000" / "run.json").read_text())["status"] == "finished"
    assert len(json.loads((sweep_dir / "sweep.json").read_text())["jobs"]) == 1
    typo = sweep_dir.with_name("sweep_typo")
    done = subprocess.run(sweep_process_command(config, [*tiny[:1], "total_step=512"], typo),
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 2 and not typo.exists()
    assert done.stderr.splitlines() == [done.stderr.strip()] and "did you mean 'total_steps'" in done.stderr


# -- a training that stops before it starts --------------------------------------------------------

REFUSE = """import json, os, sys
run_dir = sys.argv[sys.argv.index('--run-dir') + 1]
os.makedirs(run_dir, exist_ok=True)
json.dump({'status': 'created', 'experiment': 'cartpole_ppo', 'algorithm': 'PPO', 'env': 'LunarLander-v3',
           'steps': 0, 'best_eval': None, 'error': None}, open(os.path.join(run_dir, 'run.json'), 'w'))
print("error: env.name: cannot make 'LunarLander-v3': Box2D is not installed")
sys.exit(2)
"""


class RefusingLibrary(DemoLibrary):
    """Trains with a process that leaves run.json 'created' and exits 2, as the CLI does for an env
    it cannot make."""

    def train_command(self, experiment_file, overrides, run_dir):
        return [sys.executable, "-c", REFUSE, "--run-dir", str(run_dir)]


@run_async
async def test_a_training_that_exits_before_it_starts_shows_failed_not_created(demo):
    from mazedsl_tui.screens.run_detail import RunDetailScreen

    app = make_app(demo, library=RefusingLibrary(), mode="experiments")
    async with app.run_test(size=(100, 32)) as pilot:
        run = app.start_training(demo.experiments / "cartpole_ppo.py", [], "cartpole_ppo")
        app.open_run(run)
        await wait_for(pilot, lambda: isinstance(app.screen, RunDetailScreen) and app.screen.is_mounted)
        summary = app.screen.query_one("#run-summary")
        await wait_for(pilot, lambda: "✘ failed" in str(summary.render()), what="failed")
        assert "exited with code 2 before training started: see the Log tab" in str(summary.render())
        log = app.screen.query_one("#run-log")
        await wait_for(pilot, lambda: "Box2D is not installed" in "\n".join(log.text_lines), what="the console")
        assert app.effective_status(app.library.read_run_info(run)) == "failed"
