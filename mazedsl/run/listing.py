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
