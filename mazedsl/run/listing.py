"""Finding runs: listing run directories and resolving ``latest`` / ``EXPERIMENT:latest``."""

from __future__ import annotations

import json
import math
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from mazedsl.errors import RunDirError
from mazedsl.run.directory import CHECKPOINTS
from mazedsl.run.lock import CRASHED, is_training, trainer_alive

DEFAULT_ROOT = "outputs"


@attrs.define(frozen=True)
class RunInfo:
    """One run directory as the run table shows it (from its ``run.json``)."""

    path: Path
    experiment: str
    algorithm: str
    env: str
    status: str
    steps: int
    best_eval: float | None
    started: datetime | None
    raw: dict[str, Any] = attrs.field(eq=False, repr=False)

    @property
    def age_seconds(self) -> float | None:
        return None if self.started is None else (datetime.now() - self.started).total_seconds()

    @property
    def is_sweep(self) -> bool:
        return False

    @property
    def trained(self) -> tuple[float, int] | None:
        """(seconds it trained, sessions) once it ended: run.json's ``train_seconds``, the wall
        time of all its training sessions (not the time it sat between them), and ``sessions``;
        for runs from before those keys ``ended - started`` and one session. None while it
        trains or when its times are unknown."""
        raw = self.raw
        if raw.get("ended") is None:
            return None
        seconds, sessions = raw.get("train_seconds"), raw.get("sessions")
        if isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds >= 0:
            return float(seconds), sessions if isinstance(sessions, int) and sessions > 0 else 1
        try:
            ended = datetime.fromisoformat(raw["ended"])
        except (TypeError, ValueError):
            return None
        if self.started is None:
            return None
        return max(0.0, (ended - self.started).total_seconds()), 1

    @property
    def plays_episodes(self) -> bool:
        """Whether its training plays env episodes (run.json's ``train_episodes``, which
        the learner sets; True for runs written before that key)."""
        return self.raw.get("train_episodes") is not False


DAMAGED = "damaged"


def is_run_dir(path: str | os.PathLike[str]) -> bool:
    """A run directory has a run.json, or at least its config.yaml (a damaged run)."""
    path = Path(path)
    return (path / "run.json").is_file() or (path / "config.yaml").is_file() and (
        path / "checkpoints").is_dir()


def read_run_info(path: str | os.PathLike[str]) -> RunInfo:
    """The :class:`RunInfo` of one run directory. A run whose run.json says ``running`` while
    no process holds its training lock (its trainer died: ``kill -9``, a crash, a reboot) has
    the status :data:`~mazedsl.run.lock.CRASHED` (run.json is left as it is)."""
    path = Path(path)
    try:
        raw = json.loads((path / "run.json").read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError(f"a JSON {type(raw).__name__}, not an object")
    except FileNotFoundError:
        raise RunDirError(f"{path}: not a run directory (no run.json)") from None
    except (OSError, ValueError) as exc:
        raise RunDirError(f"{path}/run.json: unreadable ({exc})") from None
    started = raw.get("started") or raw.get("created")
    try:
        started_at = datetime.fromisoformat(started) if isinstance(started, str) else None
    except ValueError:
        started_at = None
    best = raw.get("best_eval")
    status = str(raw.get("status", "unknown"))
    if status == "running" and trainer_alive(path) is False:
        status = CRASHED
    try:
        return RunInfo(path=path, experiment=str(raw.get("experiment", path.parent.name)),
                       algorithm=str(raw.get("algorithm", "?")), env=str(raw.get("env", "?")),
                       status=status, steps=int(raw.get("steps") or 0),
                       best_eval=None if best is None else float(best), started=started_at, raw=raw)
    except (TypeError, ValueError) as exc:
        raise RunDirError(f"{path}/run.json: unreadable (bad steps or best_eval: {exc})") from None


def damaged_run_info(path: str | os.PathLike[str], reason: str) -> RunInfo:
    """A run whose run.json is missing or unreadable, as far as its config.yaml and its
    folder name (``<stamp>_<id>``) tell."""
    path = Path(path)
    cfg: dict[str, Any] = {}
    try:
        import yaml

        loaded = yaml.safe_load((path / "config.yaml").read_text(encoding="utf-8"))
        cfg = loaded if isinstance(loaded, dict) else {}
    except Exception:  # noqa: BLE001 - config.yaml may be damaged too
        pass
    algorithm = cfg.get("algorithm") if isinstance(cfg.get("algorithm"), dict) else {}
    env = cfg.get("env") if isinstance(cfg.get("env"), dict) else {}
    try:
        started: datetime | None = datetime.strptime(path.name.split("_")[0], "%Y%m%d-%H%M%S")
    except ValueError:
        started = None
    return RunInfo(path=path, experiment=str(cfg.get("name") or path.parent.name),
                   algorithm=str(algorithm.get("_target_", "?")).rsplit(".", 1)[-1],
                   env=str(env.get("name", "?")), status=DAMAGED, steps=0, best_eval=None,
                   started=started, raw={"status": DAMAGED, "error": reason})


def _candidates(root: Path) -> list[Path]:
    """Folders under ``root`` holding a run.json or a run's config.yaml (not Hydra's copy)."""
    found = {p.parent for p in root.rglob("run.json")}
    found |= {p.parent for p in root.rglob("config.yaml")
              if ".hydra" not in p.parts and (p.parent / "checkpoints").is_dir()}
    return sorted(found)


def list_runs(root: str | os.PathLike[str] = DEFAULT_ROOT, experiment: str | None = None) -> list[RunInfo]:
    """Runs under ``root`` (``root/<experiment>/<run>/``, sweeps nested deeper), newest first.
    A run whose run.json is missing or unreadable is listed with status ``damaged``."""
    root = Path(root)
    if not root.is_dir():
        return []
    runs = []
    for path in _candidates(root):
        try:
            info = read_run_info(path)
        except RunDirError as exc:
            info = damaged_run_info(path, str(exc))
        if experiment is None or info.experiment == experiment:
            runs.append(info)
    runs.sort(key=lambda r: (r.started or datetime.min, str(r.path)), reverse=True)
    return runs


@attrs.define(frozen=True)
class SweepInfo(RunInfo):
    """A sweep folder as one row: its jobs (``jobs``), their combined status and best eval."""

    jobs: tuple[RunInfo, ...] = attrs.field(default=(), eq=False, repr=False)
    n_failed: int = 0

    @property
    def is_sweep(self) -> bool:
        return True


def _sweep_row(folder: Path, jobs: list[RunInfo]) -> SweepInfo:
    from mazedsl.compare import read_sweep_json

    def common(attr: str) -> str:
        values = {getattr(j, attr) for j in jobs}
        return values.pop() if len(values) == 1 else "mixed"

    statuses = [j.status for j in jobs]
    n_failed = sum(s in ("failed", "crashed") for s in statuses)
    if any(s in ("running", "created") for s in statuses):
        status = "running"
    elif n_failed:
        status = "failed"
    elif all(s == "finished" for s in statuses):
        status = "finished"
    else:
        status = "interrupted" if "interrupted" in statuses else statuses[0]
    bests = [j.best_eval for j in jobs if j.best_eval is not None]
    starts = [j.started for j in jobs if j.started is not None]
    sweep = read_sweep_json(folder)
    raw = {"kind": "sweep", "sweep": sweep, "jobs": [j.raw for j in jobs]}
    experiment = common("experiment")
    return SweepInfo(path=folder, experiment=experiment, algorithm=common("algorithm"), env=common("env"),
                     status=status, steps=sum(j.steps for j in jobs), best_eval=max(bests) if bests else None,
                     started=min(starts) if starts else None, raw=raw,
                     jobs=tuple(sorted(jobs, key=lambda j: str(j.path))), n_failed=n_failed)


def list_entries(root: str | os.PathLike[str] = DEFAULT_ROOT, experiment: str | None = None) -> list[RunInfo]:
    """Like :func:`list_runs`, but every sweep folder is one :class:`SweepInfo` row holding its jobs."""
    from mazedsl.compare import is_sweep_job

    runs = list_runs(root, experiment)
    sweeps: dict[Path, list[RunInfo]] = {}
    out: list[RunInfo] = []
    for info in runs:
        if is_sweep_job(info.path):
            sweeps.setdefault(info.path.parent, []).append(info)
        else:
            out.append(info)
    out.extend(_sweep_row(folder, jobs) for folder, jobs in sweeps.items())
    out.sort(key=lambda r: (r.started or datetime.min, str(r.path)), reverse=True)
    return out


def resolve_run(ref: str | os.PathLike[str], root: str | os.PathLike[str] = DEFAULT_ROOT,
                started: bool = True) -> Path:
    """A run directory from a path, a path under ``root``, ``latest`` or ``EXPERIMENT:latest``.
    ``started``: ``latest`` is the newest run that has started training (not status
    ``created``), where one exists: a created run holds nothing yet (an evaluation of an
    untrained policy makes one; so does the run being built)."""
    text = str(ref)
    if text == "latest" or text.endswith(":latest"):
        experiment = None if text == "latest" else text[: -len(":latest")]
        runs = list_runs(root, experiment)
        if started:
            runs = [r for r in runs if r.status != "created"] or runs
        if not runs:
            where = f"experiment '{experiment}'" if experiment else "any experiment"
            raise RunDirError(f"{text}: no run of {where} under '{root}'")
        return runs[0].path
    path = Path(text)
    if not path.exists() and (Path(root) / path).exists():
        path = Path(root) / path  # a name as `mazedsl runs` shows it
    if not path.exists():
        raise RunDirError(f"{path}: run directory does not exist")
    if not is_run_dir(path):
        raise RunDirError(f"{path}: not a run directory (no run.json){_runs_inside(path, root)}")
    return path


def _runs_inside(path: Path, root: str | os.PathLike[str]) -> str:
    """A hint naming the runs a folder holds (an experiment's or a sweep's), '' if none."""
    try:
        runs = sorted(p for p in path.iterdir() if p.is_dir() and is_run_dir(p))
    except OSError:
        return ""
    if not runs:
        return ""
    latest = f" or {path.name}:latest" if path.parent.resolve() == Path(root).resolve() else ""
    count = f"{len(runs)} run{'s' if len(runs) > 1 else ''}"
    return f"; it holds {count}: name one, e.g. {runs[-1]}{latest}"


#: A run in one of these states, without a checkpoint, holds nothing worth keeping (nor can
#: it be resumed: a resume starts from checkpoints/last).
PRUNABLE = ("created", "failed", "interrupted", CRASHED)
#: Created runs touched more recently than this may still be starting: never pruned.
PRUNE_GRACE_S = 120.0


def checkpoints_held(path: str | os.PathLike[str]) -> list[str]:
    """The checkpoints a run holds, of ``last`` and ``best``: ``checkpoints/<kind>.pt``, or
    RLlib's ``checkpoints/<kind>/`` folder."""
    folder = Path(path) / "checkpoints"
    return [kind for kind in CHECKPOINTS if (folder / f"{kind}.pt").is_file() or (folder / kind).is_dir()]


def has_checkpoint(path: str | os.PathLike[str]) -> bool:
    """Whether a run holds a checkpoint (:func:`checkpoints_held`)."""
    return bool(checkpoints_held(path))


def prunable(runs: list[RunInfo]) -> list[tuple[RunInfo, str]]:
    """The runs ``mazedsl runs --prune`` removes, with why: created but never trained, or
    failed, interrupted or crashed before writing any checkpoint (nothing to resume from; a
    run that wrote one keeps it)."""
    import time

    out = []
    for run in runs:
        if run.status not in PRUNABLE or has_checkpoint(run.path) or is_training(run.path):
            continue  # (a run a process trains now, e.g. one being resumed, is kept)
        if run.status == "created":  # it may be starting right now
            try:
                touched = max(p.stat().st_mtime for p in [run.path, *run.path.iterdir()])
            except OSError:
                continue
            if time.time() - touched < PRUNE_GRACE_S:
                continue
        if run.status == "created":
            why = "created, never trained"
        elif run.status == "failed":
            why = f"failed before any checkpoint: {run.raw.get('error') or 'no error recorded'}"
        else:
            why = f"{run.status} before any checkpoint: nothing to resume from"
        out.append((run, why))
    return out


def remove_run(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> None:
    """Delete a run directory, then the folders above it (up to ``root``) left empty."""
    import shutil

    path, root = Path(path), Path(root)
    shutil.rmtree(path)
    parent = path.parent
    while parent != root and root in parent.parents:
        try:
            parent.rmdir()  # only when empty
        except OSError:
            break
        parent = parent.parent
