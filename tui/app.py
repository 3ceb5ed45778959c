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
from mazedsl_tui.library import Library, describe_error
from mazedsl_tui.messages import TrainingExited, TrainingStarted
from mazedsl_tui.screens.experiments import ExperimentsScreen
from mazedsl_tui.screens.runs import RunsScreen
from mazedsl_tui.training import TrainingManager, console_log_path, error_line, new_run_dir


def has_runs(runs_root: Path) -> bool:
    """Whether any run directory (a ``run.json``) lies under ``runs_root``; stops at the first."""
    try:
        return next(Path(runs_root).rglob("run.json"), None) is not None
    except OSError:
        return False


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
                 library: Library | None = None, poll_interval: float = 1.0, mode: str | None = None) -> None:
        super().__init__()
        self.experiments_dir = Path(experiments_dir)
        self.runs_root = Path(runs_root)
        self.library = library or Library()
        self.poll_interval = poll_interval
        self.initial_mode = mode if mode in self.MODES else None  # None: decided on mount
        self.trainings = TrainingManager()
        self.runs_wake = threading.Event()

    def on_mount(self) -> None:
        if self.initial_mode is None:
            self.initial_mode = "runs" if has_runs(self.runs_root) else "experiments"
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

    def open_launch(self, experiment_file: str | Path, overrides: str = "", sweep: Any = None) -> None:
        """The Train dialog for an experiment (``sweep``: a sweep config, run by mazedsl-run -m)."""
        from mazedsl_tui.screens.launch import LaunchScreen

        if sweep is None and Path(experiment_file).suffix in (".yaml", ".yml"):
            sweep = self.library.sweep_config(experiment_file)

        def launched(run_dir: Path | None) -> None:
            if run_dir is None:
                return
            if sweep is not None:
                self.go("runs")
            else:
                self.open_run(run_dir)

        self.push_screen(LaunchScreen(Path(experiment_file), overrides, sweep=sweep), launched)

    def open_resume(self, run_dir: str | Path) -> None:
        """The Resume dialog for ``run_dir``; on confirmation its training continues in a process."""
        from mazedsl_tui.screens.resume import ResumeScreen

        run_dir = Path(run_dir)
        try:
            info = self.library.read_run_info(run_dir)
        except Exception as exc:  # noqa: BLE001 - e.g. no run.json
            self.notify(describe_error(exc), title="Cannot resume", severity="error")
            return
        training = self.trainings.get(run_dir)
        ours = training is not None and training.running
        status = "running" if ours else self.effective_status(info)

        def confirmed(overrides: list[str] | None) -> None:
            if overrides is not None:
                self.resume_training(run_dir, overrides)

        problem = self.library.resume_problem(run_dir, status, getattr(info, "steps", 0))
        elsewhere = None if ours or status != "running" else self.library.training_holder(run_dir)
        self.push_screen(ResumeScreen(run_dir, info, status, problem, elsewhere), confirmed)

    def resume_training(self, run_dir: str | Path, overrides: list[str] | None = None) -> Path | None:
        """Continue ``run_dir`` with ``mazedsl train --resume`` in its own process; show the run."""
        from mazedsl_tui.screens.run_detail import RunDetailScreen

        run_dir = Path(run_dir).resolve()
        training = self.trainings.get(run_dir)
        if training is not None and training.running:
            self.notify("It is training already.", title="Cannot resume", severity="warning")
            return None
        command = self.library.resume_command(run_dir, list(overrides or []))
        try:
            training = self.trainings.start(command, run_dir)
        except Exception as exc:  # noqa: BLE001 - e.g. the interpreter cannot be started
            self.notify(describe_error(exc), title="Cannot resume", severity="error")
            return None
        self.post_message(TrainingStarted(run_dir, training.process.pid))
        self.runs_wake.set()
        self.notify(f"{short_path(run_dir, self.runs_root)} (pid {training.process.pid})", title="Training resumed")
        screen = self.screen
        if isinstance(screen, RunDetailScreen) and screen.run_dir.resolve() == run_dir:
            screen.follow()
        else:
            self.open_run(run_dir)
        return run_dir

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

    def start_sweep(self, config: Any, overrides: list[str]) -> Path:
        """Start ``mazedsl-run -m`` on a sweep config in its own process; the sweep directory
        (its jobs are run directories under it, listed in Runs as they start)."""
        stamped = new_run_dir(self.runs_root, config.name)
        sweep_dir = stamped.with_name(f"sweep_{stamped.name}").resolve()
        command = self.library.sweep_command(config, overrides, sweep_dir)
        training = self.trainings.start(command, sweep_dir)
        self.post_message(TrainingStarted(sweep_dir, training.process.pid))
        self.runs_wake.set()
        self.notify(f"{short_path(sweep_dir, self.runs_root)} (pid {training.process.pid}); its jobs appear "
                    "in Runs as they start", title="Sweep started")
        return sweep_dir

    def stop_training(self, run_dir: str | Path) -> None:
        training = self.trainings.get(run_dir)
        if training is None or not training.running:
            holder = self.library.training_holder(run_dir)
            if holder is not None:  # another process trains it (its lock says which)
                self.notify(f"It trains in another process ({holder}): stop it there (Ctrl-C, "
                            "or kill -INT its pid); only trainings started from this window are "
                            "stopped here.", severity="warning")
            else:
                self.notify("It is not training: nothing to stop.", severity="warning")
            return
        what = training.stop()
        hint = {"interrupting": " (checkpoint kept) — s again: terminate",
                "terminating": " — s again: kill"}.get(what, "")
        self.notify(f"{short_path(training.run_dir, self.runs_root)}: {what}{hint}", title="Stopping training")

    def effective_status(self, info: Any, exited: set[Path] | None = None) -> str:
        """run.json's status, or 'crashed' when our process died leaving it 'running', or
        'failed' when it exited with an error before training started (left 'created').

        ``exited``: :meth:`TrainingManager.exited` taken before ``info`` was read (a process
        that ends after its run.json was read is not a crash).
        """
        if info.status not in ("running", "created"):
            return info.status
        if exited is None:
            exited = self.trainings.exited()
        path = Path(info.path).resolve()
        if path not in exited:
            return info.status
        if info.status == "created":
            training = self.trainings.get(path)
            code = training.process.returncode if training is not None else None
            return "failed" if code not in (0, None) else info.status
        return "crashed"

    def _check_trainings(self) -> None:
        for training in self.trainings.poll():
            self.post_message(TrainingExited(training.run_dir, training.returncode or 0))

    def on_training_exited(self, message: TrainingExited) -> None:
        label = short_path(message.run_dir, self.runs_root)
        if message.run_dir.name.startswith("sweep_") and not (message.run_dir / "run.json").exists():
            log = console_log_path(message.run_dir)
            failed = error_line(log) or f"exit code {message.returncode}: see sweep.json, or {log.name}"
            self.notify(label if message.returncode == 0 else f"{label}: {failed}",
                        title="Sweep finished" if message.returncode == 0 else "Sweep failed",
                        severity="information" if message.returncode == 0 else "error")
            self.runs_wake.set()
            return
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
