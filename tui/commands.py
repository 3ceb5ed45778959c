"""The command palette: train, evaluate, roll out, resume, open run, diff, and navigation."""

from __future__ import annotations

import asyncio
from functools import partial
from itertools import permutations
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from textual.command import DiscoveryHit, Hit, Hits, Provider

from mazedsl_tui.formatting import short_path
from mazedsl_tui.library import experiment_files, experiment_ref, ref_stem

if TYPE_CHECKING:  # pragma: no cover
    from mazedsl_tui.app import MazeApp

MAX_DIFF_PAIRS = 200


def experiment_refs(library: Any, files: list[Path]) -> list[Path]:
    """What can be trained and diffed: each file, or each experiment (``file.py:name``) of a
    file that defines several."""
    refs: list[Path] = []
    for path in files:
        names: list[str] = []
        if path.suffix == ".py":
            try:
                names = library.experiment_names(path)
            except Exception:  # noqa: BLE001 - a broken file is offered as it is
                names = []
        if len(names) > 1:
            refs += [experiment_ref(path, name) for name in names]
        else:
            refs.append(path)
    return refs


class MazeCommands(Provider):
    """Commands over the experiment files and runs found when the palette opens."""

    async def startup(self) -> None:
        app: MazeApp = self.app  # type: ignore[assignment]
        self._commands = await asyncio.to_thread(self._collect, app)

    def _collect(self, app: "MazeApp") -> list[tuple[str, Callable[[], Any], str]]:
        commands: list[tuple[str, Callable[[], Any], str]] = [
            ("Go to runs", partial(app.go, "runs"), "The table of all runs"),
            ("Go to experiments", partial(app.go, "experiments"), "Experiment files and config modules"),
            ("Help", app.action_help, "Keys and screens"),
        ]
        root = Path(app.experiments_dir)
        files = experiment_files(root)
        sweeps = [p for p in files if app.library.sweep_config(p) is not None]
        refs = experiment_refs(app.library, [p for p in files if p not in sweeps])
        for path in refs:
            rel = str(path.relative_to(root))
            commands.append((f"Train {rel}", partial(app.open_launch, path),
                             "Edit overrides, seed and budget, then start training"))
        for path in sweeps:
            commands.append((f"Sweep {path.relative_to(root)}", partial(app.open_launch, path),
                             "A Hydra sweep config: launch mazedsl-run -m"))
        for a, b in list(permutations(refs, 2))[:MAX_DIFF_PAIRS]:
            commands.append((f"Diff {ref_stem(a)} against {ref_stem(b)}", partial(app.open_diff, a, b),
                             "Config differences between two experiments"))
        try:
            runs = app.library.list_runs(app.runs_root)
        except Exception:  # noqa: BLE001 - no runs, no run commands
            runs = []
        commands.append(("Compare marked runs", partial(self._compare_marked, app),
                         "Overlay the curves of the runs marked with space in the Runs table"))
        for info in runs:
            label = short_path(info.path, app.runs_root)
            if getattr(info, "is_sweep", False):
                jobs = [j.path for j in info.jobs]
                commands.append((f"Open sweep {label}", partial(app.open_sweep, info.path),
                                 f"{len(jobs)} jobs grouped by configuration"))
                commands.append((f"Compare sweep {label}", partial(app.open_compare, jobs, f"Compare {label}"),
                                 "Curves of every job, seeds as mean and band"))
                continue
            status = app.effective_status(info)
            commands.append((f"Open run {label}", partial(app.open_run, info.path),
                             f"{info.algorithm} · {info.env} · {status}"))
            commands.append((f"Evaluate {label}", partial(app.open_run, info.path, "evaluation", True),
                             "Evaluate the best checkpoint (10 episodes)"))
            commands.append((f"Roll out {label}", partial(app.open_rollout, info.path),
                             "Watch the trained policy play"))
            if status != "running":
                commands.append((f"Resume run {label}", partial(app.open_resume, info.path),
                                 "Continue from its last checkpoint (mazedsl train --resume)"))
        for training in app.trainings.running():
            label = short_path(training.run_dir, app.runs_root)
            commands.append((f"Stop training {label}", partial(app.stop_training, training.run_dir),
                             "SIGINT: finish the update, checkpoint, exit"))
        return commands

    @staticmethod
    def _compare_marked(app: "MazeApp") -> None:
        from mazedsl_tui.screens.runs import RunsScreen

        app.go("runs")
        screen = app.screen
        if isinstance(screen, RunsScreen):
            screen.action_compare()

    async def discover(self) -> Hits:
        for text, command, help_text in self._commands:
            if not text.startswith(("Diff ", "Evaluate ", "Roll out ", "Resume run ")):
                yield DiscoveryHit(text, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, command, help_text in self._commands:
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), command, text=text, help=help_text)
