"""Sweep results, shared by ``mazedsl train --sweep/--seeds`` (:mod:`mazedsl.sweep`) and
``mazedsl-run -m`` (:mod:`mazedsl.cli.hydra_callbacks`): job folders ``job_000``, one
``sweep.json`` schema, one results table, and mean ± std per configuration across seeds.

``sweep.json`` (schema 1)::

    {"schema": 1, "kind": "sweep", "experiment", "sweep_dir", "command", "created",
     "jobs": [{"job": "job_000", "run_dir", "overrides": [...], "params": {key: value},
               "status", "final_eval", "best_eval", "steps", "wall_s", "error"}],
     "groups": [{"params": {...without seed}, "label", "jobs": ["job_000", ...], "n",
                 "n_failed", "final_eval_mean", "final_eval_std", "best_eval_mean",
                 "best_eval_std"}]}

``overrides`` are the job's swept overrides (the command holds the fixed ones), ``params``
their values. ``wall_s``: the job's process (``mazedsl train --sweep``) or its training
(``mazedsl-run -m``, from metrics.jsonl) in wall seconds. A job is ``finished``, ``interrupted``
(with its evaluations up to then), ``failed`` (with its ``error``) or ``not run`` (an
interrupted sweep never started it); only finished jobs are scored, so a failed job never
counts as a low score. Standard deviations are sample deviations (n - 1), 0.0 for one
finished job, null for none.
"""

from __future__ import annotations

import json
import math
import statistics
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Sequence

import attrs

from mazedsl.run.files import atomic_write_json, iter_metrics

SCHEMA = 1
SEED = "seed"


def job_name(index: int) -> str:
    """``job_000``, ``job_001``, ... (the folder of job ``index``)."""
    return f"job_{index:03d}"


@attrs.define
class SweepJob:
    """One job of a sweep: its run directory, swept overrides and values, and its result."""

    job: str
    run_dir: str
    overrides: list[str]
    params: dict[str, Any]
    status: str
    final_eval: float | None
    best_eval: float | None
    steps: int
    wall_s: float | None
    error: str | None = None

    @property
    def index(self) -> int:
        """The job's number (``job_007`` -> 7)."""
        return int(self.job.rsplit("_", 1)[-1])

    @property
    def wall_time(self) -> float | None:
        return self.wall_s

    @property
    def finished(self) -> bool:
        return self.status == "finished"


@attrs.define
class SweepGroup:
    """The jobs of one configuration (same params but the seed), with mean ± std."""

    params: dict[str, Any]
    label: str
    jobs: list[str]
    n: int
    n_failed: int
    final_eval_mean: float | None
    final_eval_std: float | None
    best_eval_mean: float | None
    best_eval_std: float | None


@attrs.define
class SweepResult:
    """All jobs of a sweep, best first (failed jobs last), and their groups."""

    sweep_dir: Path
    jobs: list[SweepJob]
    experiment: str = ""
    command: list[str] = attrs.field(factory=list)
    created: str = attrs.field(factory=lambda: datetime.now().isoformat(timespec="seconds"))

    @property
    def failed(self) -> list[SweepJob]:
        return [j for j in self.jobs if not j.finished]

    @property
    def groups(self) -> list[SweepGroup]:
        return group_jobs(self.jobs)

    @property
    def seeds_vary(self) -> bool:
        """True when some configuration ran more than once (several seeds)."""
        return any(g.n > 1 for g in self.groups)

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "kind": "sweep", "experiment": self.experiment,
                "sweep_dir": str(self.sweep_dir), "command": list(self.command),
                "created": self.created, "jobs": [attrs.asdict(j) for j in self.jobs],
                "groups": [attrs.asdict(g) for g in self.groups]}

    def write(self) -> Path:
        """Write ``sweep.json`` into the sweep directory (atomically); returns its path."""
        path = Path(self.sweep_dir) / "sweep.json"
        atomic_write_json(path, self.to_json())
        return path

    def print_table(self) -> None:
        print_sweep(self)


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def final_eval(run_dir: str | Path) -> float | None:
    """The mean return of the run's last evaluation (None if it has none)."""
    evals = list(iter_metrics(Path(run_dir) / "metrics.jsonl", "eval"))
    return _finite(evals[-1].get("mean_return")) if evals else None


def _read_info(run_dir: Path) -> dict[str, Any]:
    try:
        info = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _wall_from_run(run_dir: Path, info: dict[str, Any]) -> float | None:
    """Training wall seconds: run.json's ``train_seconds`` (all its sessions, as the run table
    shows), else the last metrics line's ``time``, else run.json's start and end times."""
    seconds = _finite(info.get("train_seconds"))
    if seconds is not None and seconds > 0:
        return round(seconds, 3)
    records = list(iter_metrics(run_dir / "metrics.jsonl"))
    if records and _finite(records[-1].get("time")) is not None:
        return round(float(records[-1]["time"]), 3)
    try:
        return round((datetime.fromisoformat(info["ended"])
                      - datetime.fromisoformat(info["started"])).total_seconds(), 3)
    except (KeyError, TypeError, ValueError):
        return None


def collect_job(index: int, run_dir: str | Path, overrides: Sequence[str],
                params: dict[str, Any] | None = None, wall_s: float | None = None,
                error: str | None = None, exit_status: int | None = None) -> SweepJob:
    """A job's result from its run directory (run.json, metrics.jsonl).

    ``exit_status`` (of the job's process, when it ran as one) and ``error`` (its last error
    line) take precedence: a job that exited non-zero failed, whatever run.json says."""
    run_dir = Path(run_dir)
    info = _read_info(run_dir)
    status = str(info.get("status") or "failed")
    if exit_status == 130:
        status = "interrupted"
    elif exit_status not in (None, 0):
        status = "failed"
    elif status not in ("finished", "interrupted"):
        status = "failed"  # created / running / unknown: it did not get to the end
    if status == "interrupted":  # not an error: its run directory holds what it did (resumable)
        error = None if info else "interrupted before it made its run directory"
    elif status != "finished":
        error = error or info.get("error") or (
            f"exit status {exit_status}" if exit_status not in (None, 0)
            else f"did not finish (status {info.get('status', 'unknown')!r})")
    else:
        error = None
    scored = status in ("finished", "interrupted")  # an interrupted job's evaluations so far
    return SweepJob(job=job_name(index), run_dir=str(run_dir), overrides=list(overrides),
                    params=dict(params if params is not None else params_of(overrides)),
                    status=status, final_eval=final_eval(run_dir) if scored else None,
                    best_eval=_finite(info.get("best_eval")) if scored else None,
                    steps=_steps(info),
                    wall_s=round(wall_s, 3) if wall_s is not None else _wall_from_run(run_dir, info),
                    error=error)


def _steps(info: dict[str, Any]) -> int:
    try:
        return int(info.get("steps") or 0)
    except (TypeError, ValueError):
        return 0


def _key_value(text: str) -> tuple[str, Any]:
    from mazedsl.config.overrides import _parse

    override = _parse(text)
    key = override.key_or_group
    try:
        value = override.value()
    except Exception:  # noqa: BLE001 - a value Hydra cannot evaluate: keep its text
        value = text.split("=", 1)[-1]
    if not isinstance(value, (str, int, float, bool, type(None), list, dict)):
        value = str(value)
    return key, value


def params_of(overrides: Iterable[str]) -> dict[str, Any]:
    """``{key: value}`` of plain overrides (``algorithm.lr=1e-3`` -> ``{"algorithm.lr": 0.001}``)."""
    return dict(_key_value(text) for text in overrides)


def swept_keys(sweep_overrides: Iterable[str], job_overrides: Sequence[Sequence[str]]) -> list[str]:
    """The keys a sweep varies: those given as sweeps (``a=x,y``, ``range(...)``), and any
    whose value differs between jobs (e.g. chosen by an Optuna sweeper), in first-seen order."""
    from mazedsl.config.overrides import _parse

    keys: dict[str, None] = {}
    for text in sweep_overrides:
        override = _parse(text)
        if override.is_sweep_override():
            keys[override.key_or_group] = None
    seen: dict[str, set[str]] = {}
    for overrides in job_overrides:
        for text in overrides:
            key, value = _key_value(text)
            seen.setdefault(key, set()).add(json.dumps(value, sort_keys=True, default=str))
    counts = {key: sum(1 for ov in job_overrides if any(_key_value(t)[0] == key for t in ov))
              for key in seen}
    for key, values in seen.items():
        if len(values) > 1 or counts[key] < len(job_overrides):
            keys[key] = None
    return list(keys)


def only_swept(overrides: Sequence[str], keys: Sequence[str]) -> list[str]:
    """The overrides of ``overrides`` whose key is swept."""
    return [text for text in overrides if _key_value(text)[0] in keys]


def label_of(params: dict[str, Any]) -> str:
    """``algorithm=a2c algorithm.lr=0.001`` (``(base)`` for no params)."""
    return " ".join(f"{k}={v}" for k, v in params.items()) or "(base)"


def _mean_std(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def group_jobs(jobs: Sequence[SweepJob]) -> list[SweepGroup]:
    """Jobs grouped by their params without the seed, best mean first (all-failed last)."""
    by_key: dict[str, list[SweepJob]] = {}
    for job in sorted(jobs, key=lambda j: j.index):
        params = {k: v for k, v in job.params.items() if k != SEED}
        by_key.setdefault(json.dumps(params, sort_keys=True, default=str), []).append(job)
    groups = []
    for members in by_key.values():
        params = {k: v for k, v in members[0].params.items() if k != SEED}
        done = [j for j in members if j.finished]
        final_mean, final_std = _mean_std([j.final_eval for j in done if j.final_eval is not None])
        best_mean, best_std = _mean_std([j.best_eval for j in done if j.best_eval is not None])
        groups.append(SweepGroup(params=params, label=label_of(params), jobs=[j.job for j in members],
                                 n=len(members), n_failed=sum(j.status == "failed" for j in members),
                                 final_eval_mean=final_mean, final_eval_std=final_std,
                                 best_eval_mean=best_mean, best_eval_std=best_std))
    groups.sort(key=lambda g: (g.best_eval_mean is None,
                               -(g.best_eval_mean if g.best_eval_mean is not None else 0.0)))
    return groups


def sort_key(job: SweepJob) -> tuple[int, float, int]:
    """Finished jobs first, by best evaluation (highest first), then by job number."""
    score = job.best_eval if job.best_eval is not None else -math.inf
    return (0 if job.finished else 1, -score, job.index)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _pm(mean: float | None, std: float | None) -> str:
    return "-" if mean is None else f"{mean:.1f} ± {std or 0.0:.1f}"


def print_sweep(result: SweepResult) -> None:
    """The results table (rich): one row per job, best first; then, when seeds vary, one row
    per configuration with mean ± std over its finished jobs."""
    from mazedsl.cli.output import print_table

    jobs = sorted(result.jobs, key=sort_key)
    tally = [f"{sum(j.status == 'failed' for j in jobs)} failed"] + [  # then interrupted, not run
        f"{sum(j.status == s for j in jobs)} {s}" for s in dict.fromkeys(j.status for j in jobs)
        if s not in ("finished", "failed")]
    print_table(f"sweep {result.sweep_dir} ({len(jobs)} jobs, {', '.join(tally)})",
                ["job", "params", "status", "final eval", "best eval", "steps", "time (s)",
                 "run / error"],
                [[j.job, label_of(j.params) if j.params else " ".join(j.overrides) or "(base)",
                  j.status, _fmt(j.final_eval), _fmt(j.best_eval), j.steps,
                  "-" if j.wall_s is None else f"{j.wall_s:.1f}", j.error or j.run_dir]
                 for j in jobs])
    if result.seeds_vary:
        print_table("by configuration (mean ± std over seeds)",
                    ["configuration", "runs", "failed", "final eval", "best eval"],
                    [[g.label, g.n, g.n_failed, _pm(g.final_eval_mean, g.final_eval_std),
                      _pm(g.best_eval_mean, g.best_eval_std)] for g in result.groups])
