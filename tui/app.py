"""The mazedsl terminal UI: ``mazedsl tui`` calls :func:`main`.

Screens: Runs (mode ``runs``) and Experiments (mode ``experiments``) are the two
top-level modes; a run's detail, the rollout viewer, the launch dialog and the help
are pushed on top. Nothing heavy is imported here: torch, gymnasium and Hydra load
only when a screen needs them, in worker threads.
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.screen import ModalScreen

from mazedsl_tui.commands import MazeCommands
from mazedsl_tui.formatting import short_path
from mazedsl_tui.library import Library
from mazedsl_tui.messages import TrainingExited, TrainingStarted
from mazedsl_tui.screens.experiments import ExperimentsScreen
from mazedsl_tui.screens.runs import RunsScreen
from mazedsl_tui.training import TrainingManager, new_run_dir


class MazeApp(App[None]):
    """Experiments, runs, live curves, evaluation and rollouts of mazedsl."""

    CSS_PATH = "app.tcss"
    TITLE = "mazedsl"
    COMMANDS = App.COMMANDS | {MazeCommands}
    MODES = {"runs": RunsScreen, "experiments": ExperimentsScreen}
    DEFAULT_MODE = "runs"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide"), (160, "-xwide")]
    BINDINGS = [
        Binding("1", "go('runs')", "Runs", show=False),
        Binding("2", "go('experiments')", "Experiments", show=False),
        Binding("question_mark,f1", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit", show=False),
    ]

    def __init__(self, experiments_dir: str | Path = "experiments", runs_root: str | Path = "outputs", *,
                 library: Library | None = None, poll_interval: float = 1.0, mode: str = "runs") -> None:
        super().__init__()
        self.experiments_dir = Path(experiments_dir)
        self.runs_root = Path(runs_root)
        self.library = library or Library()
        self.poll_interval = poll_interval
        self.initial_mode = mode if mode in self.MODES else "runs"
        self.trainings = TrainingManager()
        self.runs_wake = threading.Event()

    def on_mount(self) -> None:
        self.switch_mode(self.initial_mode)
        self.set_interval(0.5, self._check_trainings, name="trainings")

    # -- navigation --------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("go", "help") and isinstance(self.screen, ModalScreen):
            return False  # keys typed into a dialog stay there
        return True

    def go(self, mode: str) -> None:
        """Show a top-level screen (its own, not whatever was pushed on top of it)."""
        self.switch_mode(mode)
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def action_go(self, mode: str) -> None:
        self.go(mode)

    def action_help(self) -> None:
        from mazedsl_tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def open_run(self, run_dir: str | Path, tab: str = "curves", evaluate: bool = False) -> None:
        from mazedsl_tui.screens.run_detail import RunDetailScreen

        self.push_screen(RunDetailScreen(Path(run_dir), tab=tab, evaluate=evaluate))

    def open_compare(self, run_dirs: list[str | Path], title: str | None = None) -> None:
        from mazedsl_tui.screens.compare import CompareScreen

        self.push_screen(CompareScreen([Path(p) for p in run_dirs], title=title))

    def open_sweep(self, sweep_dir: str | Path) -> None:
        from mazedsl_tui.screens.sweep import SweepScreen

        self.push_screen(SweepScreen(Path(sweep_dir)))

    def open_rollout(self, run_dir: str | Path) -> None:
        problem = self.library.engine_problem()
        if problem:
            self.notify(problem, title="Cannot roll out", severity="error")
            return
        self.push_rollout(self.library.rollout_source(Path(run_dir)))

    def push_rollout(self, source: Any, **kwargs: Any) -> None:
        from mazedsl_tui.screens.rollout import RolloutScreen

        self.push_screen(RolloutScreen(source, **kwargs))

    def open_launch(self, experiment_file: str | Path, overrides: str = "") -> None:
        from mazedsl_tui.screens.launch import LaunchScreen

        def launched(run_dir: Path | None) -> None:
            if run_dir is not None:
                self.open_run(run_dir)

        self.push_screen(LaunchScreen(Path(experiment_file), overrides), launched)

    def open_diff(self, a: str | Path, b: str | Path) -> None:
        self.go("experiments")
        screen = self.screen
        if isinstance(screen, ExperimentsScreen):
            screen.show_experiment(Path(a), tab="diff", other=Path(b))

    # -- training processes ---------------------------------------------------------------------------
    def start_training(self, experiment_file: str | Path, overrides: list[str], experiment_name: str) -> Path:
        """Start ``mazedsl train`` in its own process; the new run directory."""
        run_dir = new_run_dir(self.runs_root, experiment_name).resolve()
        command = self.library.train_command(Path(experiment_file).resolve(), overrides, run_dir)
        training = self.trainings.start(command, run_dir)
        self.post_message(TrainingStarted(run_dir, training.process.pid))
        self.runs_wake.set()
        self.notify(f"{short_path(run_dir, self.runs_root)} (pid {training.process.pid})",
                    title="Training started")
        return run_dir

    def stop_training(self, run_dir: str | Path) -> None:
        training = self.trainings.get(run_dir)
        if training is None or not training.running:
            self.notify("Only trainings started from this window can be stopped here.",
                        severity="warning")
            return
        what = training.stop()
        hint = {"interrupting": " (checkpoint kept) — s again: terminate",
                "terminating": " — s again: kill"}.get(what, "")
        self.notify(f"{short_path(training.run_dir, self.runs_root)}: {what}{hint}", title="Stopping training")

    def effective_status(self, info: Any, exited: set[Path] | None = None) -> str:
        """run.json's status, or 'crashed' when our process died leaving it 'running'.

        ``exited``: :meth:`TrainingManager.exited` taken before ``info`` was read (a process
        that ends after its run.json was read is not a crash).
        """
        if info.status != "running":
            return info.status
        if exited is None:
            exited = self.trainings.exited()
        return "crashed" if Path(info.path).resolve() in exited else info.status

    def _check_trainings(self) -> None:
        for training in self.trainings.poll():
            self.post_message(TrainingExited(training.run_dir, training.returncode or 0))

    def on_training_exited(self, message: TrainingExited) -> None:
        label = short_path(message.run_dir, self.runs_root)
        if message.returncode == 0:
            self.notify(label, title="Training finished")
        elif message.returncode == 130:
            self.notify(label, title="Training interrupted (checkpoint kept)", severity="warning")
        else:
            self.notify(f"{label}: exit code {message.returncode} — see its Log tab",
                        title="Training failed", severity="error")
        self.runs_wake.set()


def main(argv: list[str] | None = None) -> int:
    """``mazedsl tui [--experiments DIR] [--runs DIR]``."""
    parser = argparse.ArgumentParser(prog="mazedsl tui", description="The mazedsl terminal UI.",
                                     allow_abbrev=False)
    parser.add_argument("--experiments", default="experiments", metavar="DIR",
                        help="folder of experiment files (default: experiments)")
    parser.add_argument("--runs", default="outputs", metavar="DIR",
                        help="root of the run directories (default: outputs)")
    args = parser.parse_args(argv)
    MazeApp(experiments_dir=args.experiments, runs_root=args.runs).run()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
