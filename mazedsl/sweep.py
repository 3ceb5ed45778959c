"""Sweeps from experiment files (``mazedsl train --sweep/--seeds``, ``RunContext.sweep``):
every combination of sweep overrides (and seeds), each job in its own process and run
directory ``job_000``... under one sweep directory, then the results table and ``sweep.json``
of :mod:`mazedsl.run.sweeps` (the same as ``mazedsl-run -m``).

A job that fails is reported as failed, with its error; it is never scored.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Sequence

from mazedsl.run.sweeps import (SweepJob, SweepResult, collect_job, job_name, params_of,
                                sort_key)

__all__ = ["SweepJob", "SweepResult", "expand", "run_sweep", "sort_key"]

JobResult = SweepJob  # the name of earlier versions


def expand(sweep: Sequence[str], seeds: int | None) -> list[list[str]]:
    """Plain override lists for every combination of the sweep overrides and seeds."""
    from mazedsl.config import split_sweep

    points = split_sweep(list(sweep)) if sweep else [[]]
    if seeds:
        points = [p + [f"seed={s}"] for p in points for s in range(seeds)]
    return points


def run_sweep(experiment: str, sweep: Sequence[str] = (), seeds: int | None = None,
              overrides: Sequence[str] = (), jobs: int = 1, quiet: bool = False,
              sweep_dir: str | Path | None = None,
              command: Sequence[str] | None = None) -> SweepResult:
    """Run every sweep point of an experiment file; returns per-job results (best first)
    and writes ``sweep.json``. Every job is validated before any starts."""
    from mazedsl.config import apply_overrides, load_experiment

    base = load_experiment(experiment)
    if overrides:
        base = apply_overrides(base, list(overrides))
    points = expand(sweep, seeds)
    for point in points:  # validate every job before starting any
        apply_overrides(base, list(point))
    created = datetime.now()
    stamp = created.strftime("%Y%m%d-%H%M%S")
    root = Path(sweep_dir) if sweep_dir else Path(base.output_dir) / base.name / f"sweep_{stamp}_{os.getpid()}"
    root.mkdir(parents=True, exist_ok=True)

    def job(index: int, point: list[str]) -> SweepJob:
        run_dir = root / job_name(index)
        cmd = [sys.executable, "-m", "mazedsl", "train", experiment, *overrides, *point,
               "--run-dir", str(run_dir), "--json"]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        lines = [ln for ln in (proc.stderr or "").strip().splitlines() if ln.strip()]
        result = collect_job(index, run_dir, point, params_of(point), wall,
                             error=lines[-1] if lines and proc.returncode else None,
                             exit_status=proc.returncode)
        if not quiet:
            print(f"[{index + 1}/{len(points)}] {' '.join(point) or '(base)'}: {result.status}"
                  f", best eval {result.best_eval}", flush=True)
        return result

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(lambda ip: job(*ip), enumerate(points)))
    results.sort(key=sort_key)
    out = SweepResult(root, results, experiment=base.name,
                      command=list(command) if command is not None else ["mazedsl", *sys.argv[1:]],
                      created=created.isoformat(timespec="seconds"))
    out.write()
    return out
