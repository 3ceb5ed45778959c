"""Typed messages: what workers and screens tell each other.

Workers run in threads and only ever ``post_message`` one of these (thread-safe); the
handlers run on the UI thread. Tests watch this stream with ``run_test(message_hook=...)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.message import Message


class RunsUpdated(Message):
    """A fresh listing of every run under the runs root (from the polling worker).

    ``statuses``: run path -> status to show (run.json's, or 'crashed' for a training of
    this UI that died leaving it 'running').
    """

    def __init__(self, runs: list[Any], statuses: dict[str, str]) -> None:
        super().__init__()
        self.runs = runs
        self.statuses = statuses

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunsUpdated)


class MetricsUpdated(Message):
    """All metrics records of a run read so far (a newer one replaces a queued one)."""

    def __init__(self, run_dir: Path, records: list[dict[str, Any]], offset: int, new: int) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.records = records
        self.offset = offset
        self.new = new

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, MetricsUpdated) and message.run_dir == self.run_dir


class RunInfoUpdated(Message):
    """The run.json of a run changed (status, steps, best eval); ``status`` is the one to show."""

    def __init__(self, run_dir: Path, info: Any, status: str) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.info = info
        self.status = status

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunInfoUpdated) and message.run_dir == self.run_dir


class LogAppended(Message):
    """New text at the end of a run's log."""

    def __init__(self, run_dir: Path, text: str, reset: bool = False) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.text = text
        self.reset = reset


class EvalFileLoaded(Message):
    """The run's eval.json (None when it has none)."""

    def __init__(self, run_dir: Path, summary: dict[str, Any] | None) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.summary = summary


class EvaluationFinished(Message):
    """An evaluation started from the UI ended (summary, or the error)."""

    def __init__(self, run_dir: Path, summary: dict[str, Any] | None, error: str | None) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.summary = summary
        self.error = error


class ExperimentLoaded(Message):
    """An experiment file was compiled (or failed to)."""

    def __init__(self, path: Path, name: str, yaml: str, provenance: dict[str, str],
                 error: str | None = None, experiment: Any = None, choices: list[str] | None = None,
                 sweep: Any = None) -> None:
        super().__init__()
        self.path = path
        self.sweep = sweep  # a Hydra sweep config (mazedsl_tui.sweeps.SweepConfig), not an experiment
        self.choices = choices  # a file of several experiments (and no `experiment`): their names
        self.experiment = experiment
        self.name = name
        self.yaml = yaml
        self.provenance = provenance
        self.error = error


class ExperimentsScanned(Message):
    """The files that define several experiments: file -> the experiments' names."""

    def __init__(self, choices: dict[Path, list[str]]) -> None:
        super().__init__()
        self.choices = choices


class ExperimentDiffed(Message):
    """The differences between two experiments."""

    def __init__(self, a: Path, b: Path, rows: list[tuple[str, Any, Any]], error: str | None) -> None:
        super().__init__()
        self.a = a
        self.b = b
        self.rows = rows
        self.error = error


class OverridesValidated(Message):
    """The launch form's overrides applied to the experiment: error (one line) or None.

    ``note`` says why nothing could be checked; ``generation`` tells stale answers apart.
    """

    def __init__(self, overrides: list[str], error: str | None, experiment_name: str | None,
                 note: str | None = None, generation: int = 0) -> None:
        super().__init__()
        self.overrides = overrides
        self.error = error
        self.experiment_name = experiment_name
        self.note = note
        self.generation = generation


class BudgetUnitKnown(Message):
    """Whether the launch form's experiment trains on env episodes (its budget counts env
    steps) or learns from recordings (BC: training samples); ``generation`` as above."""

    def __init__(self, plays_episodes: bool, generation: int = 0) -> None:
        super().__init__()
        self.plays_episodes = plays_episodes
        self.generation = generation


class TrainingStarted(Message):
    def __init__(self, run_dir: Path, pid: int) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.pid = pid


class TrainingExited(Message):
    """A training process started from this UI ended."""

    def __init__(self, run_dir: Path, returncode: int) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.returncode = returncode


class EpisodeOpened(Message):
    """A rollout episode is ready with its first step (opened in a worker), or failed: error."""

    def __init__(self, iterator: Any, first: Any, seed: int | None, error: str | None = None) -> None:
        super().__init__()
        self.iterator = iterator
        self.first = first
        self.seed = seed
        self.error = error


class RunFileRead(Message):
    """A whole small file of a run directory was read (config.yaml)."""

    def __init__(self, run_dir: Path, name: str, text: str | None) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.name = name
        self.text = text


class ModulesListed(Message):
    """The config modules of every group of conf/ (group -> names), or why not."""

    def __init__(self, modules: dict[str, list[str]], error: str | None = None) -> None:
        super().__init__()
        self.modules = modules
        self.error = error


class ComparisonUpdated(Message):
    """A fresh copy of a Compare or Sweep screen's :class:`mazedsl.compare.Comparison`
    (``error``: why it could not be read). A newer one replaces a queued one."""

    def __init__(self, owner: int, comparison: Any, error: str | None = None) -> None:
        super().__init__()
        self.owner = owner
        self.comparison = comparison
        self.error = error

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ComparisonUpdated) and message.owner == self.owner
