"""One run directory: creating it, its files, its status, and its checkpoints.

Layout (docs/architecture.md): config.yaml, overrides.yaml, run.json, metrics.jsonl,
spaces.json, eval.json, checkpoints/{last,best}.pt, rollouts/, train.log.
"""

from __future__ import annotations

import io
import json
import logging
import os
import platform
import secrets
import subprocess
import sys
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

from mazedsl.errors import CheckpointError, RunDirError
from mazedsl.run.files import (MetricsWriter, atomic_write_bytes, atomic_write_json, atomic_write_text,
                               rewind_metrics_file, write_problem)
from mazedsl.run.lock import CRASHED, RunLock, trainer_alive

CHECKPOINTS = ("last", "best")
#: What shows that a folder holds a run (a new run is never made in it).
RUN_MARKERS = ("run.json", "config.yaml")


def new_run_path(output_dir: str | os.PathLike[str], experiment: str) -> Path:
    """``<output_dir>/<experiment>/<YYYYmmdd-HHMMSS>_<6 hex>``."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(output_dir) / experiment / f"{stamp}_{secrets.token_hex(3)}"


def versions() -> dict[str, str]:
    """Versions of Python and the libraries a run depends on."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("mazedsl", "torch", "gymnasium", "numpy", "hydra-core", "omegaconf"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def read_run_config(run_dir: str | os.PathLike[str]) -> Any:
    """A run's ``config.yaml`` as an OmegaConf tree, checked whole: a run's config is written
    complete, so one missing a top-level field of the Experiment declaration (empty, or cut
    short) is refused rather than filled with defaults. :class:`RunDirError` names the file."""
    import attrs
    from omegaconf import DictConfig, OmegaConf

    from mazedsl.spec import Experiment

    config = Path(run_dir) / "config.yaml"
    try:
        cfg = OmegaConf.load(config)
    except FileNotFoundError:
        raise RunDirError(f"{run_dir}: not a run directory (no config.yaml)") from None
    except OSError as exc:
        raise RunDirError(f"{config}: unreadable ({write_problem(config, exc)})") from None
    except Exception as exc:  # noqa: BLE001 - malformed YAML of any kind
        raise RunDirError(f"{config}: unreadable ({str(exc).splitlines()[0]})") from None
    if not isinstance(cfg, DictConfig):
        raise RunDirError(f"{config}: not a config (a YAML list, not a mapping); the run cannot "
                          "be loaded")
    missing = [field.name for field in attrs.fields(Experiment) if field.name not in cfg]
    if missing and len(missing) == len(attrs.fields(Experiment)):
        raise RunDirError(f"{config}: {'empty' if not cfg else 'not an experiment config'} "
                          "(no field of an experiment); the run cannot be loaded")
    if missing:
        shown = ", ".join(missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
        raise RunDirError(f"{config}: incomplete (missing {shown}); the run cannot be loaded")
    return cfg


def holds_run(path: str | os.PathLike[str]) -> bool:
    """Whether the folder ``path`` holds a run: its run.json, config.yaml or a checkpoint."""
    path = Path(path)
    if any((path / name).exists() for name in RUN_MARKERS):
        return True
    try:
        return any((path / "checkpoints").iterdir())
    except OSError:
        return False


def check_new_run_dir(path: str | os.PathLike[str]) -> None:
    """Refuse to make a new run in a folder that holds one (:class:`RunDirError`, one line
    naming that run and how to continue it instead); a missing or empty folder is fine."""
    path = Path(path)
    if not holds_run(path):
        return
    from mazedsl.run.listing import damaged_run_info, read_run_info

    try:
        info = read_run_info(path)
    except RunDirError as exc:
        info = damaged_run_info(path, str(exc))
    raise RunDirError(f"{path} already holds a run ({info.experiment}, {info.status}); use "
                      f"--resume {path} to continue it (RunContext.load(RUN).train()), or "
                      "another --run-dir")


def git_state(cwd: str | os.PathLike[str] | None = None) -> dict[str, Any] | None:
    """The git commit (and whether the tree is dirty) of ``cwd``, if it is a git checkout."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                                text=True, timeout=5)
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=5)
        return {"commit": commit.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return None


class RunDirectory:
    """Reads and writes the files of one run directory; every write is atomic."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._metrics: MetricsWriter | None = None
        self.logger: logging.Logger | None = None
        self._lock = RunLock(self.path)

    # -- creating ------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | os.PathLike[str]) -> "RunDirectory":
        """A new run directory at ``path`` (made, and checked writable); a folder that holds
        a run already is refused (:func:`check_new_run_dir`)."""
        path = Path(path)
        check_new_run_dir(path)
        try:
            (path / "checkpoints").mkdir(parents=True, exist_ok=True)
            probe = path / ".write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise RunDirError(f"{path}: cannot create the run directory ({exc.strerror or exc})") from None
        return cls(path)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> "RunDirectory":
        """An existing run directory; its config.yaml must be whole (:func:`read_run_config`)."""
        path = Path(path)
        if not path.is_dir():
            raise RunDirError(f"{path}: run directory does not exist")
        if not (path / "config.yaml").is_file():
            raise RunDirError(f"{path}: not a run directory (needs run.json and config.yaml)")
        read_run_config(path)
        return cls(path)  # a missing or damaged run.json is rebuilt on resume (repair_info)

    # -- the training lock ---------------------------------------------------------
    def lock(self) -> None:
        """Take the run's training lock (RUN/.lock) until :meth:`close`: refused in one line
        naming the pid and host of another process training this run (see run/lock.py)."""
        self._lock.acquire()

    @property
    def locked(self) -> bool:
        """Whether this object holds the run's training lock."""
        return self._lock.held

    # -- files ---------------------------------------------------------------------
    def write_text(self, name: str, text: str) -> None:
        atomic_write_text(self.path / name, text)

    def write_json(self, name: str, obj: Any) -> None:
        atomic_write_json(self.path / name, obj)

    def read_json(self, name: str) -> Any:
        """A JSON file of the run; run.json, eval.json and spaces.json are checked to have
        their shape (:class:`RunDirError` naming the file when not)."""
        path = self.path / name
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RunDirError(f"{self.path}: no {name}") from None
        except OSError as exc:
            raise RunDirError(f"{path}: unreadable ({write_problem(path, exc)})") from None
        except ValueError as exc:  # bad JSON, or bytes that are no UTF-8
            raise RunDirError(f"{path}: unreadable ({exc})") from None
        problem = json_shape_problem(name, data)
        if problem:
            raise RunDirError(f"{path}: damaged ({problem})")
        return data

    def run_info(self) -> dict[str, Any]:
        """run.json's content; {} when it is missing or damaged (a resume rebuilds it)."""
        try:
            return self.read_json("run.json")
        except RunDirError:
            return {}

    def rollouts_path(self) -> Path:
        """``RUN/rollouts`` (recorded episodes), checked to be a folder where it exists."""
        out = self.path / "rollouts"
        if out.exists() and not out.is_dir():
            raise RunDirError(f"{out}: a file is where the run keeps its recorded episodes (a "
                              "folder); move it away")
        return out

    def update_info(self, **fields: Any) -> dict[str, Any]:
        """Merge ``fields`` into run.json (atomically) and return the result."""
        info = self.run_info()
        info.update(fields)
        self.write_json("run.json", info)
        return info

    def start_info(self, experiment: Any, seeds: dict[str, int], command: list[str] | None) -> None:
        self.update_info(status="created", experiment=experiment.name,
                         algorithm=type(experiment.algorithm).__name__, env=experiment.env.label,
                         total_steps=experiment.total_steps, steps=0, best_eval=None,
                         created=datetime.now().isoformat(timespec="seconds"), seeds=seeds,
                         versions=versions(), git=git_state(), command=command or sys.argv,
                         cwd=os.getcwd())

    #: run.json keys written at creation; a run.json without them is rebuilt by repair_info.
    INFO_KEYS = ("status", "experiment", "algorithm", "env", "total_steps", "steps", "created",
                 "seeds", "versions", "git", "command")

    def repair_info(self, experiment: Any = None) -> bool:
        """Rebuild a missing, unreadable or partial run.json from config.yaml (``experiment``
        if given) and the folder: what it still holds is kept. Returns True if it was rebuilt."""
        try:
            info = self.read_json("run.json")
        except RunDirError:
            info = None
        if isinstance(info, dict) and all(key in info for key in self.INFO_KEYS):
            return False
        if experiment is None:
            from mazedsl.config import from_config

            experiment = from_config(read_run_config(self.path), source=str(self.path / "config.yaml"))
        from mazedsl.rl.registry import entry_for
        from mazedsl.rl.trainer import Seeds

        seeds = Seeds.derive(experiment.seed)
        try:
            created = datetime.strptime(self.path.name.split("_")[0], "%Y%m%d-%H%M%S")
        except ValueError:
            created = datetime.fromtimestamp((self.path / "config.yaml").stat().st_mtime)
        rebuilt = {"status": "interrupted", "experiment": experiment.name,
                   "algorithm": type(experiment.algorithm).__name__, "env": experiment.env.label,
                   "total_steps": experiment.total_steps, "steps": 0, "best_eval": None,
                   "train_episodes": entry_for(experiment.algorithm).learner_class().plays_episodes,
                   "created": created.isoformat(timespec="seconds"),
                   "seeds": {"master": seeds.master, "env": seeds.env, "eval": seeds.eval,
                             "torch": seeds.torch},
                   "versions": versions(), "git": git_state(), "command": None,
                   "cwd": os.getcwd(), "repaired": datetime.now().isoformat(timespec="seconds")}
        self.write_json("run.json", {**rebuilt, **(info if isinstance(info, dict) else {})})
        return True

    # -- metrics and log -----------------------------------------------------------
    def rewind_metrics(self, counters: dict[str, Any]) -> int:
        """Cut metrics.jsonl back to the checkpoint a resume starts from (``counters``: its
        ``state["counters"]``: ``steps``, and ``last_eval_step`` where the trainer keeps it):
        what the resumed training writes again goes (see
        :func:`mazedsl.run.files.rewind_metrics_file`), so its metrics are an uninterrupted
        run's. Takes the run's training lock first. Returns how many lines went."""
        self.lock()
        if self._metrics is not None:  # the file is replaced: reopen it afterwards
            self._metrics.close()
            self._metrics = None
        step = int(counters["steps"])
        last_eval = counters.get("last_eval_step", step)
        return rewind_metrics_file(self.path / "metrics.jsonl", step, keep_eval_at_step=last_eval == step)

    @property
    def metrics(self) -> MetricsWriter:
        if self._metrics is None:
            self._metrics = MetricsWriter(self.path / "metrics.jsonl")
        return self._metrics

    def open_logger(self) -> logging.Logger:
        """A logger of this run alone, writing train.log (no global logging state is touched)."""
        if self.logger is None:
            logger = logging.getLogger(f"mazedsl.run.{id(self)}.{self.path.name}")
            logger.propagate = False
            logger.setLevel(logging.INFO)
            handler = logging.FileHandler(self.path / "train.log", encoding="utf-8")
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            logger.addHandler(handler)
            self.logger = logger
        return self.logger

    def close(self) -> None:
        """Close the metrics file and the log, and let go of the training lock."""
        if self._metrics is not None:
            self._metrics.close()
            self._metrics = None
        if self.logger is not None:
            for handler in list(self.logger.handlers):
                handler.close()
                self.logger.removeHandler(handler)
            self.logger = None
        self._lock.release()

    # -- checkpoints ---------------------------------------------------------------
    def checkpoint_path(self, kind: str) -> Path:
        if kind not in CHECKPOINTS:
            raise CheckpointError(f"checkpoint must be one of {', '.join(CHECKPOINTS)}, got {kind!r}")
        return self.path / "checkpoints" / f"{kind}.pt"

    def save_checkpoint(self, kind: str, state: dict[str, Any]) -> None:
        """Write a checkpoint atomically. A learner's bulky state under
        ``state["learner"]["beside"]`` (name -> tensors, e.g. DQN's replay buffer) is written
        beside ``last.pt`` as ``checkpoints/<name>.pt`` and left out of ``best.pt``."""
        import torch

        state = self._split_beside(kind, state)
        buffer = io.BytesIO()
        torch.save(state, buffer)
        atomic_write_bytes(self.checkpoint_path(kind), buffer.getvalue())

    def _split_beside(self, kind: str, state: dict[str, Any]) -> dict[str, Any]:
        import torch

        learner = state.get("learner")
        beside = learner.get("beside") if isinstance(learner, dict) else None
        if not beside:
            return state
        learner = {k: v for k, v in learner.items() if k != "beside"}
        if kind == "last":
            for name, part in beside.items():
                if not str(name).isidentifier() or name in CHECKPOINTS:
                    raise CheckpointError(f"checkpoint part name {name!r} is not allowed")
                buffer = io.BytesIO()
                torch.save(part, buffer)
                atomic_write_bytes(self.path / "checkpoints" / f"{name}.pt", buffer.getvalue())
            learner["beside_files"] = sorted(beside)
        return {**state, "learner": learner}

    def load_checkpoint(self, kind: str, map_location: Any = "cpu") -> dict[str, Any]:
        """A checkpoint, loaded with ``weights_only=True`` (no arbitrary pickles) onto
        ``map_location`` (any device)."""
        import torch

        path = self.checkpoint_path(kind)
        if not path.is_file():
            other = [k for k in CHECKPOINTS if k != kind and self.checkpoint_path(k).is_file()]
            if not other:
                status = self.run_info().get("status")
                if status == "running" and (self.locked or trainer_alive(self.path) is False):
                    status = CRASHED  # its trainer is gone (we hold its lock: we resume it)
                raise CheckpointError(no_checkpoint_message(self.path, status,
                                                            self.run_info().get("steps")))
            raise CheckpointError(f"{path}: no '{kind}' checkpoint in this run; '{other[0]}' exists")
        try:
            with warnings.catch_warnings():  # torch's pickle-protocol notes: the error says it
                warnings.simplefilter("ignore")
                state = torch.load(path, map_location=map_location, weights_only=True)
        except Exception as exc:  # noqa: BLE001 - truncated, corrupt, or not a tensors-only file
            raise CheckpointError(f"{path}: cannot load checkpoint: {checkpoint_problem(path, exc)}"
                                  ) from None
        if not isinstance(state, dict) or "policy" not in state:
            raise CheckpointError(f"{path}: cannot load checkpoint: not a mazedsl checkpoint "
                                  "(a torch file without the policy's weights)")
        learner = state.get("learner")
        names = learner.get("beside_files") if isinstance(learner, dict) else None
        if names:  # the parts written beside last.pt (a missing one: the learner copes)
            learner["beside"] = {}
            for name in names:
                part = self.path / "checkpoints" / f"{name}.pt"
                if not part.is_file():
                    continue
                try:
                    learner["beside"][name] = torch.load(part, map_location=map_location,
                                                         weights_only=True)
                except Exception as exc:  # noqa: BLE001 - truncated or corrupt
                    raise CheckpointError(f"{part}: cannot load: {checkpoint_problem(part, exc)}; "
                                          "delete it to resume without it (then not "
                                          "exactly)") from None
        return state


def no_checkpoint_message(path: Path, status: Any, steps: Any = 0) -> str:
    """Why the run at ``path``, without any checkpoint, has nothing to load or resume."""
    return f"{path}: {no_checkpoint_reason(status, steps)}"


def no_checkpoint_reason(status: Any, steps: Any = 0) -> str:
    """Why a run without any checkpoint has nothing to load or resume, with what to do."""
    if status in ("running", "created"):
        return f"no checkpoint in this run yet (status {status}): nothing to load or resume from"
    if isinstance(steps, int) and steps > 0 and status == "finished":  # it wrote last.pt at its end
        return (f"no checkpoint in this run, though it finished {steps:,} steps: its "
                "checkpoints/ folder was emptied or removed; nothing to load or resume from")
    return ("no checkpoint in this run (its training stopped before writing the first "
            "one): nothing to load or resume from; train the experiment anew (`mazedsl runs "
            "--prune` removes this run)")


def json_shape_problem(name: str, data: Any) -> str | None:
    """What is wrong with the content of a run's JSON file ``name`` (run.json and eval.json:
    an object; spaces.json: an observation and an action space), or None."""
    if name in ("run.json", "eval.json", "spaces.json") and not isinstance(data, dict):
        return f"a JSON {type(data).__name__}, not an object"
    if name != "spaces.json":
        return None
    from mazedsl.rl.spaces import space_from_json

    for key in ("observation", "action"):
        if key not in data:
            return f"no {key!r} space"
        try:
            space_from_json(data[key])
        except Exception as exc:  # noqa: BLE001 - any malformed space description
            detail = str(exc).splitlines()[0] if str(exc) else ""
            return f"its {key!r} space is not a space description ({type(exc).__name__}" + (
                f": {detail})" if detail else ")")
    return None


def checkpoint_problem(path: Path, exc: BaseException) -> str:
    """What is wrong with a checkpoint file torch could not load, in a few words."""
    import zipfile

    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError as err:
        return f"unreadable ({err.strerror or err})"
    if size == 0:
        return "the file is empty (truncated)"
    if head != b"PK\x03\x04":  # torch.save writes a zip archive
        return "not a checkpoint (not a file written by torch.save)"
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return f"the file is truncated or damaged ({size} bytes)"
    if damaged:
        return f"the file is damaged (entry {damaged})"
    if "weights only" in str(exc).lower() or "weights_only" in str(exc):
        return ("it holds Python objects, not only tensors; refused (checkpoints load with "
                "weights_only=True)")
    return f"torch cannot read it ({type(exc).__name__})"
