"""Sweeps: every combination of sweep overrides (and seeds), each job in its own process
and run directory under one sweep directory, with a results table and ``sweep.json``.

A job that fails is reported as failed, with its error; it is never scored.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

import attrs

from mazedsl.run.files import atomic_write_json, iter_metrics


@attrs.define
class JobResult:
    """One sweep job: its overrides, run directory, status and evaluation returns."""

    index: int
    overrides: list[str]
    run_dir: str
    status: str
    best_eval: float | None
    final_eval: float | None
    steps: int
    wall_time: float
    error: str | None = None


@attrs.define
class SweepResult:
    """All jobs of a sweep, sorted best first (failed jobs last)."""

    sweep_dir: Path
    jobs: list[JobResult]

    @property
    def failed(self) -> list[JobResult]:
        return [j for j in self.jobs if j.status != "finished"]

    def to_json(self) -> dict[str, Any]:
        return {"sweep_dir": str(self.sweep_dir), "jobs": [attrs.asdict(j) for j in self.jobs]}

    def print_table(self) -> None:
        from mazedsl.cli.output import fmt, print_table

        print_table(f"sweep {self.sweep_dir} ({len(self.jobs)} jobs, {len(self.failed)} failed)",
                    ["#", "overrides", "status", "best eval", "final eval", "steps", "time (s)",
                     "run / error"],
                    [[j.index, " ".join(j.overrides), j.status, fmt(j.best_eval), fmt(j.final_eval),
                      j.steps, f"{j.wall_time:.1f}", j.error or j.run_dir] for j in self.jobs])


def expand(sweep: Sequence[str], seeds: int | None) -> list[list[str]]:
    """Plain override lists for every combination of the sweep overrides and seeds."""
    from mazedsl.config import split_sweep

    points = split_sweep(list(sweep)) if sweep else [[]]
    if seeds:
        points = [p + [f"seed={s}"] for p in points for s in range(seeds)]
    return points


def sort_key(job: JobResult) -> tuple[int, float]:
    score = job.best_eval if job.best_eval is not None else float("-inf")
    return (0 if job.status == "finished" else 1, -score)


def run_sweep(experiment: str, sweep: Sequence[str] = (), seeds: int | None = None,
              overrides: Sequence[str] = (), jobs: int = 1, quiet: bool = False,
              sweep_dir: str | Path | None = None) -> SweepResult:
    """Run every sweep point of an experiment file; returns per-job results."""
    from mazedsl.config import apply_overrides, load_experiment

    base = load_experiment(experiment)
    if overrides:
        base = apply_overrides(base, list(overrides))
    points = expand(sweep, seeds)
    for point in points:  # validate every job before starting any
        apply_overrides(base, list(point))
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    root = Path(sweep_dir) if sweep_dir else Path(base.output_dir) / base.name / f"sweep_{stamp}_{os.getpid()}"
    root.mkdir(parents=True, exist_ok=True)

    def job(index: int, point: list[str]) -> JobResult:
        run_dir = root / f"job_{index:03d}"
        cmd = [sys.executable, "-m", "mazedsl", "train", experiment, *overrides, *point,
               "--run-dir", str(run_dir), "--json"]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        result = _job_result(index, point, run_dir, proc, wall)
        if not quiet:
            print(f"[{index + 1}/{len(points)}] {' '.join(point) or '(base)'}: {result.status}"
                  f", best eval {result.best_eval}", flush=True)
        return result

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(lambda ip: job(*ip), enumerate(points)))
    results.sort(key=sort_key)
    out = SweepResult(root, results)
    atomic_write_json(root / "sweep.json", {"experiment": experiment, "overrides": list(overrides),
                                            "sweep": list(sweep), "seeds": seeds, **out.to_json()})
    return out


def _job_result(index: int, point: list[str], run_dir: Path, proc: subprocess.CompletedProcess,
                wall: float) -> JobResult:
    info: dict[str, Any] = {}
    try:
        info = json.loads((run_dir / "run.json").read_text())
    except (OSError, json.JSONDecodeError):
        pass
    evals = list(iter_metrics(run_dir / "metrics.jsonl", "eval")) if run_dir.exists() else []
    status = info.get("status", "failed") if proc.returncode in (0, 130) else "failed"
    if proc.returncode == 130:
        status = "interrupted"
    error = None
    if status != "finished":
        lines = [ln for ln in (proc.stderr or "").strip().splitlines() if ln.strip()]
        error = lines[-1] if lines else info.get("error") or f"exit status {proc.returncode}"
    return JobResult(index=index, overrides=point, run_dir=str(run_dir), status=status,
                     best_eval=info.get("best_eval") if status == "finished" else None,
                     final_eval=evals[-1]["mean_return"] if evals and status == "finished" else None,
                     steps=int(info.get("steps") or 0), wall_time=wall, error=error)
