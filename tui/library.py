"""The parts of mazedsl the UI uses, behind one object.

Everything is imported lazily inside the methods: the app paints its first screen
without importing torch, gymnasium or Hydra, and a screen whose part of the library
is missing says so instead of failing. Tests and the README screenshot swap in
:class:`mazedsl_tui.demo.DemoLibrary`, which answers the config questions from
canned data.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:  # pragma: no cover
    from mazedsl.run import RunInfo

    from mazedsl_tui.rollout import RolloutSource

EXPERIMENT_SUFFIXES = (".py", ".yaml", ".yml")


def experiment_files(directory: str | os.PathLike[str]) -> list[Path]:
    """The experiment files under ``directory`` (recursively), sorted; private files skipped."""
    root = Path(directory)
    if not root.is_dir():
        return []
    found = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(part.startswith(("_", ".")) for part in rel.parts):
            continue
        if path.is_file() and path.suffix in EXPERIMENT_SUFFIXES:
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(root).parts)


def experiment_ref(path: str | os.PathLike[str], name: str | None = None) -> Path:
    """``file.py:name`` (one of several experiments in a file) as a path; the file itself when
    ``name`` is None. ``load_experiment`` and ``mazedsl train`` take either."""
    path = Path(path)
    return path if name is None else path.with_name(f"{path.name}:{name}")


def ref_parts(ref: str | os.PathLike[str]) -> tuple[Path, str | None]:
    """(file, experiment name or None) of an experiment reference."""
    ref = Path(ref)
    head, sep, tail = ref.name.rpartition(":")
    if sep and head.endswith(".py") and tail.isidentifier():
        return ref.with_name(head), tail
    return ref, None


def ref_stem(ref: str | os.PathLike[str]) -> str:
    """A short label: the file's stem, with ``:name`` for one experiment of several."""
    file, name = ref_parts(ref)
    return file.stem if name is None else f"{file.stem}:{name}"


def run_experiment_ref(raw: dict[str, Any], experiment: str, files: list[Path]) -> Path | None:
    """Which of ``files`` (or ``file.py:name`` of one) a run was trained from, or None.

    ``raw``: its run.json. The experiment file its ``command`` names after ``train``
    (relative to its ``cwd``), else the one listed file of that name (the project moved), else
    the one listed file whose stem is the run's ``experiment`` name.
    """
    command = raw.get("command")
    args = [str(a) for a in command] if isinstance(command, list) else []
    named = next((a for a in args[args.index("train") + 1:] if "=" not in a and not a.startswith("-")
                  and ref_parts(a)[0].suffix in EXPERIMENT_SUFFIXES), None) if "train" in args else None
    if named is not None:
        file, name = ref_parts(named)
        cwd = raw.get("cwd")
        target = (Path(cwd) / file if isinstance(cwd, str) and not file.is_absolute() else file).resolve()
        found = [p for p in files if p.resolve() == target] or [p for p in files if p.name == file.name]
        if len(found) == 1:
            return experiment_ref(found[0], name)
    found = [p for p in files if p.stem == experiment]
    return found[0] if len(found) == 1 else None


def describe_error(exc: BaseException) -> str:
    """One line for an error: the package's own message, else ``Type: message``."""
    try:
        from mazedsl.errors import MazeError
    except ImportError:  # pragma: no cover
        MazeError = ()  # type: ignore[assignment]
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, MazeError):  # type: ignore[arg-type]
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Library:
    """Lazy adapter over ``mazedsl.run``, ``mazedsl.config``, ``mazedsl.context`` and the CLI."""

    # -- runs ---------------------------------------------------------------------------
    def list_runs(self, root: str | os.PathLike[str]) -> list["RunInfo"]:
        """Runs under ``root``; a sweep folder is one row (``is_sweep``) holding its jobs."""
        from mazedsl.run import list_entries

        return list_entries(root)

    def compare(self, paths: list[Path], root: str | os.PathLike[str]) -> Any:
        """A :class:`mazedsl.compare.Comparison` of run directories (labels relative to ``root``)."""
        from mazedsl.compare import _label, compare_paths

        return compare_paths([(Path(p), _label(Path(p), Path(root))) for p in paths])

    def compare_sweep(self, sweep_dir: str | os.PathLike[str], root: str | os.PathLike[str]) -> Any:
        """A Comparison of every job of a sweep folder (failed jobs without a run directory too)."""
        from mazedsl.compare import _label, compare_paths, sweep_jobs

        jobs = sweep_jobs(sweep_dir)
        return compare_paths([(j.run_dir, _label(j.run_dir, Path(root))) for j in jobs if j.run_dir],
                             [j for j in jobs if j.run_dir is None], sweep_dir=Path(sweep_dir),
                             label_root=Path(root))

    def read_run_info(self, path: str | os.PathLike[str]) -> "RunInfo":
        """A run's RunInfo; one whose run.json is there but damaged (bad JSON, not an object)
        has the status ``damaged`` (``mazedsl train --resume`` rebuilds run.json)."""
        from mazedsl.errors import RunDirError
        from mazedsl.run import read_run_info
        from mazedsl.run.listing import damaged_run_info

        try:
            return read_run_info(path)
        except RunDirError as exc:
            if not (Path(path) / "run.json").is_file() or not (Path(path) / "config.yaml").is_file():
                raise
            return damaged_run_info(path, str(exc))

    def read_metrics(self, path: str | os.PathLike[str], offset: int = 0) -> tuple[list[dict], int]:
        """New records of a metrics file from ``offset``; none when it cannot be read (a folder
        in its place)."""
        from mazedsl.errors import RunDirError
        from mazedsl.run import read_metrics

        try:
            return read_metrics(path, offset)
        except RunDirError:
            return [], offset

    def training_holder(self, run_dir: str | os.PathLike[str]) -> str | None:
        """``pid N on host H since T`` of the process training ``run_dir`` now (its lock), or None."""
        from mazedsl.run.lock import describe_holder, is_training, lock_holder

        return describe_holder(lock_holder(run_dir)) if is_training(run_dir) else None

    # -- config -------------------------------------------------------------------------
    def _config(self) -> Any:
        import mazedsl.config as config

        if not hasattr(config, "load_experiment"):
            raise ImportError("mazedsl.config has no load_experiment yet")
        return config

    def config_problem(self) -> str | None:
        """None when the config API is usable, else why not (shown instead of content)."""
        try:
            self._config()
        except Exception as exc:  # noqa: BLE001 - any import failure is reported the same way
            return f"The config API is not available: {describe_error(exc)}"
        return None

    def load_experiment(self, path: str | os.PathLike[str]) -> Any:
        return self._config().load_experiment(path)

    def experiment_names(self, path: str | os.PathLike[str]) -> list[str]:
        """The names of the Experiments a Python experiment file defines (runs the file)."""
        from mazedsl.config.experiment_files import experiment_names

        return experiment_names(path)

    def experiment_name(self, experiment: Any, path: str | os.PathLike[str] | None = None) -> str:
        name = getattr(experiment, "name", None)
        if isinstance(name, str) and name:
            return name
        return ref_parts(path)[0].stem if path is not None else "experiment"

    def to_yaml(self, experiment: Any) -> str:
        """The compiled YAML as ``mazedsl show`` prints it: fields its algorithm ignores (a
        critic, for an algorithm without one) are kept, with an ``# unused by ...`` comment."""
        return self._config().shown_yaml(experiment)

    def provenance(self, experiment: Any) -> dict[str, str]:
        return dict(self._config().provenance(experiment))

    def explain(self, experiment: Any, path: str) -> str:
        return self._config().explain(experiment, path)

    def diff(self, a: Any, b: Any) -> list[tuple[str, Any, Any]]:
        return [tuple(row) for row in self._config().diff(a, b)]  # type: ignore[misc]

    def apply_overrides(self, experiment: Any, overrides: list[str]) -> Any:
        return self._config().apply_overrides(experiment, list(overrides))

    def preflight(self, experiment: Any) -> None:
        """Refuse ``experiment`` as ``mazedsl train`` would before it writes a run directory:
        make its env once and ask the algorithm whether it takes the env's spaces (SAC on a
        discrete action space, BC without recorded episodes, ...). Raises a ``MazeError``."""
        from mazedsl.cli.preflight import check_runnable

        check_runnable(experiment)

    def plays_episodes(self, experiment: Any) -> bool:
        """Whether training ``experiment`` plays env episodes (its learner's ``plays_episodes``):
        False for BC, whose ``total_steps`` counts training samples, not env steps. Imports the
        learner (torch, seconds the first time): call it from a worker."""
        from mazedsl.rl.registry import entry_for

        return getattr(entry_for(experiment.algorithm).learner_class(), "plays_episodes", True) is not False

    def conf_dir(self) -> Path | None:
        spec = importlib.util.find_spec("mazedsl.conf")
        if spec is None or not spec.submodule_search_locations:
            return None
        return Path(list(spec.submodule_search_locations)[0])

    def groups(self) -> list[str]:
        try:
            return list(self._config().GROUPS)
        except Exception:  # noqa: BLE001 - fall back to the folders of conf/
            conf = self.conf_dir()
            if conf is None:
                return []
            return sorted(p.name for p in conf.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))

    def list_modules(self, group: str) -> list[str]:
        try:
            return list(self._config().list_modules(group))
        except Exception:  # noqa: BLE001 - fall back to the YAML files of the group folder
            conf = self.conf_dir()
            folder = conf / group if conf else None
            if folder is None or not folder.is_dir():
                return []
            return sorted(p.stem for p in folder.glob("*.yaml"))

    def module_source(self, group: str, name: str) -> str:
        """The YAML text of config module ``group/name``."""
        conf = self.conf_dir()
        if conf is not None:
            path = conf / group / f"{name}.yaml"
            if path.is_file():
                return path.read_text(encoding="utf-8")
        return f"# {group}/{name}: no YAML file found under conf/{group}/\n"

    # -- engine and CLI -------------------------------------------------------------------
    def train_command(self, experiment_file: str | os.PathLike[str], overrides: Iterable[str],
                      run_dir: str | os.PathLike[str]) -> list[str]:
        return [sys.executable, "-m", "mazedsl", "train", str(experiment_file), *overrides,
                "--run-dir", str(run_dir), "--quiet"]

    def resume_problem(self, run_dir: str | os.PathLike[str], status: str, steps: int) -> str | None:
        """Why ``run_dir`` has nothing to resume from (no ``checkpoints/last.pt``, nor an RLlib
        run's ``checkpoints/last/``), or None."""
        from mazedsl.run.directory import no_checkpoint_reason
        from mazedsl.run.listing import checkpoints_held

        held = checkpoints_held(run_dir)
        if "last" in held:
            return None
        if held:
            return ("no last checkpoint to resume from (checkpoints/ holds only the best one: "
                    "evaluate or roll it out, or train the experiment anew)")
        return no_checkpoint_reason(status, steps)

    def resume_command(self, run_dir: str | os.PathLike[str], overrides: Iterable[str] = ()) -> list[str]:
        """``mazedsl train --resume RUN`` (``overrides``: at most a larger ``total_steps=N``)."""
        return [sys.executable, "-m", "mazedsl", "train", "--resume", str(run_dir), *overrides, "--quiet"]

    def sweep_config(self, path: str | os.PathLike[str]) -> Any:
        """The Hydra sweep config in ``path`` (:class:`mazedsl_tui.sweeps.SweepConfig`), or None."""
        from mazedsl_tui.sweeps import read_sweep_config

        return read_sweep_config(path)

    def sweep_problem(self, config: Any, overrides: Iterable[str]) -> str | None:
        """What ``mazedsl-run`` refuses before running the sweep (its one line), or None: the
        config, the overrides and the values every trial starts from."""
        from mazedsl.cli.hydra_app import preflight
        from mazedsl_tui.sweeps import sweep_arguments

        try:
            preflight(sweep_arguments(config, list(overrides)))
        except Exception as exc:  # noqa: BLE001 - every refusal is shown inline
            return describe_error(exc)
        return None

    def sweep_command(self, config: Any, overrides: Iterable[str], sweep_dir: str | os.PathLike[str]) -> list[str]:
        """``mazedsl-run --config-dir DIR -cn NAME -m ...`` writing its jobs into ``sweep_dir``."""
        from mazedsl_tui.sweeps import sweep_process_command

        return sweep_process_command(config, list(overrides), Path(sweep_dir))

    def engine_problem(self) -> str | None:
        if importlib.util.find_spec("mazedsl.context") is None:
            return "The engine (mazedsl.context) is not available yet."
        return None

    def evaluate(self, run_dir: str | os.PathLike[str], episodes: int = 10) -> dict[str, Any]:
        """Evaluate the best checkpoint (writes eval.json) and return the summary as a dict."""
        from mazedsl.context import RunContext

        result = RunContext.load(run_dir, checkpoint="best", silent=True).evaluate(n_episodes=episodes)
        keys = ("mean_return", "std_return", "min_return", "max_return", "mean_length", "returns",
                "lengths")
        return {key: getattr(result, key, None) for key in keys}

    def rollout_source(self, run_dir: str | os.PathLike[str], checkpoint: str = "best") -> "RolloutSource":
        from mazedsl_tui.rollout import RolloutSource

        return RolloutSource.from_run(run_dir, checkpoint=checkpoint)
