"""Finding runs: listing run directories and resolving ``latest`` / ``EXPERIMENT:latest``."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from mazedsl.errors import RunDirError

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


def is_run_dir(path: str | os.PathLike[str]) -> bool:
    return (Path(path) / "run.json").is_file()


def read_run_info(path: str | os.PathLike[str]) -> RunInfo:
    """The :class:`RunInfo` of one run directory."""
    path = Path(path)
    try:
        raw = json.loads((path / "run.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunDirError(f"{path}: not a run directory (no run.json)") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise RunDirError(f"{path}/run.json: unreadable ({exc})") from None
    started = raw.get("started")
    try:
        started_at = datetime.fromisoformat(started) if started else None
    except ValueError:
        started_at = None
    best = raw.get("best_eval")
    return RunInfo(path=path, experiment=str(raw.get("experiment", path.parent.name)),
                   algorithm=str(raw.get("algorithm", "?")), env=str(raw.get("env", "?")),
                   status=str(raw.get("status", "unknown")), steps=int(raw.get("steps") or 0),
                   best_eval=None if best is None else float(best), started=started_at, raw=raw)


def list_runs(root: str | os.PathLike[str] = DEFAULT_ROOT, experiment: str | None = None) -> list[RunInfo]:
    """Runs under ``root`` (``root/<experiment>/<run>/``, sweeps nested deeper), newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    runs = []
    for run_json in root.rglob("run.json"):
        try:
            info = read_run_info(run_json.parent)
        except RunDirError:
            continue
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


def resolve_run(ref: str | os.PathLike[str], root: str | os.PathLike[str] = DEFAULT_ROOT) -> Path:
    """A run directory from a path, a path under ``root``, ``latest`` or ``EXPERIMENT:latest``."""
    text = str(ref)
    if text == "latest" or text.endswith(":latest"):
        experiment = None if text == "latest" else text[: -len(":latest")]
        runs = list_runs(root, experiment)
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
        raise RunDirError(f"{path}: not a run directory (no run.json)")
    return path
